"""On-policy rollout collection shared by PPO, A2C and REINFORCE."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxl.buffers import Transitions
from jaxl.envs import VectorCollector
from jaxl.normalization import RunningMeanStdState


def collect_rollout(
    collector: VectorCollector,
    act,
    params: dict,
    obs_norm: RunningMeanStdState | None,
    key: jax.Array,
    num_steps: int,
) -> tuple[Transitions, jax.Array]:
    """Step the collector's envs ``num_steps`` times with the policy ``act`` (from
    :func:`~jaxl.learners.base.make_act`).

    Stored actions are what the policy produced (log-probabilities are computed for them), not
    the env actions: continuous ones before clipping or rescaling to the bounds, discrete ones
    before the action space's ``start`` is added.

    :return: a time-major rollout (every field ``[num_steps, num_envs, ...]``) and the next key.
    """
    keys = np.asarray(jax.random.split(key, num_steps + 1))
    steps = []
    for t in range(num_steps):
        action, env_action = act(params, obs_norm, collector.obs, keys[t + 1])
        step = collector.step(np.asarray(env_action))
        steps.append(step._replace(action=np.asarray(action)))
    rollout = Transitions(*(np.stack(field) for field in zip(*steps, strict=True)))
    return rollout, jnp.asarray(keys[0])
