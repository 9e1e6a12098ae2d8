"""Behaviour-cloning losses: pure functions of parameters and a batch of (obs, action) pairs."""

from __future__ import annotations

import jax

from jaxl.models.factory import Networks


def bc_loss(
    params: dict, obs: jax.Array, action: jax.Array, networks: Networks, *, loss: str
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Negative log-likelihood of the demonstrated actions, or squared error of the policy mode.

    ``nll`` is the cross-entropy for categorical policies and the Gaussian negative
    log-likelihood for Gaussian ones; ``mse`` regresses the mode (continuous actions only).
    Per-sample terms have shape ``[B]``.

    :return: ``(loss, metrics)``.
    """
    if loss == "mse":
        error = ((networks.mode(params, obs) - action) ** 2).sum(-1)
        value = error.mean()
        return value, {"bc_loss": value}
    dist = networks.distribution(params, obs)
    value = -dist.log_prob(action).mean()
    metrics = {"bc_loss": value}
    if networks.head.kind == "categorical":
        metrics["accuracy"] = (networks.mode(params, obs) == action).mean()
    return value, metrics


def squashed_target(action: jax.Array, low: jax.Array, high: jax.Array) -> jax.Array:
    """Map env actions from their bounds to ``[-1, 1]``, the range of a tanh-squashed policy
    (whose ``log_prob`` takes care of actions on the edge)."""
    return 2.0 * (action - low) / (high - low) - 1.0
