"""Policy heads: turn network outputs into distrax distributions and env actions."""

from __future__ import annotations

from dataclasses import dataclass

import distrax
import jax
import jax.numpy as jnp

from jaxl.config.schema import LOG_STD_MAX, LOG_STD_MIN

SQUASH_EDGE = 1.0 - 1e-6
"""Actions of a tanh-squashed policy are clipped to ``[-SQUASH_EDGE, SQUASH_EDGE]`` before their
log-probability is computed (the same margin as SB3's ``TanhBijector``)."""


class SquashedGaussian(distrax.Transformed):
    """A diagonal Gaussian pushed through ``tanh``, whose
    :meth:`~jaxl.models.policies.SquashedGaussian.log_prob` accepts actions on the edge of
    ``[-1, 1]``.

    In float32, ``tanh(u)`` is exactly ``±1`` for ``|u|`` above about 9, and the inverse of such
    an action is infinite, so distrax's ``log_prob`` would be NaN: a stored action of a saturated
    policy (PPO, A2C, REINFORCE recompute ``log π(a)`` from it) or an expert action on the bound
    (behaviour cloning) would turn the loss and then every parameter into NaN. Such actions are
    taken as ``±SQUASH_EDGE`` instead. ``sample_and_log_prob`` (SAC) works on the pre-tanh sample
    and needs no clipping.
    """

    def __init__(self, mean: jax.Array, std: jax.Array) -> None:
        super().__init__(
            distrax.MultivariateNormalDiag(mean, std), distrax.Block(distrax.Tanh(), ndims=1)
        )

    def log_prob(self, value: jax.Array) -> jax.Array:
        """``log π(value)`` with ``value`` clipped to ``[-SQUASH_EDGE, SQUASH_EDGE]``."""
        return super().log_prob(jnp.clip(value, -SQUASH_EDGE, SQUASH_EDGE))


ENTROPY_STREAM = 0x656E74
"""``jax.random.fold_in`` data that derives the key of :func:`entropy`'s samples from a key a
learner already holds, without drawing from that key's own stream: results with closed-form
heads stay what they were without it."""


def entropy(dist: distrax.Distribution, key: jax.Array) -> jax.Array:
    """The entropy of each distribution of a batch, shape ``[B]``, for an entropy bonus.

    The closed form where distrax has one. A tanh-squashed Gaussian has none; it gets the
    one-sample estimate :math:`-\\log \\pi(\\tilde a|s)` with :math:`\\tilde a` drawn afresh
    from the distribution itself, reparameterised (SAC's estimate). That is unbiased in value and
    in gradient. The log-probability of the rollout's own actions is unbiased in value too, but
    its expected gradient is zero at the parameters that drew them (the score function has mean
    zero), so a bonus built on it would do nothing on the first gradient step from a rollout,
    the only one REINFORCE and A2C take.

    :param dist: the policy's distribution for a batch of observations.
    :param key: draws the samples of the estimate (unused when there is a closed form).
    """
    try:
        return dist.entropy()
    except NotImplementedError:
        _, log_prob = dist.sample_and_log_prob(seed=key)
        return -log_prob


@dataclass(frozen=True)
class PolicyHead:
    """How network outputs become a distribution over actions (a static, hashable description).

    :param kind: ``categorical``, ``gaussian``, ``squashed_gaussian`` or ``deterministic``.
    :param min_std: added to the standard deviation of Gaussian heads.
    """

    kind: str
    min_std: float = 1e-6

    def distribution(self, head: jax.Array, log_std: jax.Array | None) -> distrax.Distribution:
        """The action distribution for one batch of head outputs.

        Continuous distributions are over the whole action vector, so ``log_prob`` has shape ``[B]``.
        """
        if self.kind == "categorical":
            return distrax.Categorical(logits=head)
        if self.kind == "deterministic":
            return distrax.Independent(distrax.Deterministic(head), 1)
        std = jnp.exp(jnp.clip(log_std, LOG_STD_MIN, LOG_STD_MAX)) + self.min_std
        if self.kind == "gaussian":
            return distrax.MultivariateNormalDiag(head, std)
        return SquashedGaussian(head, std)

    def mode(self, head: jax.Array) -> jax.Array:
        """The most likely action (argmax, mean, or tanh of the mean)."""
        if self.kind == "categorical":
            return jnp.argmax(head, axis=-1)
        if self.kind == "squashed_gaussian":
            return jnp.tanh(head)
        return head
