"""Return and advantage estimators shared by the policy-gradient learners."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def gae_advantages(
    rewards: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    terminated: jax.Array,
    truncated: jax.Array,
    gamma: float,
    gae_lambda: float,
) -> tuple[jax.Array, jax.Array]:
    """Generalised advantage estimation (Schulman et al., 2016) over a time-major rollout.

    All inputs have shape ``[T, N]``. ``next_values[t]`` is ``V`` of the true next observation of
    step ``t`` (the final observation when the episode ended there). Termination cuts the
    bootstrap; truncation keeps it (``V`` of the final observation) but, like termination, stops
    the λ-trace from flowing into the next episode. The last step bootstraps from ``next_values``.

    .. math:: \\delta_t = r_t + \\gamma (1 - d^{term}_t) V(s'_t) - V(s_t), \\quad
              A_t = \\delta_t + \\gamma \\lambda (1 - d_t) A_{t+1}

    :return: ``(advantages, returns)`` with ``returns = advantages + values``.
    """
    not_terminated = 1.0 - terminated.astype(values.dtype)
    not_done = 1.0 - jnp.logical_or(terminated, truncated).astype(values.dtype)
    deltas = rewards + gamma * next_values * not_terminated - values

    def backward(
        carry: jax.Array, step: tuple[jax.Array, jax.Array]
    ) -> tuple[jax.Array, jax.Array]:
        delta, continues = step
        advantage = delta + gamma * gae_lambda * continues * carry
        return advantage, advantage

    _, advantages = jax.lax.scan(
        backward, jnp.zeros_like(deltas[0]), (deltas, not_done), reverse=True
    )
    return advantages, advantages + values
