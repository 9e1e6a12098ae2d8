"""Run, evaluation and episode seeds: integers from 0 to :data:`~jaxl.seeds.MAX_SEED`.

JAX's ``PRNGKey`` takes a signed 64-bit integer and NumPy's generators and Gymnasium's resets
refuse negative seeds, so a seed outside this range would fail deep inside a run (or, for a
negative one, be written into the run directory's name as ``seed-1``, which reads as seed 1).
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

from jaxl.errors import InputError

if TYPE_CHECKING:
    import jax

MAX_SEED = 2**63 - 1
"""The largest seed, the largest signed 64-bit integer."""


def check_seed(value: int, name: str = "seed") -> int:
    """``value`` as an ``int`` when it is a valid seed.

    :param name: what the caller calls the seed, for the error message.
    :raises ValueError: ``value`` is not an integer from 0 to :data:`~jaxl.seeds.MAX_SEED`.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name}: expected an integer seed, got {value!r}")
    if not 0 <= value <= MAX_SEED:
        raise InputError(f"{name}: expected an integer from 0 to 2**63 - 1, got {value}")
    return int(value)


def prng_key(seed: int) -> jax.Array:
    """The JAX PRNG key of a seed, from all of its 64 bits: the key ``jax.random.PRNGKey``
    gives in 64-bit mode, whether that mode is on or not.

    Without 64-bit mode, ``jax.random.PRNGKey`` keeps only a seed's low 32 bits, so seeds
    ``5`` and ``2**32 + 5`` would start from the same key. A threefry key is two 32-bit words,
    the seed's high and low halves; here the high word is set from the seed's high 32 bits.
    Seeds below ``2**32`` get exactly ``PRNGKey(seed)``. (Folding the high bits into the low
    ones' key, as an earlier version did, gives a key that ``split`` of the low seed's key also
    gives, so two runs would share random streams.)
    """
    import jax
    import numpy as np

    key = jax.random.PRNGKey(seed & 0xFFFF_FFFF)
    high = seed >> 32
    return key if high == 0 else key.at[0].set(np.uint32(high))
