"""Build a learner's networks from :class:`~jaxl.config.ModelConfig` and the env's spaces."""

from __future__ import annotations

from dataclasses import dataclass

import distrax
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from jaxl.config.schema import ModelConfig, _changed
from jaxl.errors import InputError
from jaxl.models.networks import PolicyNetwork, QEnsemble, ValueNetwork
from jaxl.models.policies import PolicyHead


@dataclass(frozen=True)
class ActionSpec:
    """What the policy must produce: ``n`` discrete actions, or a box with bounds.

    :param discrete: whether actions are integers (the policy's in ``[0, n)``).
    :param size: number of discrete actions, or the action dimension.
    :param low: lower bounds (continuous), as a tuple so the spec stays hashable.
    :param high: upper bounds (continuous).
    :param start: the env's first discrete action (Gymnasium's ``Discrete(n, start)``): policy
        action ``i`` is env action ``start + i``.
    """

    discrete: bool
    size: int
    low: tuple[float, ...] = ()
    high: tuple[float, ...] = ()
    start: int = 0

    @classmethod
    def from_space(cls, space: gym.Space) -> ActionSpec:
        """Describe a Gymnasium ``Discrete`` or one-dimensional ``Box`` action space."""
        if isinstance(space, gym.spaces.Discrete):
            return cls(True, int(space.n), start=int(space.start))
        if isinstance(space, gym.spaces.Box) and len(space.shape) == 1:
            return cls(
                False,
                int(space.shape[0]),
                tuple(map(float, space.low)),
                tuple(map(float, space.high)),
            )
        raise InputError(f"unsupported action space {space}: expected Discrete or a 1-D Box")

    def to_env(self, action: jax.Array, head_kind: str) -> jax.Array:
        """Map policy actions to env actions: discrete ones are offset by :attr:`start`,
        squashed ones are rescaled from [-1, 1] to the bounds, other continuous ones are clipped
        to them."""
        if self.discrete:
            return action + self.start
        low, high = jnp.asarray(self.low), jnp.asarray(self.high)
        if head_kind == "squashed_gaussian":
            return low + (action + 1.0) * 0.5 * (high - low)
        return jnp.clip(action, low, high)


@dataclass(frozen=True)
class Networks:
    """A policy, with an optional state-value function and Q ensemble, its head and action spec;
    static under jit."""

    policy: PolicyNetwork
    head: PolicyHead
    action: ActionSpec
    value: ValueNetwork | None = None
    q: QEnsemble | None = None

    def init(self, key: jax.Array, obs: jax.Array) -> dict:
        """Initial parameters ``{"policy": ..., "value": ..., "q": ...}`` for a batch of example
        obs (only the networks that exist)."""
        policy_key, value_key, q_key = jax.random.split(key, 3)
        params = {"policy": self.policy.init(policy_key, obs)}
        if self.value is not None:
            params["value"] = self.value.init(value_key, obs)
        if self.q is not None:
            action = jnp.zeros((obs.shape[0], self.action.size), jnp.float32)
            params["q"] = self.q.init(q_key, obs, action)
        return params

    def distribution(self, params: dict, obs: jax.Array) -> distrax.Distribution:
        """The action distribution at ``obs``."""
        return self.head.distribution(*self.policy.apply(params["policy"], obs))

    def mode(self, params: dict, obs: jax.Array) -> jax.Array:
        """The deterministic action at ``obs`` (policy space)."""
        head, _ = self.policy.apply(params["policy"], obs)
        return self.head.mode(head)

    def state_value(self, params: dict, obs: jax.Array) -> jax.Array:
        """``V(obs)`` with shape ``[B]``."""
        return self.value.apply(params["value"], obs)

    def q_values(self, q_params: dict, obs: jax.Array, action: jax.Array) -> jax.Array:
        """``Q_i(obs, action)`` of every ensemble member, shape ``[size, B]``."""
        return self.q.apply(q_params, obs, action)


