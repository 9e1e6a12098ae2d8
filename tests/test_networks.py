"""Network initialisation: orthogonal initialisers stay deadlock-free and exact under vmap."""

from __future__ import annotations

import re

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from conftest import CONFIGS

from jaxl.config import load_config
from jaxl.models.factory import make_networks
from jaxl.models.networks import orthogonal

LAPACK_CALL = re.compile(r"custom_call @(lapack_\w+)\(.*num_batch_dims = \"(\d+)\"")

HALFCHEETAH_OBS = gym.spaces.Box(-np.inf, np.inf, (17,), np.float32)
HALFCHEETAH_ACTIONS = gym.spaces.Box(-1.0, 1.0, (6,), np.float32)


def _lapack_calls(fn, *args) -> list[tuple[str, int]]:
    """``(target, batch dims)`` of every LAPACK custom call in ``fn``'s lowered program."""
    text = jax.jit(fn).lower(*args).as_text()
    return [(name, int(dims)) for name, dims in LAPACK_CALL.findall(text)]


def test_vmapped_initialisation_factorizes_one_matrix_per_lapack_call():
    """jaxlib 0.10.2 runs a batched LAPACK call by blocking an XLA CPU pool thread on chunks it
    queues on the same pool; two at once deadlocked SAC's initialisation on a 2-core machine
    (about one ``jaxl eval`` in ten hung). No initialisation may emit a batched QR: not the twin
    Q ensemble, and not networks vmapped over seeds."""
    config = load_config(CONFIGS / "rl" / "halfcheetah-sac.json")
    networks = make_networks(
        config.model, HALFCHEETAH_ACTIONS, with_q=True, continuous_default="squashed_gaussian"
    )
    obs = jnp.zeros((1, *HALFCHEETAH_OBS.shape))
    one_seed = _lapack_calls(networks.init, jax.random.PRNGKey(0), obs)
    seeds = jax.random.split(jax.random.PRNGKey(0), 3)
    three_seeds = _lapack_calls(jax.vmap(networks.init, in_axes=(0, None)), seeds, obs)
    # (Same-shaped kernels share one lowered function, so the calls are not one per layer.)
    for calls in (one_seed, three_seeds):
        assert {name for name, _ in calls} == {"lapack_sgeqrf_ffi", "lapack_sorgqr_ffi"}
    assert [dims for _, dims in one_seed + three_seeds if dims] == []


def test_orthogonal_under_vmap_equals_one_key_at_a_time():
    """The sequential batching rule changes how the QRs run, not what they give: bit-identical
    to Flax's initializer called once per key, including under nested vmap."""
    keys = jax.random.split(jax.random.PRNGKey(7), 6).reshape(2, 3, 2)
    shape = (24, 10)
    expected = np.stack(
        [np.stack([nn.initializers.orthogonal(0.5)(key, shape) for key in row]) for row in keys]
    )
    init = orthogonal(0.5)
    batched = jax.jit(jax.vmap(jax.vmap(lambda key: init(key, shape))))(keys)
    np.testing.assert_array_equal(np.asarray(batched), expected)
    np.testing.assert_array_equal(np.asarray(init(keys[0, 0], shape)), expected[0, 0])
