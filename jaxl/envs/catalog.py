"""What ``jaxl envs list|show|render`` report: the parameterized envs, their parameters, and
pictures of their variants."""

from __future__ import annotations

import gc
import math
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from jaxl.envs.make import EnvError, unknown_env_message
from jaxl.envs.mujoco_warnings import dropping_mujoco_warnings
from jaxl.envs.parameterized import PARAMETERIZED_ENVS, load_env_spec
from jaxl.envs.parameterized.spec import ParameterSpec, SpecError
from jaxl.errors import InputError
from jaxl.offscreen_gl import RENDERER_HELP
from jaxl.seeds import check_seed


def _check_id(env_id: str) -> None:
    if env_id not in PARAMETERIZED_ENVS:
        message = unknown_env_message(env_id) or f"{env_id!r} is not a parameterized env"
        raise EnvError(f"{message}; `jaxl envs list` names the parameterized envs")


def target(parameter: ParameterSpec) -> str:
    """What a parameter edits, e.g. ``geom foot_geom size[0]`` or ``option gravity[2]``."""
    parts = [parameter.element]
    if parameter.element_name:
        parts.append(parameter.element_name)
    component = "" if parameter.component is None else f"[{parameter.component}]"
    parts.append(parameter.attribute + component)
    return " ".join(parts)


def list_envs() -> list[dict[str, Any]]:
    """One row per parameterized env: id, kind, base and parameter names (from the shipped specs)."""
    rows = []
    for env_id in PARAMETERIZED_ENVS:
        spec = load_env_spec(env_id)
        rows.append(
            {"env_id": env_id, "kind": spec.kind, "base": spec.base, "parameters": spec.names()}
        )
    return rows


def show_env(
    env_id: str, task_seed: int | None = None, env_kwargs: dict | None = None
) -> list[dict[str, Any]]:
    """Each parameter of ``env_id``: target, default, range, law and (with ``task_seed``) the
    value drawn, read back from the built env where the compiled model stores it (``read_back``;
    a geom's density, say, only shows in its body's mass, so the drawn value is given)."""
    _check_id(env_id)
    with dropping_mujoco_warnings():
        env = gym.make(env_id, task_seed=task_seed, **(env_kwargs or {}))
    try:
        unwrapped = env.unwrapped
        rows = []
        for parameter in unwrapped.spec_params.parameters:
            low, high = parameter.bounds()
            try:
                value, read_back = unwrapped.model_value(parameter.name), True
            except SpecError:  # not stored as such in the compiled model
                value, read_back = unwrapped.task_params[parameter.name], False
            rows.append(
                {
                    "name": parameter.name,
                    "target": target(parameter),
                    "default": parameter.default,
                    "low": low,
                    "high": high,
                    "law": parameter.law,
                    "value": value,
                    "read_back": read_back,
                    "description": parameter.description,
                }
            )
        return rows
    finally:
        env.close()


def specs_table_rst() -> str:
    """An reStructuredText table of every parameterized env's parameters, from the shipped specs
    (the docs' environment table is generated with this)."""

    def number(value: float | None) -> str:
        return "model" if value is None else f"{value:.4g}"

    lines = []
    for env_id in PARAMETERIZED_ENVS:
        spec = load_env_spec(env_id)
        lines += [env_id, "^" * len(env_id), "", f"Base: ``{spec.base}`` ({spec.kind}). "]
        lines[-1] += spec.description
        lines += [
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "   :widths: 22 30 12 22 14",
            "",
            "   * - parameter",
            "     - edits",
            "     - default",
            "     - range",
            "     - law",
        ]
        for parameter in spec.parameters:
            low, high = parameter.range
            scale = " x default" if parameter.range_type == "scale" else ""
            lines += [
                f"   * - ``{parameter.name}``",
                f"     - {target(parameter)}",
                f"     - {number(parameter.default)}",
                f"     - [{number(low)}, {number(high)}]{scale}",
                f"     - {parameter.law}",
            ]
        lines.append("")
    return "\n".join(lines)


