"""Vanilla policy gradient, shared by REINFORCE and A2C: one gradient step per on-policy rollout.

The two algorithms differ only in how a rollout becomes advantages and value targets (an
:data:`Estimator`): REINFORCE uses Monte Carlo reward-to-go, A2C bootstrapped n-step returns with
GAE. Everything else, the loss, the jitted update and the learner, is here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import struct

from jaxl.buffers import Transitions
from jaxl.config.schema import A2CConfig, ExperimentConfig, REINFORCEConfig
from jaxl.learners.base import OnlineLearner, make_act, policy_from_act
from jaxl.learners.rollout import collect_rollout
from jaxl.models.factory import Networks, example_obs, make_networks, require_log_prob
from jaxl.models.policies import ENTROPY_STREAM
from jaxl.models.policies import entropy as policy_entropy
from jaxl.optimizers import make_optimizer, scheduled_steps
from jaxl.seeds import prng_key

PGConfig = REINFORCEConfig | A2CConfig


class PGBatch(NamedTuple):
    """A flattened rollout (every field has leading size ``B``) with its advantage estimates.

    ``weight`` is 1 for samples that enter the loss and 0 for those that do not (REINFORCE's
    steps whose return is incomplete).
    """

    obs: jax.Array
    action: jax.Array
    advantage: jax.Array
    target: jax.Array
    weight: jax.Array


Estimator = Callable[[Transitions, jax.Array, jax.Array, PGConfig], tuple[jax.Array, ...]]
"""``(rollout, values, next_values, hp) -> (advantage, target, weight)``, all ``[T, N]``;
``values`` and ``next_values`` are zeros when the learner has no value network."""


@struct.dataclass
class PGState:
    """Everything REINFORCE/A2C change while they learn; saved whole in checkpoints."""

    params: dict
    opt_state: optax.OptState
    act_key: jax.Array
    update_count: jax.Array
    env_steps: jax.Array


def _weighted_mean(x: jax.Array, weight: jax.Array) -> jax.Array:
    return (x * weight).sum() / jnp.maximum(weight.sum(), 1.0)


def pg_loss(
    params: dict,
    batch: PGBatch,
    key: jax.Array,
    networks: Networks,
    *,
    vf_coef: float,
    ent_coef: float,
    normalize_advantage: bool,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """:math:`-\\mathbb{E}_w[\\log\\pi(a|s) A] + c_v \\tfrac12 \\mathbb{E}_w[(V(s) - R)^2]
    - c_e \\mathbb{E}_w[H]`, expectations weighted by ``batch.weight``.

    Every per-sample quantity has shape ``[B]``; the value term is dropped when there is no value
    network. ``key`` draws the samples of the entropy estimate of heads without a closed-form
    entropy (:func:`~jaxl.models.policies.entropy`).
    """
    weight = batch.weight
    dist = networks.distribution(params, batch.obs)
    log_prob = dist.log_prob(batch.action)
    advantage = jax.lax.stop_gradient(batch.advantage)
    if normalize_advantage:
        mean = _weighted_mean(advantage, weight)
        std = jnp.sqrt(_weighted_mean((advantage - mean) ** 2, weight))
        advantage = (advantage - mean) / (std + 1e-8)
    policy_loss = -_weighted_mean(log_prob * advantage, weight)
    entropy = _weighted_mean(policy_entropy(dist, key), weight)
    loss = policy_loss - ent_coef * entropy
    metrics = {"policy_loss": policy_loss, "entropy": entropy, "weight": weight.mean()}
    if networks.value is not None:
        value = networks.state_value(params, batch.obs)
        value_loss = 0.5 * _weighted_mean((value - batch.target) ** 2, weight)
        loss = loss + vf_coef * value_loss
        metrics["value_loss"] = value_loss
    return loss, metrics


def make_pg_update(
    networks: Networks, optimizer: optax.GradientTransformation, hp: PGConfig, estimator: Estimator
):
    """Build the jitted update ``(state, rollout) -> (state, metrics)`` for a ``[T, N]`` rollout."""
    grad_fn = jax.grad(
        partial(
            pg_loss,
            networks=networks,
            vf_coef=hp.vf_coef,
            ent_coef=hp.ent_coef,
            normalize_advantage=hp.normalize_advantage,
        ),
        has_aux=True,
    )

    def update(state: PGState, rollout: Transitions) -> tuple[PGState, dict[str, jax.Array]]:
        steps, envs = rollout.reward.shape
        flat = lambda x: x.reshape(steps * envs, *x.shape[2:])  # noqa: E731
        obs = flat(rollout.obs).astype(jnp.float32)
        if networks.value is not None:
            values = networks.state_value(state.params, obs).reshape(steps, envs)
            next_obs = flat(rollout.next_obs).astype(jnp.float32)
            next_values = networks.state_value(state.params, next_obs).reshape(steps, envs)
        else:
            values = next_values = jnp.zeros((steps, envs))
        advantage, target, weight = estimator(rollout, values, next_values, hp)
        batch = PGBatch(obs, flat(rollout.action), flat(advantage), flat(target), flat(weight))
        entropy_key = jax.random.fold_in(state.act_key, ENTROPY_STREAM)
        grads, metrics = grad_fn(state.params, batch, entropy_key)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        # A rollout in which no episode ends gives REINFORCE no complete return (every weight
        # 0): its gradient is 0, but the optimiser's momentum would still move the parameters
        # and its step count would advance, so such a rollout leaves both as they were.
        learned = batch.weight.sum() > 0
        keep = lambda new, old: jnp.where(learned, new, old)  # noqa: E731
        new_state = state.replace(
            params=jax.tree.map(keep, params, state.params),
            opt_state=jax.tree.map(keep, opt_state, state.opt_state),
            update_count=state.update_count + 1,
            env_steps=state.env_steps + steps * envs,
        )
        return new_state, metrics

    return jax.jit(update)


class PolicyGradientLearner(OnlineLearner):
    """An on-policy learner that takes one gradient step per rollout of ``num_steps`` x
    ``num_envs`` transitions; subclasses choose the ``estimator``."""

    #: How a rollout becomes advantages, value targets and sample weights.
    estimator: Estimator

    @staticmethod
    def uses_value(hp: PGConfig) -> bool:
        """Whether the learner has a value network (the config validator requires one then)."""
        return True

    def __init__(self, config: ExperimentConfig, seed: int) -> None:
        hp: PGConfig = config.learner_config
        super().__init__(config, seed, hp.num_envs)
        self.hp = hp
        self.networks = make_networks(
            config.model, self.collector.action_space, with_value=self.uses_value(hp)
        )
        require_log_prob(self.networks, hp.learner)
        self.optimizer, self.schedule = make_optimizer(config.optimizer_config, self.total_updates)
        self._update = make_pg_update(self.networks, self.optimizer, hp, type(self).estimator)
        self._act = make_act(self.networks, None, deterministic=False)
        self._act_deterministic = make_act(self.networks, None, deterministic=True)
        self.init(prng_key(seed))

    def init(self, key: jax.Array) -> None:
        params_key, act_key = jax.random.split(key)
        params = self.networks.init(params_key, example_obs(self.collector.observation_space))
        self.state = PGState(
            params=params,
            opt_state=self.optimizer.init(params),
            act_key=act_key,
            update_count=jnp.asarray(0, jnp.int32),
            env_steps=jnp.asarray(0, jnp.int32),
        )

    def update(self) -> dict[str, float]:
        """Collect one rollout and take one gradient step on it."""
        rollout, act_key = collect_rollout(
            self.collector,
            self._act,
            self.state.params,
            None,
            self.state.act_key,
            self.hp.num_steps,
        )
        # The optimiser's own count: a REINFORCE rollout in which no episode ends takes no step.
        learning_rate = self.schedule(scheduled_steps(self.state.opt_state))
        self.state, metrics = self._update(self.state.replace(act_key=act_key), rollout)
        metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
        metrics["learning_rate"] = float(learning_rate)
        return metrics

    def act_fn(self, deterministic: bool = True, seed: int = 0):
        act = self._act_deterministic if deterministic else self._act
        return policy_from_act(act, self.state.params, None, seed)
