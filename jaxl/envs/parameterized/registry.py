"""The parameterized envs, their construction, and their registration with Gymnasium.

``import jaxl.envs`` registers every env of :data:`PARAMETERIZED_ENVS` under the ``jaxl/``
namespace, so ``gym.make("jaxl/Hopper-v5", task_seed=3)`` works anywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import gymnasium as gym

from jaxl.envs.flat_observations import flatten_observations
from jaxl.envs.parameterized.env import (
    ControlMode,
    DiscreteActions,
    ObserveParams,
    ParameterizedEnv,
    Resample,
)
from jaxl.envs.parameterized.physics import (
    AttributePhysics,
    DMCPhysics,
    FrozenLakePhysics,
    MujocoPhysics,
    cartpole_derived,
    pendulum_frame,
)
from jaxl.envs.parameterized.spec import (
    EnvParameterSpec,
    ParameterOverride,
    SpecError,
    default_spec_path,
    load_spec,
)


@dataclass(frozen=True)
class EnvEntry:
    """One parameterized env: its id, what it modifies and how."""

    env_id: str
    base: str
    """A Gymnasium id, or ``domain-task`` of the DeepMind Control Suite."""
    physics: type
    physics_kwargs: tuple = ()

    @property
    def max_episode_steps(self) -> int | None:
        if self.physics is DMCPhysics:
            return None  # the task's own time limit ends the episode (truncation)
        return gym.spec(self.base).max_episode_steps


_MUJOCO = ("Hopper", "HalfCheetah", "Walker2d", "Ant", "Swimmer", "InvertedPendulum")
_DMC = (
    "cartpole-swingup",
    "cheetah-run",
    "walker-walk",
    "hopper-hop",
    "acrobot-swingup",
    "finger-turn_easy",
    "ball_in_cup-catch",
    "manipulator-bring_ball",
)

PARAMETERIZED_ENVS: dict[str, EnvEntry] = {
    entry.env_id: entry
    for entry in [
        *(
            EnvEntry(f"jaxl/{name}-v5", f"{name}-v5", MujocoPhysics)
            for name in (*_MUJOCO, "InvertedDoublePendulum")
        ),
        *(EnvEntry(f"jaxl/DMC-{name}-v0", name, DMCPhysics) for name in _DMC),
        EnvEntry(
            "jaxl/Pendulum-v1",
            "Pendulum-v1",
            AttributePhysics,
            (("scale_action_by", "max_torque"), ("frame", pendulum_frame)),
        ),
        EnvEntry("jaxl/Acrobot-v1", "Acrobot-v1", AttributePhysics),
        EnvEntry(
            "jaxl/CartPole-v1", "CartPole-v1", AttributePhysics, (("derive", cartpole_derived),)
        ),
        EnvEntry("jaxl/FrozenLake8x8-v1", "FrozenLake8x8-v1", FrozenLakePhysics),
    ]
}
"""Every parameterized env, by Gymnasium id."""


def _resolved_spec(physics, spec: EnvParameterSpec) -> EnvParameterSpec:
    """Fill in defaults from the model, check given defaults against it, check the ranges."""
    physics.check(spec.parameters)
    filled = []
    for parameter in spec.parameters:
        model_value = physics.default(parameter)
        if parameter.default is None:
            parameter = parameter.model_copy(update={"default": model_value})
        elif model_value is not None and not math.isclose(
            parameter.default, model_value, rel_tol=1e-6, abs_tol=1e-9
        ):
            raise SpecError(
                f"parameter {parameter.name!r}: default {parameter.default} does not match the "
                f"model's value {model_value}"
            )
        parameter.check_bounds()
        filled.append(parameter)
    return spec.model_copy(update={"parameters": filled})


def load_env_spec(
    env_id: str,
    parameter_spec: str | Path | None = None,
    parameter_overrides: dict | None = None,
) -> EnvParameterSpec:
    """The spec an env is built with: its shipped one or ``parameter_spec``, with overrides.

    Defaults are not yet filled in from the model (:func:`make_parameterized` does that).
    """
    spec = load_spec(parameter_spec or default_spec_path(env_id))
    if spec.env_id != env_id:
        raise SpecError(f"parameter spec {parameter_spec} is for {spec.env_id}, not {env_id}")
    overrides = {
        name: value
        if isinstance(value, ParameterOverride)
        else ParameterOverride.model_validate(value)
        for name, value in (parameter_overrides or {}).items()
    }
    return spec.with_overrides(overrides)


def make_parameterized(
    env_id: str,
    task_seed: int | None = None,
    resample: Resample = "never",
    observe_params: bool = False,
    control_mode: ControlMode = "continuous",
    discrete_bins: int = 3,
    parameter_spec: str | Path | None = None,
    parameter_overrides: dict | None = None,
    **base_kwargs,
) -> gym.Env:
    """Build a parameterized env (the entry point Gymnasium calls for ``jaxl/...`` ids).

    :param env_id: a key of :data:`PARAMETERIZED_ENVS`.
    :param task_seed: draw the physics once from this seed; ``None``: the unmodified env.
    :param resample: ``"episode"``: new physics at every reset, drawn from the reset seed.
    :param observe_params: append the normalized parameter vector to the observation (a
        ``Discrete`` state becomes a one-hot vector first).
    :param control_mode: ``discrete`` or ``bang_bang`` turn a Box action space into a
        ``Discrete`` one (see :class:`~jaxl.envs.parameterized.env.DiscreteActions`).
    :param discrete_bins: levels per action dimension in ``discrete`` mode.
    :param parameter_spec: a spec file to use instead of the shipped one.
    :param parameter_overrides: ``{name: {"range": [lo, hi], "range_type": ..., "law": ...}}``.
    :param base_kwargs: passed to the base env (``render_mode``, ...).
    """
    entry = PARAMETERIZED_ENVS[env_id]
    physics = entry.physics(entry.base, **dict(entry.physics_kwargs), **base_kwargs)
    spec = _resolved_spec(physics, load_env_spec(env_id, parameter_spec, parameter_overrides))
    env: gym.Env = ParameterizedEnv(physics, spec, task_seed=task_seed, resample=resample)
    if control_mode != "continuous":
        env = DiscreteActions(env, control_mode, discrete_bins)
    if observe_params:
        env = ObserveParams(flatten_observations(env))
    return env


def register_all() -> None:
    """Register every env of :data:`PARAMETERIZED_ENVS` with Gymnasium (idempotent)."""
    for env_id, entry in PARAMETERIZED_ENVS.items():
        if env_id not in gym.registry:
            gym.register(
                env_id,
                entry_point=partial(make_parameterized, env_id),
                max_episode_steps=entry.max_episode_steps,
            )
