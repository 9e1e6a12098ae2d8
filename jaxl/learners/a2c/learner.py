"""A2C (Mnih et al., 2016, synchronous): bootstrapped n-step returns with GAE."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxl.buffers import Transitions
from jaxl.config.schema import A2CConfig
from jaxl.learners.policy_gradient import PolicyGradientLearner
from jaxl.returns import gae_advantages


def gae_estimate(
    rollout: Transitions, values: jax.Array, next_values: jax.Array, hp: A2CConfig
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """GAE advantages and returns over the rollout, bootstrapping from ``V`` at its end.

    :return: ``(advantage, target, weight)``, each ``[T, N]``; every weight is 1.
    """
    advantage, target = gae_advantages(
        rollout.reward.astype(jnp.float32),
        values,
        next_values,
        rollout.terminated,
        rollout.truncated,
        hp.gamma,
        hp.gae_lambda,
    )
    return advantage, target, jnp.ones_like(advantage)


class A2CLearner(PolicyGradientLearner):
    """A2C on vectorised envs: one gradient step per ``num_steps`` x ``num_envs`` rollout."""

    estimator = staticmethod(gae_estimate)