def _frame(env_id: str, task_seed: int, width: int, height: int) -> np.ndarray:
    kwargs: dict[str, Any] = {"render_mode": "rgb_array", "task_seed": task_seed}
    if PARAMETERIZED_ENVS[env_id].physics.__name__ in ("MujocoPhysics", "DMCPhysics"):
        kwargs.update(width=width, height=height)  # the others draw at their own size
    with dropping_mujoco_warnings():
        env = gym.make(env_id, **kwargs)
    try:
        env.reset(seed=0)
        return np.asarray(env.render())
    finally:
        env.close()


MAX_PIXELS = 4096
"""The largest frame width or height :func:`render_variants` draws."""


def check_frame_size(size: int, name: str) -> int:
    """``size`` when it is a frame width or height from 1 to :data:`MAX_PIXELS`.

    :raises ValueError: naming ``name``.
    """
    if not 0 < size <= MAX_PIXELS:
        raise InputError(f"{name}: expected a number of pixels from 1 to {MAX_PIXELS}, got {size}")
    return size


_HALF_BUILT_RENDERERS = ("MjrContext.__del__", "OffScreenViewer.__del__")
"""The ``__del__`` methods that raise when rendering failed half-way through its set-up."""


def _frame_or_failure(env_id: str, task_seed: int, width: int, height: int) -> np.ndarray | str:
    """:func:`_frame`, or why it failed (the end of a sentence that starts "cannot render ...").

    Without a usable OpenGL backend, GLFW warns that there is no display and that it is not
    initialised, and the half-built ``MjrContext`` of dm_control or ``OffScreenViewer`` of
    Gymnasium raises in ``__del__`` once the failed attempt is dropped (Python prints that as
    "Exception ignored"). None of it says more than
    :data:`~jaxl.offscreen_gl.RENDERER_HELP`, so it is kept off stderr while the frame is
    rendered and the failed attempt is cleaned up.
    """
    previous_hook = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if getattr(unraisable.object, "__qualname__", None) not in _HALF_BUILT_RENDERERS:
            previous_hook(unraisable)

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="glfw")
        sys.unraisablehook = hook
        try:
            try:
                return _frame(env_id, task_seed, width, height)
            except gym.error.DependencyNotInstalled as error:
                failure = f": {error}"
            except Exception as error:  # OpenGL set-up fails in many ways without a renderer
                failure = f" offscreen ({type(error).__name__}: {error}). {RENDERER_HELP}"
            gc.collect()  # the failed attempt's objects, now unreferenced
            return failure
        finally:
            sys.unraisablehook = previous_hook


def render_variants(
    env_id: str,
    task_seeds: Sequence[int],
    out: str | os.PathLike[str],
    width: int = 320,
    height: int = 240,
) -> list[dict[str, Any]]:
    """Render the first frame of each variant side by side into one image.

    :return: each variant's task seed and parameters.
    :raises EnvError: the env is unknown or cannot be rendered here (the message says how to
        install an offscreen renderer).
    :raises ValueError: ``out`` cannot name an image, a task seed is out of range, or the frame
        size is not from 1 to :data:`MAX_PIXELS` (all checked before anything is rendered).
    """
    from jaxl.plotting import check_image_path

    _check_id(env_id)
    if not task_seeds:
        raise EnvError("--task-seeds: give at least one task seed")
    for seed in task_seeds:
        check_seed(seed, "--task-seeds")
    for name, size in (("--width", width), ("--height", height)):
        check_frame_size(size, name)
    check_image_path(out)
    frames = []
    for seed in task_seeds:
        frame = _frame_or_failure(env_id, seed, width, height)
        if isinstance(frame, str):
            raise EnvError(f"cannot render {env_id}{frame}")
        frames.append(frame)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from jaxl.plotting import save_figure

    columns = min(len(frames), 4)
    rows = math.ceil(len(frames) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.8 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    variants = []
    for axis, seed, frame in zip(axes.flat, task_seeds, frames, strict=False):
        axis.imshow(frame)
        axis.set_title(f"task seed {seed}", fontsize="small")
        variants.append({"task_seed": seed, "parameters": show_env(env_id, seed)})
    figure.suptitle(env_id)
    figure.tight_layout()
    save_figure(figure, out)
    return variants
