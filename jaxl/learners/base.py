"""The one learner design shared by imitation and reinforcement learning.

A :class:`Learner` owns an explicit state pytree (parameters, optimiser state, RNG keys,
normaliser statistics, counters) and advances it with ``update()``, which calls a jitted pure
function of that state. :class:`OfflineLearner` learns from a fixed dataset given as a buffer;
:class:`OnlineLearner` fills a buffer from a vectorised Gymnasium environment.
"""

from __future__ import annotations

import abc
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from jaxl.buffers import TransitionNumPyBuffer, load_buffer
from jaxl.config.loading import parse_env_record
from jaxl.config.schema import EnvConfig, ExperimentConfig
from jaxl.envs import VectorCollector
from jaxl.errors import InputError
from jaxl.models.factory import Networks, check_observation_space
from jaxl.normalization import RunningMeanStdState, normalize
from jaxl.seeds import check_seed, prng_key

TASK_KEYS = (
    "env_id",
    "env_kwargs",
    "task_seed",
    "resample",
    "control_mode",
    "discrete_bins",
    "parameter_spec",
    "parameter_overrides",
)
"""The keys of an env config that decide which task it is (its dynamics and action space)."""

ActFn = Callable[[np.ndarray], np.ndarray]


def make_act(networks: Networks, obs_clip: float | None, deterministic: bool):
    """A jitted batched policy ``(params, obs_norm, obs, key) -> (policy_action, env_action)``.

    ``obs_norm`` is a :class:`~jaxl.normalization.RunningMeanStdState` or ``None``;
    ``policy_action`` is what log-probabilities are computed for, ``env_action`` is clipped or
    rescaled to the env's action bounds.
    """

    def act(params, obs_norm: RunningMeanStdState | None, obs: jax.Array, key: jax.Array):
        obs = jnp.asarray(obs, jnp.float32)
        if obs_norm is not None:
            obs = normalize(obs_norm, obs, obs_clip)
        if deterministic:
            action = networks.mode(params, obs)
        else:
            action = networks.distribution(params, obs).sample(seed=key)
        return action, networks.action.to_env(action, networks.head.kind)

    return jax.jit(act)


def policy_from_act(act, params: Any, obs_norm: RunningMeanStdState | None, seed: int = 0) -> ActFn:
    """Wrap a jitted ``act`` from :func:`make_act` into a host policy with fixed parameters.

    Call ``i`` acts with the key ``fold_in(key(seed), i)``: stochastic actions are reproducible
    for a seed, and differ between seeds (evaluations, gathered datasets).
    """
    base = prng_key(seed)
    calls = iter(range(1 << 31))

    def policy(obs: np.ndarray) -> np.ndarray:
        return np.asarray(act(params, obs_norm, obs, jax.random.fold_in(base, next(calls)))[1])

    return policy


class Learner(abc.ABC):
    """Owns parameters, optimiser state and counters as one pytree, ``self.state``.

    Subclasses build their networks and data source in ``__init__`` and then call :meth:`init`.

    :param config: the validated experiment config.
    :param seed: the run seed; every random stream of the learner derives from it.
    """

    #: Which ``learner_config.task`` the learner serves.
    task: str = ""
    #: The learner's networks, built by the subclass's ``__init__``.
    networks: Networks

    def __init__(self, config: ExperimentConfig, seed: int) -> None:
        self.config = config
        self.seed = check_seed(seed)
        self.state: Any = None

    @abc.abstractmethod
    def init(self, key: jax.Array) -> None:
        """Create the initial state from a PRNG key."""

    @abc.abstractmethod
    def update(self) -> dict[str, float]:
        """Do one learning update and return its scalar metrics."""

    @property
    @abc.abstractmethod
    def total_updates(self) -> int:
        """Updates in the whole run, from ``train_config``."""

    @property
    @abc.abstractmethod
    def eval_env_config(self) -> EnvConfig:
        """The environment the policy is evaluated in."""

    @abc.abstractmethod
    def act_fn(self, deterministic: bool = True, seed: int = 0) -> ActFn:
        """A batched policy for the current parameters: observations in, env actions out.

        :param deterministic: act with the policy's mode; otherwise sample.
        :param seed: seed of the sampled actions' keys
            (:func:`~jaxl.learners.base.policy_from_act`).
        """

    @property
    def update_count(self) -> int:
        """Updates done so far."""
        return int(self.state.update_count)

    @property
    def env_steps(self) -> int:
        """Environment steps taken so far (0 for offline learners)."""
        return 0

    def pop_completed_episodes(self) -> list[tuple[float, int]]:
        """``(return, length)`` of training episodes finished since the last call."""
        return []

    @property
    def warming_up(self) -> bool:
        """Whether the updates so far took no gradient step (SAC's random-action warm-up). The
        progress line measures its rate afresh once this ends: learning updates take far
        longer, and the first of them compiles."""
        return False

    def checkpoint(self) -> dict[str, Any]:
        """The full state to save, as named pytrees of arrays."""
        return {"state": self.state}

    def restore(self, items: dict[str, Any]) -> None:
        """Load what :meth:`checkpoint` produced (arrays already restored to ``self.state``'s
        structure by the checkpoint store)."""
        self.state = items["state"]

    def checkpoint_targets(self) -> dict[str, Any]:
        """Structures the restored arrays must match (``None``: take them as saved)."""
        return {"state": self.state}


