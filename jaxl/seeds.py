"""Run, evaluation and episode seeds: integers from 0 to :data:`MAX_SEED`.

JAX's ``PRNGKey`` takes a signed 64-bit integer and NumPy's generators and Gymnasium's resets
refuse negative seeds, so a seed outside this range would fail deep inside a run (or, for a
negative one, be written into the run directory's name as ``seed-1``, which reads as seed 1).
"""

from __future__ import annotations

import numbers

MAX_SEED = 2**63 - 1
"""The largest seed, the largest signed 64-bit integer."""


def check_seed(value: int, name: str = "seed") -> int:
    """``value`` as an ``int`` when it is a valid seed.

    :param name: what the caller calls the seed, for the error message.
    :raises ValueError: ``value`` is not an integer from 0 to :data:`MAX_SEED`.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected an integer seed, got {value!r}")
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"{name}: expected an integer from 0 to 2**63 - 1, got {value}")
    return int(value)
