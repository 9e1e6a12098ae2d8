"""Build Gymnasium environments from :class:`~jaxl.config.EnvConfig`."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from jaxl.config.schema import EnvConfig
from jaxl.envs.finite_check import FiniteCheck
from jaxl.envs.flat_observations import flatten_observations
from jaxl.envs.mujoco_warnings import dropping_mujoco_warnings
from jaxl.envs.parameterized.spec import SpecError
from jaxl.errors import InputError


class EnvError(InputError):
    """An environment could not be built; the message names the env id and the cause."""


def unknown_env_message(env_id: str) -> str | None:
    """Return a message if ``env_id`` is not registered with Gymnasium, else ``None``."""
    if env_id in gym.registry:
        return None
    from jaxl.config.original_keys import original_env_id_hint

    original = original_env_id_hint(env_id)
    if original:
        return f"unknown environment {env_id!r}; {original}"
    close = difflib.get_close_matches(env_id, list(gym.registry), n=3)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return f"unknown environment {env_id!r}{hint}"


def parameterized_env_message(config: EnvConfig) -> str | None:
    """Return a message if ``config`` sets parameterized-env keys for an env that has none."""
    from jaxl.envs.parameterized import PARAMETERIZED_ENVS

    keys = config.parameterized_kwargs()
    if not keys or config.env_id in PARAMETERIZED_ENVS:
        return None
    candidate = f"jaxl/{config.env_id}"
    hint = f" (did you mean {candidate!r}?)" if candidate in PARAMETERIZED_ENVS else ""
    verb = "applies" if len(keys) == 1 else "apply"
    return (
        f"{', '.join(keys)} only {verb} to parameterized envs (jaxl/...; see `jaxl envs list`), "
        f"and {config.env_id!r} is not one{hint}"
    )


def make_env(config: EnvConfig) -> gym.Env:
    """Create one environment. One that does not observe a ``Box`` observes a flat float32
    vector instead (:func:`~jaxl.envs.flat_observations.flatten_observations`: one-hot for a
    ``Discrete`` state), and a non-finite observation or reward stops the run with an error
    naming the env (:class:`~jaxl.envs.finite_check.FiniteCheck`).

    :param config: env id, keyword arguments, optional time limit and, for a parameterized env,
        its task seed, resampling, observation and control options.
    :raises EnvError: the id is unknown, a parameter spec is invalid, or construction failed.
    """
    message = unknown_env_message(config.env_id) or parameterized_env_message(config)
    if message:
        raise EnvError(message)
    kwargs = {**config.env_kwargs, **config.parameterized_kwargs()}
    if kwargs.get("resample") == "episode" and kwargs.get("task_seed") is not None:
        # Runs and datasets made before configs refused the pair recorded both; the task seed
        # had no effect on them (the physics were drawn at every reset), and has none here.
        del kwargs["task_seed"]
    if config.max_episode_steps is not None:
        kwargs["max_episode_steps"] = config.max_episode_steps
    try:
        with dropping_mujoco_warnings():
            env = gym.make(config.env_id, **kwargs)
            if config.env_kwargs:
                env = NamingEnvKwargs(env, config.env_kwargs)
            return FiniteCheck(flatten_observations(env))
    except SpecError as error:
        raise EnvError(f"{config.env_id}: {error}") from error
    except Exception as error:  # gymnasium raises many types; name the env in all cases
        raise EnvError(f"could not create {config.env_id!r} with {kwargs}: {error}") from error


class NamingEnvKwargs(gym.Wrapper):
    """Turn an exception that ``reset`` or ``step`` of an env made with ``env_kwargs`` raises
    into an :class:`EnvError` that names them: a value of the wrong type (``{"g": "abc"}`` for
    Pendulum) is accepted by the constructor and fails only there, deep inside the env's code.

    :param env_kwargs: the keyword arguments the env was made with.
    """

    def __init__(self, env: gym.Env, env_kwargs: dict[str, Any]) -> None:
        super().__init__(env)
        self.env_kwargs = env_kwargs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        try:
            return self.env.reset(seed=seed, options=options)
        except InputError:
            raise
        except Exception as error:
            raise self._naming_env_kwargs(error, "reset") from error

    def step(self, action):
        try:
            return self.env.step(action)
        except InputError:
            raise
        except Exception as error:
            raise self._naming_env_kwargs(error, "step") from error

    def _naming_env_kwargs(self, error: Exception, where: str) -> EnvError:
        name = self.env.spec.id if self.env.spec else type(self.env.unwrapped).__name__
        return EnvError(
            f"{name}: {where}() raised {type(error).__name__}: {error}; the env was made with "
            f"learner_config.env_config.env_kwargs {self.env_kwargs}: check their values"
        )


def task_params(config: EnvConfig) -> dict[str, float | None] | None:
    """The physical parameters ``config`` gives a parameterized env; ``None`` for another env and
    for physics redrawn at every episode (``resample: "episode"``), which no one set of values
    describes."""
    from jaxl.envs.parameterized import PARAMETERIZED_ENVS

    if config.env_id not in PARAMETERIZED_ENVS or config.resample == "episode":
        return None
    env = make_env(config)
    try:
        return dict(env.unwrapped.task_params)
    finally:
        env.close()


def _thunk(config: EnvConfig) -> Callable[[], gym.Env]:
    return lambda: make_env(config)


def make_vector_env(config: EnvConfig, num_envs: int) -> gym.vector.SyncVectorEnv:
    """Create ``num_envs`` copies stepped together, with automatic resets disabled.

    Resets are done by :class:`~jaxl.envs.VectorCollector` with explicit seeds, which makes every
    episode reproducible and lets a run be resumed exactly.
    """
    make_env(config).close()  # fail early, with the env named, before building the vector env
    return gym.vector.SyncVectorEnv(
        [_thunk(config) for _ in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.DISABLED,
    )
