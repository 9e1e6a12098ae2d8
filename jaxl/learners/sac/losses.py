"""SAC's losses and target update: pure functions of parameters and one sampled batch."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxl.buffers import Transitions
from jaxl.models.factory import Networks


def critic_loss(
    q_params: dict,
    target_q_params: dict,
    policy_params: dict,
    log_alpha: jax.Array,
    batch: Transitions,
    key: jax.Array,
    networks: Networks,
    gamma: float,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Soft Bellman error of every ensemble member against the clipped double-Q target.

    .. math:: y = r + \\gamma (1 - d^{term}) \\big(\\min_i \\bar Q_i(s', a') - \\alpha \\log
              \\pi(a' | s')\\big), \\quad a' \\sim \\pi(\\cdot | s')

    Only termination cuts the bootstrap: a transition that ended by time limit still
    bootstraps from its (true, final) next observation. The loss is
    :math:`\\tfrac12 \\sum_i \\mathbb{E}[(Q_i(s, a) - y)^2]`.
    """
    next_action, next_log_prob = networks.distribution(
        {"policy": policy_params}, batch.next_obs
    ).sample_and_log_prob(seed=key)
    next_q = networks.q_values(target_q_params, batch.next_obs, next_action).min(axis=0)
    soft_next = next_q - jnp.exp(log_alpha) * next_log_prob
    not_terminated = 1.0 - batch.terminated.astype(jnp.float32)
    target = jax.lax.stop_gradient(batch.reward + gamma * not_terminated * soft_next)
    q = networks.q_values(q_params, batch.obs, batch.action)
    loss = 0.5 * ((q - target[None]) ** 2).mean(axis=1).sum()
    return loss, {"q_loss": loss, "q_mean": q.mean(), "target_q_mean": target.mean()}


def actor_loss(
    policy_params: dict,
    q_params: dict,
    log_alpha: jax.Array,
    obs: jax.Array,
    key: jax.Array,
    networks: Networks,
) -> tuple[jax.Array, jax.Array]:
    """:math:`\\mathbb{E}[\\alpha \\log \\pi(a|s) - \\min_i Q_i(s, a)]` with reparameterised
    :math:`a \\sim \\pi(\\cdot|s)`.

    :return: ``(loss, log_prob)``; ``log_prob`` (shape ``[B]``) feeds the temperature loss.
    """
    action, log_prob = networks.distribution({"policy": policy_params}, obs).sample_and_log_prob(
        seed=key
    )
    q = networks.q_values(q_params, obs, action).min(axis=0)
    return (jnp.exp(log_alpha) * log_prob - q).mean(), log_prob


def temperature_loss(log_alpha: jax.Array, log_prob: jax.Array, target_entropy: float) -> jax.Array:
    """:math:`-\\log\\alpha \\, \\mathbb{E}[\\log \\pi(a|s) + \\bar H]`: raises the temperature
    when the policy's entropy is below the target, lowers it when above."""
    return -(log_alpha * jax.lax.stop_gradient(log_prob + target_entropy)).mean()


def polyak_update(target: dict, online: dict, tau: float) -> dict:
    """``tau * online + (1 - tau) * target``, leaf by leaf."""
    return jax.tree.map(lambda t, o: tau * o + (1.0 - tau) * t, target, online)