class OnlineLearner(Learner):
    """A learner that interacts with ``num_envs`` copies of an environment through a collector.

    The collector's state (episode seeds and the actions of the current episodes) is part of the
    checkpoint, so a resumed run continues exactly where it stopped.
    """

    task = "reinforcement"

    def __init__(self, config: ExperimentConfig, seed: int, num_envs: int) -> None:
        super().__init__(config, seed)
        env_config = config.learner_config.env_config
        self.collector = VectorCollector(env_config, num_envs, seed)
        check_observation_space(self.collector.observation_space, env_config.env_id)

    @property
    def env_steps_per_update(self) -> int:
        """Environment steps (over all envs) per :meth:`~jaxl.learners.base.Learner.update`
        (from the learner's config)."""
        return self.config.learner_config.env_steps_per_update

    @property
    def total_updates(self) -> int:
        """``train_config.total_updates``, or as many updates as fit in ``total_env_steps``."""
        train = self.config.train_config
        if train.total_updates is not None:
            return train.total_updates
        return max(train.total_env_steps // self.env_steps_per_update, 1)

    @property
    def eval_env_config(self) -> EnvConfig:
        return self.config.learner_config.env_config

    @property
    def env_steps(self) -> int:
        return int(self.state.env_steps)

    def pop_completed_episodes(self) -> list[tuple[float, int]]:
        return self.collector.pop_completed()

    def checkpoint(self) -> dict[str, Any]:
        return {"state": self.state, "collector": self.collector.snapshot()}

    def restore(self, items: dict[str, Any]) -> None:
        super().restore(items)
        self.collector.restore(items["collector"])

    def checkpoint_targets(self) -> dict[str, Any]:
        return {"state": self.state, "collector": None}


class OfflineLearner(Learner):
    """A learner over a fixed dataset, loaded from ``buffer_config.load_path``."""

    task = "imitation"

    def __init__(self, config: ExperimentConfig, seed: int, with_dataset: bool = True) -> None:
        super().__init__(config, seed)
        buffer_config = config.learner_config.buffer_config
        self.dataset: TransitionNumPyBuffer | None = None
        """``None`` when built without it (:func:`~jaxl.learners.make_learner`)."""
        if not with_dataset:
            return
        self.dataset = load_buffer(
            buffer_config.load_path, seed=seed, capacity=buffer_config.buffer_size
        )
        if len(self.dataset) == 0:
            raise InputError(
                f"learner_config.buffer_config.load_path: {buffer_config.load_path} is empty"
            )

    def check_dataset_fits(self, observation_space: gym.Space, action_space: gym.Space) -> None:
        """Check that the dataset's observations and actions are shaped like the env's.

        :raises InputError: naming ``buffer_config.load_path``, the env and both shapes, the
            first non-finite observation or action, or the fractional or out-of-range actions
            for a discrete action space.
        """
        data = self.dataset.contents()
        path = self.config.learner_config.buffer_config.load_path
        where = f"learner_config.buffer_config.load_path: {path}"
        env_id = self.eval_env_config.env_id
        if data.obs.shape[1:] != observation_space.shape:
            raise InputError(
                f"{where} holds observations of shape {data.obs.shape[1:]}, but {env_id} "
                f"observes shape {observation_space.shape}"
            )
        if data.action.shape[1:] != action_space.shape:
            raise InputError(
                f"{where} holds actions of shape {data.action.shape[1:]}, but {env_id} acts "
                f"with shape {action_space.shape} ({action_space})"
            )
        for name in ("obs", "action"):
            values = getattr(data, name)
            bad = np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))
            if bad.size:  # they would train the policy into NaN without a word
                raise InputError(
                    f"{where} holds non-finite {name} values (NaN or infinity) in "
                    f"{bad.size} transition{'s' if bad.size > 1 else ''}, the first at index "
                    f"{bad[0]}: {values[bad[0]]}"
                )
        if isinstance(action_space, gym.spaces.Discrete):
            fractional = data.action[data.action != np.round(data.action)]
            if fractional.size:  # they would be truncated to whole actions silently
                raise InputError(
                    f"{where} holds actions that are not whole numbers (e.g. {fractional[0]}), "
                    f"but {env_id} has {action_space}"
                )
            low, high = action_space.start, action_space.start + action_space.n - 1
            if data.action.min() < low or data.action.max() > high:
                raise InputError(
                    f"{where} holds actions from {data.action.min()} to {data.action.max()}, "
                    f"but {env_id} has {action_space} (actions {low} to {high})"
                )
        self._warn_if_gathered_on_other_physics(where)

    def _warn_if_gathered_on_other_physics(self, where: str) -> None:
        """Warn when the dataset's recorded env (``jaxl gather`` writes it) differs from
        ``learner_config.env_config`` in what sets the task: its shapes may match while its
        physics do not. Deliberate for a held-out evaluation, a mistake otherwise."""
        recorded = self.dataset.metadata.get("env")
        env_config = self.config.learner_config.env_config
        if not isinstance(recorded, dict) or env_config is None:
            return
        ours = env_config.model_dump(mode="json")
        differences = [
            f"{key} {recorded[key]!r} (dataset) vs {ours[key]!r}"
            for key in TASK_KEYS
            if key in recorded and recorded[key] != ours[key]
        ]
        if differences:
            warnings.warn(
                f"{where} was gathered on other physics than learner_config.env_config "
                f"evaluates on: {'; '.join(differences)}",
                stacklevel=3,
            )

    @property
    def eval_env_config(self) -> EnvConfig:
        env_config = self.config.learner_config.env_config
        if env_config is not None:
            return env_config
        if self.dataset is None:
            raise InputError(
                "learner_config.env_config: null in the run's config, and the environment is "
                "recorded in the dataset, which is not loaded"
            )
        recorded = self.dataset.metadata.get("env")
        if not recorded:
            raise InputError(
                "learner_config.env_config: null, and the dataset records no environment"
            )
        source = f"{self.config.learner_config.buffer_config.load_path} (metadata.env)"
        return parse_env_record(recorded, source)