def _head_kind(requested: str, action: ActionSpec, continuous_default: str) -> str:
    if requested == "auto":
        return "categorical" if action.discrete else continuous_default
    if (requested == "categorical") != action.discrete:
        space = "discrete" if action.discrete else "continuous"
        raise InputError(
            f"model_config.policy.distribution: {requested!r} does not fit {space} actions"
        )
    return requested


def make_networks(
    config: ModelConfig,
    action_space: gym.Space,
    with_value: bool = False,
    with_q: bool = False,
    continuous_default: str = "gaussian",
) -> Networks:
    """Build the networks for an action space.

    :param config: model section of the experiment config.
    :param action_space: the env's (single) action space.
    :param with_value: also build the state-value network (actor-critic learners).
    :param with_q: also build the Q ensemble (``config.q``, ``config.num_q`` members).
    :param continuous_default: the head ``distribution: auto`` means for continuous actions.
    """
    action = ActionSpec.from_space(action_space)
    policy_config = config.policy
    kind = _head_kind(policy_config.distribution, action, continuous_default)
    bounded = np.isfinite(action.low).all() and np.isfinite(action.high).all()
    if kind == "squashed_gaussian" and not bounded:
        raise InputError(
            "model_config.policy.distribution: a squashed_gaussian head rescales [-1, 1] to the "
            f"env's action bounds, which must be finite; got low={list(action.low)}, "
            f"high={list(action.high)} (outside sac, a 'gaussian' head clips to them instead)"
        )
    log_std = "none" if kind in ("categorical", "deterministic") else policy_config.std
    policy = PolicyNetwork(
        layers=tuple(policy_config.network.layers),
        activation=policy_config.network.activation,
        outputs=action.size,
        log_std=log_std,
        init_std=policy_config.init_std,
        matmul_dtype=config.matmul_dtype,
    )
    value = None
    if with_value:
        value = ValueNetwork(
            tuple(config.value.layers), config.value.activation, config.matmul_dtype
        )
    q = None
    if with_q:
        q = QEnsemble(
            tuple(config.q.layers), config.q.activation, config.num_q, config.matmul_dtype
        )
    return Networks(policy, PolicyHead(kind, policy_config.min_std), action, value, q)


def refuse_unread_policy_keys(config: ModelConfig, networks: Networks) -> None:
    """Refuse Gaussian-head keys (``std``, ``init_std``, ``min_std``) set to other than their
    defaults when the head has no standard deviation (categorical or deterministic), where the
    run would ignore them. Called for new runs only, so that older runs stay readable.

    :raises InputError: naming the key and the head.
    """
    kind = networks.head.kind
    if kind not in ("categorical", "deterministic"):
        return
    policy = config.policy
    for key in ("std", "init_std", "min_std"):
        if _changed(policy, key):
            raise InputError(
                f"model_config.policy.{key}: read by Gaussian heads only, and this policy's head "
                f"is {kind} (distribution: {policy.distribution!r}); remove the key"
            )


def require_log_prob(networks: Networks, learner: str) -> None:
    """Refuse a deterministic policy head for a learner whose loss is built on ``log π(a)``
    (policy gradients): its log-probability is a constant, so the policy would never learn.

    :raises ValueError: naming ``model_config.policy.distribution``.
    """
    if networks.head.kind == "deterministic":
        raise InputError(
            f"model_config.policy.distribution: 'deterministic' has no log-probability, which "
            f"{learner}'s policy gradient needs; use 'auto', 'gaussian' or 'squashed_gaussian'"
        )


def check_observation_space(space: gym.Space, env_id: str) -> None:
    """Refuse observations the networks cannot take: they read a flat vector of floats, so the
    observations must be a ``Box`` (of any shape; it is flattened).

    :raises ValueError: naming ``learner_config.env_config.env_id``, the env and its space.
    """
    if not isinstance(space, gym.spaces.Box):
        raise InputError(
            f"learner_config.env_config.env_id: {env_id} observes {space}, but JAXL's networks "
            "take Box observations (arrays of numbers), and jaxl.envs.make_env gives one for "
            "every env it builds"
        )


def example_obs(space: gym.Space) -> np.ndarray:
    """A batch of one zero observation, for initialising parameters."""
    return np.zeros((1, *space.shape), np.float32)
