"""PPO as an :class:`~jaxl.learners.base.OnlineLearner`: collect a rollout, then one jitted update.

Reading order: :class:`PPOState` (everything that changes), :func:`make_ppo_update` (advantages,
then ``num_epochs`` x minibatches of gradient steps in one ``lax.scan``), :class:`PPOLearner`
(rollout collection on the host and the glue).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax
from flax import struct

from jaxl.buffers import Transitions
from jaxl.config.schema import ExperimentConfig, PPOConfig
from jaxl.learners.base import OnlineLearner, make_act, policy_from_act
from jaxl.learners.ppo.losses import PPOBatch, ppo_loss
from jaxl.learners.rollout import collect_rollout
from jaxl.models.factory import Networks, example_obs, make_networks, require_log_prob
from jaxl.models.policies import ENTROPY_STREAM
from jaxl.normalization import (
    RewardScaleState,
    RunningMeanStdState,
    init_reward_scale,
    init_running_mean_std,
    normalize,
    scale_rewards,
    update_running_mean_std,
)
from jaxl.optimizers import make_optimizer
from jaxl.returns import gae_advantages
from jaxl.seeds import prng_key


@struct.dataclass
class PPOState:
    """Everything PPO changes while it learns; saved whole in checkpoints."""

    params: dict
    opt_state: optax.OptState
    obs_norm: RunningMeanStdState
    reward_scale: RewardScaleState
    act_key: jax.Array
    update_key: jax.Array
    update_count: jax.Array
    env_steps: jax.Array


def make_ppo_update(networks: Networks, optimizer: optax.GradientTransformation, hp: PPOConfig):
    """Build the jitted update ``(state, rollout) -> (state, metrics)``.

    ``rollout`` is a :class:`~jaxl.buffers.Transitions` with fields of shape ``[T, N, ...]``,
    collected with the policy in ``state`` (so old log-probabilities and values are recomputed
    here, in one batched pass, rather than per env step).
    """
    loss_fn = partial(
        ppo_loss,
        networks=networks,
        clip_eps=hp.clip_eps,
        clip_value=hp.clip_value,
        vf_coef=hp.vf_coef,
        ent_coef=hp.ent_coef,
        normalize_advantage=hp.normalize_advantage,
    )
    grad_fn = jax.grad(loss_fn, has_aux=True)
    num_minibatches = hp.rollout_size // hp.minibatch_size

    def prepare(obs: jax.Array, obs_norm: RunningMeanStdState) -> jax.Array:
        obs = obs.astype(jnp.float32)
        return normalize(obs_norm, obs, hp.obs_clip) if hp.normalize_obs else obs

    def minibatch_step(carry, minibatch: tuple[PPOBatch, jax.Array]):
        params, opt_state = carry
        grads, metrics = grad_fn(params, *minibatch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), metrics

    def epoch(carry, key: jax.Array, data: PPOBatch):
        order = jax.random.permutation(key, hp.rollout_size)
        shuffled = jax.tree.map(
            lambda x: x[order].reshape(num_minibatches, hp.minibatch_size, *x.shape[1:]), data
        )
        entropy_keys = jax.random.split(jax.random.fold_in(key, ENTROPY_STREAM), num_minibatches)
        return jax.lax.scan(minibatch_step, carry, (shuffled, entropy_keys))

    def update(state: PPOState, rollout: Transitions) -> tuple[PPOState, dict[str, jax.Array]]:
        steps, envs = rollout.reward.shape
        flat = lambda x: x.reshape(steps * envs, *x.shape[2:])  # noqa: E731
        obs = prepare(flat(rollout.obs), state.obs_norm)
        next_obs = prepare(flat(rollout.next_obs), state.obs_norm)
        values = networks.state_value(state.params, obs)
        next_values = networks.state_value(state.params, next_obs).reshape(steps, envs)
        old_log_prob = networks.distribution(state.params, obs).log_prob(flat(rollout.action))
        rewards, reward_scale = rollout.reward.astype(jnp.float32), state.reward_scale
        if hp.normalize_reward:
            dones = jnp.logical_or(rollout.terminated, rollout.truncated)
            reward_scale, rewards = scale_rewards(
                reward_scale, rewards, dones, hp.gamma, hp.reward_clip
            )
        advantage, target = gae_advantages(
            rewards,
            values.reshape(steps, envs),
            next_values,
            rollout.terminated,
            rollout.truncated,
            hp.gamma,
            hp.gae_lambda,
        )
        data = PPOBatch(
            obs, flat(rollout.action), old_log_prob, values, flat(advantage), flat(target)
        )
        update_key, *epoch_keys = jax.random.split(state.update_key, hp.num_epochs + 1)
        (params, opt_state), metrics = jax.lax.scan(
            partial(epoch, data=data), (state.params, state.opt_state), jnp.stack(epoch_keys)
        )
        obs_norm = state.obs_norm
        if hp.normalize_obs:
            obs_norm = update_running_mean_std(obs_norm, rollout.obs.astype(jnp.float32))
        metrics = jax.tree.map(jnp.mean, metrics)
        explained = 1.0 - jnp.var(flat(target) - values) / (jnp.var(flat(target)) + 1e-8)
        metrics["explained_variance"] = explained
        new_state = state.replace(
            params=params,
            opt_state=opt_state,
            obs_norm=obs_norm,
            reward_scale=reward_scale,
            update_key=update_key,
            update_count=state.update_count + 1,
            env_steps=state.env_steps + steps * envs,
        )
        return new_state, metrics

    return jax.jit(update)


class PPOLearner(OnlineLearner):
    """PPO on a vectorised Gymnasium environment; discrete and continuous actions.

    One :meth:`~jaxl.learners.ppo.learner.PPOLearner.update` collects ``num_steps`` steps from
    each of ``num_envs`` environments (:func:`~jaxl.learners.rollout.collect_rollout`) and runs
    the jitted update on them.
    """

    def __init__(self, config: ExperimentConfig, seed: int) -> None:
        hp: PPOConfig = config.learner_config
        super().__init__(config, seed, hp.num_envs)
        self.hp = hp
        self.networks = make_networks(config.model, self.collector.action_space, with_value=True)
        require_log_prob(self.networks, "ppo")
        gradient_steps_per_update = hp.num_epochs * (hp.rollout_size // hp.minibatch_size)
        self.optimizer, self.schedule = make_optimizer(
            config.optimizer_config, self.total_updates * gradient_steps_per_update
        )
        self._gradient_steps_per_update = gradient_steps_per_update
        self._update = make_ppo_update(self.networks, self.optimizer, hp)
        self._act = make_act(self.networks, hp.obs_clip, deterministic=False)
        self._act_deterministic = make_act(self.networks, hp.obs_clip, deterministic=True)
        self.init(prng_key(seed))

    def init(self, key: jax.Array) -> None:
        params_key, act_key, update_key = jax.random.split(key, 3)
        obs = example_obs(self.collector.observation_space)
        params = self.networks.init(params_key, obs)
        self.state = PPOState(
            params=params,
            opt_state=self.optimizer.init(params),
            obs_norm=init_running_mean_std(obs.shape[1:]),
            reward_scale=init_reward_scale(self.hp.num_envs),
            act_key=act_key,
            update_key=update_key,
            update_count=jnp.asarray(0, jnp.int32),
            env_steps=jnp.asarray(0, jnp.int32),
        )

    def _obs_norm(self) -> RunningMeanStdState | None:
        return self.state.obs_norm if self.hp.normalize_obs else None

    def update(self) -> dict[str, float]:
        """Collect one rollout and update on it; returns the update's metrics."""
        rollout, act_key = collect_rollout(
            self.collector,
            self._act,
            self.state.params,
            self._obs_norm(),
            self.state.act_key,
            self.hp.num_steps,
        )
        self.state = self.state.replace(act_key=act_key)
        learning_rate = self.schedule(self.update_count * self._gradient_steps_per_update)
        self.state, metrics = self._update(self.state, rollout)
        metrics = {k: float(v) for k, v in jax.device_get(metrics).items()}
        metrics["learning_rate"] = float(learning_rate)
        return metrics

    def act_fn(self, deterministic: bool = True, seed: int = 0):
        act = self._act_deterministic if deterministic else self._act
        return policy_from_act(act, self.state.params, self._obs_norm(), seed)
