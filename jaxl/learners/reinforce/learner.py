"""REINFORCE (Williams, 1992) with reward-to-go and an optional learned baseline."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxl.buffers import Transitions
from jaxl.config.schema import REINFORCEConfig
from jaxl.learners.policy_gradient import PolicyGradientLearner
from jaxl.returns import gae_advantages


def reward_to_go(
    rollout: Transitions, values: jax.Array, next_values: jax.Array, hp: REINFORCEConfig
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Monte Carlo returns :math:`G_t = \\sum_k \\gamma^k r_{t+k}` to the end of each episode.

    An episode cut by its time limit bootstraps from ``V`` of its final observation (zero without
    a baseline); termination ends the sum. Steps whose episode has not ended by the end of the
    rollout have no complete return and get weight 0.

    :return: ``(G - V(s), G, weight)``, each ``[T, N]``.
    """
    truncated = rollout.truncated.astype(jnp.float32)
    # With zero "values", GAE at lambda = 1 is the discounted sum of rewards plus the bootstrap
    # term, which is kept only where the episode was truncated.
    returns, _ = gae_advantages(
        rollout.reward.astype(jnp.float32),
        jnp.zeros_like(values),
        next_values * truncated,
        rollout.terminated,
        rollout.truncated,
        hp.gamma,
        1.0,
    )
    done = jnp.logical_or(rollout.terminated, rollout.truncated)
    ends_later = jnp.flip(jnp.cumsum(jnp.flip(done, 0), 0), 0) > 0
    return returns - values, returns, ends_later.astype(jnp.float32)


class REINFORCELearner(PolicyGradientLearner):
    """REINFORCE on vectorised envs: one gradient step per rollout of complete-return steps."""

    estimator = staticmethod(reward_to_go)

    @staticmethod
    def uses_value(hp: REINFORCEConfig) -> bool:
        """A value network only as the optional baseline."""
        return hp.baseline
