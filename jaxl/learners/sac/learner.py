"""SAC as an :class:`~jaxl.learners.base.OnlineLearner` with its replay buffer on the device.

Reading order: :class:`SACState` (everything that changes except the replay buffer),
:func:`make_sac_step` (one jitted call per env step: run ``gradient_steps`` gradient steps in one
``lax.scan`` on batches drawn as if the previous env step's transitions were stored, store them,
pick the next action), :func:`make_random_actions` (the warm-up's actions), :class:`SACLearner`
(the host loop that steps the environments and hands each step's transitions to the next call).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from jaxl.buffers import DeviceReplayBuffer, Transitions
from jaxl.config.schema import REPLAY_CAPACITY, ExperimentConfig, SACConfig
from jaxl.errors import InputError
from jaxl.learners.base import OnlineLearner, make_act, policy_from_act
from jaxl.learners.packing import PackedLayout
from jaxl.learners.sac.losses import actor_loss, critic_loss, polyak_update, temperature_loss
from jaxl.models.factory import ActionSpec, Networks, example_obs, make_networks
from jaxl.optimizers import make_optimizer
from jaxl.seeds import prng_key
from jaxl.xla_options import RUN_ONCE

IN_PLACE_APPEND = {"xla_cpu_copy_insertion_use_region_analysis": True}
"""XLA CPU options of the step: without region analysis, XLA copies the whole replay storage on
every call to append in place after sampling from it."""


@struct.dataclass
class SACState:
    """Everything SAC changes while it learns, apart from the replay buffer's state."""

    params: dict
    """``{"policy": ..., "q": ...}``; the Q ensemble's leaves have a leading member axis."""
    target_q: dict
    log_alpha: jax.Array
    policy_opt: optax.OptState
    q_opt: optax.OptState
    alpha_opt: optax.OptState
    key: jax.Array
    update_count: jax.Array
    env_steps: jax.Array
    gradient_steps: jax.Array


def make_sac_step(
    networks: Networks,
    replay: DeviceReplayBuffer,
    optimizer: optax.GradientTransformation,
    hp: SACConfig,
    target_entropy: float,
    layout: PackedLayout,
):
    """Build the jitted per-env-step call.

    ``step(carry, pending, obs, learn=...)`` takes ``carry``, the :class:`SACState` and the
    replay buffer's state packed by ``layout`` (see :mod:`jaxl.learners.packing`). It runs
    ``hp.gradient_steps`` gradient steps if ``learn``, on batches drawn from the buffer with the
    ``pending`` transitions (the previous env step's, or ``None``) counted as stored; then
    appends ``pending`` to the buffer and returns actions for ``obs`` sampled from the policy.
    It returns ``(carry, policy_action, env_action, metrics)``. This is exactly "append, then
    train", as one call instead of two: every read of the buffer comes before the write, so XLA
    appends in place into the donated buffer state.
    """
    critic_grad = jax.grad(partial(critic_loss, networks=networks, gamma=hp.gamma), has_aux=True)
    actor_grad = jax.grad(partial(actor_loss, networks=networks), has_aux=True)
    temperature_grad = jax.grad(partial(temperature_loss, target_entropy=target_entropy))

    def gradient_step(state: SACState, key: jax.Array, buffer_state, pending):
        sample_key, critic_key, actor_key = jax.random.split(key, 3)
        batch = replay.sample_fn(buffer_state, sample_key, pending)
        params = state.params
        grads, metrics = critic_grad(
            params["q"], state.target_q, params["policy"], state.log_alpha, batch, critic_key
        )
        updates, q_opt = optimizer.update(grads, state.q_opt, params["q"])
        q_params = optax.apply_updates(params["q"], updates)

        grads, log_prob = actor_grad(
            params["policy"], q_params, state.log_alpha, batch.obs, actor_key
        )
        updates, policy_opt = optimizer.update(grads, state.policy_opt, params["policy"])
        policy_params = optax.apply_updates(params["policy"], updates)

        log_alpha, alpha_opt = state.log_alpha, state.alpha_opt
        if hp.autotune_alpha:
            grads = temperature_grad(log_alpha, log_prob)
            updates, alpha_opt = optimizer.update(grads, alpha_opt, log_alpha)
            log_alpha = optax.apply_updates(log_alpha, updates)

        metrics.update(entropy=-log_prob.mean(), alpha=jnp.exp(log_alpha))
        state = state.replace(
            params={"policy": policy_params, "q": q_params},
            target_q=polyak_update(state.target_q, q_params, hp.tau),
            log_alpha=log_alpha,
            policy_opt=policy_opt,
            q_opt=q_opt,
            alpha_opt=alpha_opt,
            gradient_steps=state.gradient_steps + 1,
        )
        return state, metrics

    def step(carry, pending, obs, *, learn: bool):
        state, buffer_state = layout.unpack(carry)
        key, train_key, act_key = jax.random.split(state.key, 3)
        metrics = {}
        if learn:
            keys = jax.random.split(train_key, hp.gradient_steps)
            train = partial(gradient_step, buffer_state=buffer_state, pending=pending)
            state, metrics = jax.lax.scan(train, state, keys)
            metrics = jax.tree.map(jnp.mean, metrics)
        if pending is not None:
            buffer_state = replay.add_fn(buffer_state, pending)
        obs = jnp.asarray(obs, jnp.float32)
        action = networks.distribution(state.params, obs).sample(seed=act_key)
        env_action = networks.action.to_env(action, networks.head.kind)
        carry = layout.pack((state.replace(key=key), buffer_state))
        return carry, action, env_action, metrics

    return jax.jit(
        step,
        static_argnames="learn",
        donate_argnums=0,
        compiler_options=IN_PLACE_APPEND,
    )


