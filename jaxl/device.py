"""Select the JAX device from ``--device cpu|gpu|gpu:IDS`` before JAX is imported."""

from __future__ import annotations

import os
import re

from jaxl.errors import InputError

_GPU = re.compile(r"^gpu(?::(\d+(?:,\d+)*))?$")


class DeviceError(InputError):
    """The ``--device`` value is malformed or the device is not available."""


def configure_device(spec: str) -> None:
    """Set the environment so JAX uses ``spec``; must run before ``import jax``.

    ``cpu`` forces the CPU backend; ``gpu`` uses CUDA; ``gpu:0,1`` also restricts the visible
    GPUs. Training runs on the first visible device.

    :raises DeviceError: ``spec`` is not one of those forms.
    """
    if spec == "cpu":
        os.environ["JAX_PLATFORMS"] = "cpu"
        return
    match = _GPU.match(spec)
    if not match:
        raise DeviceError(f"--device: expected cpu, gpu or gpu:IDS (e.g. gpu:0,1), got {spec!r}")
    os.environ["JAX_PLATFORMS"] = "cuda"
    if match.group(1):
        os.environ["CUDA_VISIBLE_DEVICES"] = match.group(1)


def check_device(spec: str) -> None:
    """After JAX is imported: fail clearly if a GPU was asked for and none is usable."""
    if spec == "cpu":
        return
    import jax

    try:
        jax.devices("cuda")
    except (RuntimeError, AssertionError) as error:
        # With no NVIDIA GPU visible, jax 0.10 skips the CUDA backend and then fails an internal
        # assertion (no message) instead of raising a RuntimeError.
        reason = str(error) or "no NVIDIA GPU is visible"
        raise DeviceError(
            f"--device {spec}: no usable CUDA GPU for JAX ({reason}); "
            "install the GPU extra (pip install 'jaxl[gpu]') or use --device cpu"
        ) from None
