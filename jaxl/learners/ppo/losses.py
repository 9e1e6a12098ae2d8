"""The PPO loss: a pure function of parameters and one minibatch."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxl.models.factory import Networks
from jaxl.models.policies import entropy as policy_entropy


class PPOBatch(NamedTuple):
    """One minibatch, flattened over time and envs (every field has leading size ``B``)."""

    obs: jax.Array
    action: jax.Array
    old_log_prob: jax.Array
    old_value: jax.Array
    advantage: jax.Array
    target: jax.Array


def ppo_loss(
    params: dict,
    batch: PPOBatch,
    key: jax.Array,
    networks: Networks,
    *,
    clip_eps: float,
    clip_value: float | None,
    vf_coef: float,
    ent_coef: float,
    normalize_advantage: bool,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Clipped surrogate + value loss - entropy bonus (Schulman et al., 2017).

    .. math:: L = -\\mathbb{E}[\\min(r A, \\mathrm{clip}(r, 1-\\epsilon, 1+\\epsilon) A)]
              + c_v \\tfrac12 \\mathbb{E}[(V - R)^2] - c_e \\mathbb{E}[H]

    All per-sample quantities have shape ``[B]``; there is no trailing axis to broadcast.
    ``key`` draws the samples of the entropy estimate of heads without a closed-form entropy
    (:func:`~jaxl.models.policies.entropy`).

    :return: ``(loss, metrics)``.
    """
    dist = networks.distribution(params, batch.obs)
    log_prob = dist.log_prob(batch.action)
    log_ratio = log_prob - batch.old_log_prob
    ratio = jnp.exp(log_ratio)
    advantage = batch.advantage
    if normalize_advantage:
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
    surrogate = jnp.minimum(
        ratio * advantage, jnp.clip(ratio, 1 - clip_eps, 1 + clip_eps) * advantage
    )
    policy_loss = -surrogate.mean()

    value = networks.state_value(params, batch.obs)
    value_error = (value - batch.target) ** 2
    if clip_value is not None:
        clipped = batch.old_value + jnp.clip(value - batch.old_value, -clip_value, clip_value)
        value_error = jnp.maximum(value_error, (clipped - batch.target) ** 2)
    value_loss = 0.5 * value_error.mean()

    entropy = policy_entropy(dist, key).mean()
    loss = policy_loss + vf_coef * value_loss - ent_coef * entropy
    metrics = {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "entropy": entropy,
        "approx_kl": ((ratio - 1.0) - log_ratio).mean(),
        "clip_fraction": (jnp.abs(ratio - 1.0) > clip_eps).mean(),
    }
    return loss, metrics