def make_random_actions(networks: Networks, num_envs: int):
    """Build the jitted warm-up policy: ``random_actions(key, count)`` returns ``count`` steps of
    actions for ``num_envs`` envs, uniform on the squashed box ``[-1, 1]``, and the same actions
    in the env's bounds, each of shape ``[count, num_envs, action size]``."""

    def random_actions(key: jax.Array, count: int):
        shape = (count, num_envs, networks.action.size)
        action = jax.random.uniform(key, shape, minval=-1.0, maxval=1.0)
        return action, networks.action.to_env(action, networks.head.kind)

    return jax.jit(random_actions, static_argnums=1, compiler_options=RUN_ONCE)


class SACLearner(OnlineLearner):
    """SAC on a vectorised Gymnasium environment with continuous actions.

    One :meth:`~jaxl.learners.sac.learner.SACLearner.update` takes ``steps_per_update``
    vectorised env steps: random ones on the host until ``learning_starts``, then each one
    jitted call (see :func:`make_sac_step`) that also stores the previous step's transitions.
    Only each step's new transitions cross from host to device. The replay buffer's state, with
    the last step's transitions stored, is part of the checkpoint, so a resumed run continues
    with the same buffer contents.
    """

    def __init__(self, config: ExperimentConfig, seed: int) -> None:
        hp: SACConfig = config.learner_config
        super().__init__(config, seed, hp.num_envs)
        self.hp = hp
        action_space = self.collector.action_space
        if ActionSpec.from_space(action_space).discrete:
            raise InputError(
                f"learner_config.env_config.env_id: sac needs continuous (Box) actions; "
                f"{hp.env_config.env_id} has {action_space}"
            )
        if self.total_gradient_steps == 0:
            budget = self.total_updates * self.env_steps_per_update
            raise InputError(
                f"learner_config.learning_starts: {hp.learning_starts} random env steps leave "
                f"no gradient step in the budget of {budget} env steps "
                f"({self.total_updates} updates of {self.env_steps_per_update}); lower "
                "learning_starts or raise the budget"
            )
        self.networks = make_networks(
            config.model, action_space, with_q=True, continuous_default="squashed_gaussian"
        )
        if self.networks.head.kind != "squashed_gaussian":
            raise InputError(
                "model_config.policy.distribution: sac needs 'squashed_gaussian' (or 'auto'), "
                f"got {config.model.policy.distribution!r}"
            )
        obs_space = self.collector.observation_space
        capacity = hp.buffer_config.buffer_size or REPLAY_CAPACITY
        try:
            self.replay = DeviceReplayBuffer(
                capacity,
                obs_space.shape,
                action_space.shape,
                hp.batch_size,
                np.float32,
                np.float32,
                seed,
            )
        except jax.errors.JaxRuntimeError as error:
            if "RESOURCE_EXHAUSTED" not in str(error):
                raise
            raise InputError(
                f"learner_config.buffer_config.buffer_size: a replay of {capacity} transitions "
                f"does not fit in the device's memory ({str(error).splitlines()[0]})"
            ) from None
        self.target_entropy = (
            -float(self.networks.action.size)
            if hp.target_entropy == "auto"
            else float(hp.target_entropy)
        )
        self.optimizer, self.schedule = make_optimizer(
            config.optimizer_config, max(self.total_gradient_steps, 1)
        )
        self._random_actions = make_random_actions(self.networks, hp.num_envs)
        self._pending: Transitions | None = None
        """The last env step's transitions, stored by the next jitted step."""
        self._act_deterministic = make_act(self.networks, None, deterministic=True)
        self._act = make_act(self.networks, None, deterministic=False)
        self.init(prng_key(seed))
        self._layout = PackedLayout.of((self.state, self.replay.state))
        self._step = make_sac_step(
            self.networks, self.replay, self.optimizer, hp, self.target_entropy, self._layout
        )

    @property
    def total_gradient_steps(self) -> int:
        """Gradient steps in the whole run (the horizon of learning-rate schedules)."""
        hp = self.hp
        vector_steps = self.total_updates * hp.steps_per_update
        warm_up = self._warm_up_steps(0, vector_steps)
        # Vector steps warm_up .. vector_steps - 1 learn when a multiple of train_freq.
        learning_calls = -(-vector_steps // hp.train_freq) - -(-warm_up // hp.train_freq)
        return max(learning_calls, 0) * hp.gradient_steps

    def init(self, key: jax.Array) -> None:
        # One jitted call, compiled without LLVM optimisations: run op by op, initialising the
        # networks and optimisers compiles dozens of small programs (about 5 s in all).
        self.state = jax.jit(self._initial_state, compiler_options=RUN_ONCE)(key)

    def _initial_state(self, key: jax.Array) -> SACState:
        params_key, key = jax.random.split(key)
        params = self.networks.init(params_key, example_obs(self.collector.observation_space))
        log_alpha = jnp.asarray(np.log(self.hp.init_alpha), jnp.float32)
        # Separate arrays everywhere: the state is donated to the jitted step, and XLA refuses a
        # buffer that appears twice.
        zero = partial(jnp.zeros, (), jnp.int32)
        return SACState(
            params=params,
            target_q=jax.tree.map(jnp.copy, params["q"]),
            log_alpha=log_alpha,
            policy_opt=self.optimizer.init(params["policy"]),
            q_opt=self.optimizer.init(params["q"]),
            alpha_opt=self.optimizer.init(log_alpha),
            key=key,
            update_count=zero(),
            env_steps=zero(),
            gradient_steps=zero(),
        )

    def update(self) -> dict[str, float]:
        """Take ``steps_per_update`` vectorised env steps, training after each as configured."""
        hp = self.hp
        state = self.state
        env_steps = int(state.env_steps)
        remaining = hp.steps_per_update
        warm_up = self._warm_up_steps(env_steps, remaining)
        if warm_up:
            state = self._warm_up(state, warm_up)
            env_steps += warm_up * hp.num_envs
            remaining -= warm_up
        vector_step = env_steps // hp.num_envs
        metrics = {}
        if remaining:
            carry = self._layout.pack_on_host((state, self.replay.state))
            for _ in range(remaining):
                learn = vector_step % hp.train_freq == 0
                carry, action, env_action, step_metrics = self._step(
                    carry, self._pending, self.collector.obs, learn=learn
                )
                metrics = step_metrics or metrics
                self._pending = _as_pending(self.collector.step(np.asarray(env_action)), action)
                env_steps += hp.num_envs
                vector_step += 1
            state, self.replay.state = self._layout.unpack_on_host(carry)
        self.state = state.replace(
            update_count=state.update_count + 1, env_steps=jnp.asarray(env_steps, jnp.int32)
        )
        row = {k: float(v) for k, v in jax.device_get(metrics).items()}
        row["learning_rate"] = float(self.schedule(self.state.gradient_steps))
        pending = 0 if self._pending is None else hp.num_envs
        row["buffer_size"] = float(min(len(self.replay) + pending, self.replay.capacity))
        return row

    @property
    def warming_up(self) -> bool:
        return int(self.state.gradient_steps) == 0

    def _warm_up_steps(self, env_steps: int, limit: int) -> int:
        """Vectorised steps of random actions still to take, at most ``limit``: until
        ``learning_starts`` env steps, and at least one, so that learning never starts on an
        empty buffer."""
        still = max(self.hp.learning_starts, 1) - env_steps
        return min(max(-(-still // self.hp.num_envs), 0), limit)

    def _warm_up(self, state: SACState, count: int) -> SACState:
        """Take ``count`` vectorised steps of uniformly random actions on the host, then store
        their transitions (and any pending ones) in one append. The last step's transitions stay
        pending, for the next training call to store."""
        key, actions_key = jax.random.split(state.key)
        actions, env_actions = jax.device_get(self._random_actions(actions_key, count))
        steps = [
            _as_pending(self.collector.step(env_action), action)
            for action, env_action in zip(actions, env_actions, strict=True)
        ]
        to_store = steps[:-1] if self._pending is None else [self._pending, *steps[:-1]]
        if to_store:
            self.replay.add(
                Transitions(*(np.concatenate(field) for field in zip(*to_store, strict=True)))
            )
        self._pending = steps[-1]
        return state.replace(key=key)

    def _replay_state(self):
        """The replay buffer's state with the last env step's transitions stored."""
        if self._pending is None:
            return self.replay.state
        return self.replay.appended(self._pending)

    def act_fn(self, deterministic: bool = True, seed: int = 0):
        act = self._act_deterministic if deterministic else self._act
        return policy_from_act(act, self.state.params, None, seed)

    def checkpoint(self):
        return {**super().checkpoint(), "replay": self._replay_state()}

    def restore(self, items) -> None:
        super().restore(items)
        self.replay.state = items["replay"]
        # The checkpoint stores the last env step's transitions in the replay (_replay_state);
        # taking them back out as pending lets the next step run exactly as it would have
        # without the interruption (a step without pending transitions is compiled differently,
        # and its floating-point result can differ in the last bits).
        env_steps = int(self.state.env_steps)
        self._pending = None
        if env_steps:
            self._pending = self.replay.take_newest(self.hp.num_envs, env_steps)

    def checkpoint_targets(self):
        return {**super().checkpoint_targets(), "replay": self.replay.state}


def _as_pending(transitions: Transitions, action: jax.Array | np.ndarray) -> Transitions:
    """An env step's transitions as the step takes them (float32 and bool arrays), with the
    policy's squashed action in place of the env's."""
    return Transitions(
        obs=np.asarray(transitions.obs, np.float32),
        action=action,
        reward=np.asarray(transitions.reward, np.float32),
        next_obs=np.asarray(transitions.next_obs, np.float32),
        terminated=np.asarray(transitions.terminated, bool),
        truncated=np.asarray(transitions.truncated, bool),
    )
