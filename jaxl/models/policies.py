"""Policy heads: turn network outputs into distrax distributions and env actions."""

from __future__ import annotations

from dataclasses import dataclass

import distrax
import jax
import jax.numpy as jnp

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0


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
        normal = distrax.MultivariateNormalDiag(head, std)
        if self.kind == "gaussian":
            return normal
        return distrax.Transformed(normal, distrax.Block(distrax.Tanh(), ndims=1))

    def mode(self, head: jax.Array) -> jax.Array:
        """The most likely action (argmax, mean, or tanh of the mean)."""
        if self.kind == "categorical":
            return jnp.argmax(head, axis=-1)
        if self.kind == "squashed_gaussian":
            return jnp.tanh(head)
        return head
