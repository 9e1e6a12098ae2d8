"""Behaviour cloning as an :class:`~jaxl.learners.base.OfflineLearner`.

The dataset lives on the device; one :meth:`BCLearner.update` runs ``gradient_steps_per_update``
gradient steps (minibatches sampled with the state's PRNG key) inside one jitted ``lax.scan``.
With ``validation_fraction``, whole episodes are held out and the loss on them is logged after
every update (:mod:`jaxl.learners.bc.validation`).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from jaxl.config.schema import BCConfig, ExperimentConfig
from jaxl.envs import make_env
from jaxl.errors import InputError
from jaxl.learners.base import OfflineLearner, make_act, policy_from_act
from jaxl.learners.bc.losses import bc_loss, squashed_target
from jaxl.learners.bc.validation import held_out_mask
from jaxl.models.factory import Networks, check_observation_space, example_obs, make_networks
from jaxl.optimizers import make_optimizer
from jaxl.seeds import prng_key


@struct.dataclass
class BCState:
    """Everything behaviour cloning changes while it learns."""

    params: dict
    opt_state: optax.OptState
    key: jax.Array
    update_count: jax.Array


def make_bc_update(
    networks: Networks, optimizer: optax.GradientTransformation, hp: BCConfig, loss: str
):
    """Build the jitted update ``(state, obs, actions) -> (state, metrics)`` over a device dataset."""
    grad_fn = jax.grad(partial(bc_loss, networks=networks, loss=loss), has_aux=True)

    def gradient_step(carry, key, obs, actions):
        params, opt_state = carry
        index = jax.random.randint(key, (hp.batch_size,), 0, obs.shape[0])
        grads, metrics = grad_fn(params, obs[index], actions[index])
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), metrics

    def update(state: BCState, obs: jax.Array, actions: jax.Array):
        key, *step_keys = jax.random.split(state.key, hp.gradient_steps_per_update + 1)
        (params, opt_state), metrics = jax.lax.scan(
            partial(gradient_step, obs=obs, actions=actions),
            (state.params, state.opt_state),
            jnp.stack(step_keys),
        )
        new_state = state.replace(
            params=params, opt_state=opt_state, key=key, update_count=state.update_count + 1
        )
        return new_state, jax.tree.map(jnp.mean, metrics)

    return jax.jit(update)


class BCLearner(OfflineLearner):
    """Behaviour cloning from a dataset gathered with ``jaxl gather`` (or any buffer file)."""

    def __init__(self, config: ExperimentConfig, seed: int, with_dataset: bool = True) -> None:
        super().__init__(config, seed, with_dataset)
        hp: BCConfig = config.learner_config
        self.hp = hp
        env = make_env(self.eval_env_config)
        self.observation_space, action_space = env.observation_space, env.action_space
        env.close()
        check_observation_space(self.observation_space, self.eval_env_config.env_id)
        if self.dataset is not None:
            self.check_dataset_fits(self.observation_space, action_space)
        self.networks = make_networks(config.model, action_space, with_value=False)
        loss = "nll" if hp.loss == "auto" else hp.loss
        if loss == "mse" and self.networks.action.discrete:
            raise InputError("learner_config.loss: 'mse' needs continuous actions; use 'nll'")
        if loss == "nll" and self.networks.head.kind == "deterministic":
            raise InputError(
                "learner_config.loss: a deterministic policy has no likelihood; use 'mse'"
            )
        self._obs = self._actions = self._validation = None
        if self.dataset is not None:
            self._obs, self._actions, self._validation = self._training_data()
        self.optimizer, _ = make_optimizer(
            config.optimizer_config, self.total_updates * hp.gradient_steps_per_update
        )
        self._update = make_bc_update(self.networks, self.optimizer, hp, loss)
        self._validation_metrics = jax.jit(partial(bc_loss, networks=self.networks, loss=loss))
        self._act = make_act(self.networks, None, deterministic=True)
        self._act_stochastic = make_act(self.networks, None, deterministic=False)
        self.init(prng_key(seed))

    def _training_data(
        self,
    ) -> tuple[jax.Array, jax.Array, tuple[jax.Array, jax.Array] | None]:
        """The observations and actions to train on, the actions as the policy produces them,
        and the held-out episodes' (``None`` without ``validation_fraction``)."""
        data = self.dataset.contents()
        actions = data.action
        if self.networks.action.discrete:  # datasets hold env actions: start + policy action
            actions = actions - self.networks.action.start
        if self.networks.head.kind == "squashed_gaussian":
            spec = self.networks.action
            actions = squashed_target(actions, np.asarray(spec.low), np.asarray(spec.high))
        obs = np.asarray(data.obs, np.float32)
        if self.hp.validation_fraction == 0.0:
            return jnp.asarray(obs), jnp.asarray(actions), None
        try:
            held_out = held_out_mask(
                data.terminated,
                data.truncated,
                self.hp.validation_fraction,
                str(self.hp.buffer_config.load_path),
            )
        except ValueError as error:
            raise InputError(str(error)) from None
        validation = (jnp.asarray(obs[held_out]), jnp.asarray(actions[held_out]))
        return jnp.asarray(obs[~held_out]), jnp.asarray(actions[~held_out]), validation

    @property
    def total_updates(self) -> int:
        return self.config.train_config.total_updates

    def init(self, key: jax.Array) -> None:
        params_key, key = jax.random.split(key)
        params = self.networks.init(params_key, example_obs(self.observation_space))
        self.state = BCState(
            params=params,
            opt_state=self.optimizer.init(params),
            key=key,
            update_count=jnp.asarray(0, jnp.int32),
        )

    def update(self) -> dict[str, float]:
        """Run ``gradient_steps_per_update`` minibatch steps."""
        if self._obs is None:
            raise RuntimeError("this BCLearner was built without its dataset and cannot train")
        self.state, metrics = self._update(self.state, self._obs, self._actions)
        if self._validation is not None:
            _, held_out = self._validation_metrics(self.state.params, *self._validation)
            metrics = {**metrics, **{f"validation_{k}": v for k, v in held_out.items()}}
        return {k: float(v) for k, v in jax.device_get(metrics).items()}

    def act_fn(self, deterministic: bool = True, seed: int = 0):
        act = self._act if deterministic else self._act_stochastic
        return policy_from_act(act, self.state.params, None, seed)
