"""Draw parameter values from a spec, reproducibly from a seed.

Each parameter has its own random stream, keyed by the seed and the parameter's name, so that
adding a parameter to a spec or overriding one range leaves every other drawn value unchanged.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

from jaxl.envs.parameterized.spec import ParameterSpec


def _stream(seed: Sequence[int], name: str) -> np.random.Generator:
    return np.random.default_rng([*seed, zlib.crc32(name.encode())])


def draw_one(parameter: ParameterSpec, seed: Sequence[int]) -> float:
    """One value of ``parameter`` from the stream ``(seed, name)``."""
    low, high = parameter.bounds()
    u = _stream(seed, parameter.name).random()
    if parameter.law == "log_uniform":
        return float(math.exp(math.log(low) + u * (math.log(high) - math.log(low))))
    return float(low + u * (high - low))


def draw(parameters: Sequence[ParameterSpec], seed: int | Sequence[int]) -> dict[str, float]:
    """Values for every parameter, ``{name: value}`` in spec order.

    :param seed: the task seed, or several integers (e.g. ``(reset_seed, task_seed)``).
    """
    seed = (seed,) if isinstance(seed, int) else tuple(seed)
    if any(s < 0 for s in seed):
        raise ValueError(f"seeds must be >= 0, got {seed}")
    return {p.name: draw_one(p, seed) for p in parameters}


def normalized_vector(parameters: Sequence[ParameterSpec], values: dict[str, float]) -> np.ndarray:
    """The values mapped to [-1, 1] over their ranges, in spec order (``float32``)."""
    return np.asarray([p.normalize(values[p.name]) for p in parameters], np.float32)
