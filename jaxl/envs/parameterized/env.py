"""The parameterized environment and the wrappers that change its spaces.

:class:`ParameterizedEnv` is what ``gym.make("jaxl/...")`` returns underneath Gymnasium's own
wrappers, so ``env.unwrapped.task_params`` holds the drawn values. ``task_seed`` fixes the physics
once at construction (multi-task); ``resample="episode"`` draws new physics at every reset from the
reset seed (domain randomization). :class:`ObserveParams` appends the normalized parameter vector
to observations; :class:`DiscreteActions` replaces a ``Box`` action space with a grid of actions.
"""

from __future__ import annotations

import itertools
from typing import Literal

import gymnasium as gym
import numpy as np

from jaxl.envs.parameterized.sampling import draw, normalized_vector
from jaxl.envs.parameterized.spec import EnvParameterSpec, SpecError
from jaxl.errors import InputError

Resample = Literal["never", "episode"]
ControlMode = Literal["continuous", "discrete", "bang_bang"]


class ParameterizedEnv(gym.Env):
    """An environment whose physical parameters are drawn from a spec.

    :param physics: the adapter that holds the base env and writes values into it
        (see :mod:`jaxl.envs.parameterized.physics`).
    :param spec: the parameters, ranges and laws (defaults filled in from the model).
    :param task_seed: draw the physics once from this seed; ``None`` keeps the unmodified env.
    :param resample: ``"episode"`` draws new physics at every reset, from the reset seed.
    """

    def __init__(
        self,
        physics,
        spec: EnvParameterSpec,
        task_seed: int | None = None,
        resample: Resample = "never",
    ) -> None:
        if task_seed is not None and (
            isinstance(task_seed, bool) or not isinstance(task_seed, int) or task_seed < 0
        ):
            raise InputError(f"task_seed: expected an integer >= 0 or null, got {task_seed!r}")
        if resample not in ("never", "episode"):
            raise InputError(f"resample: expected 'never' or 'episode', got {resample!r}")
        if resample == "episode" and task_seed is not None:
            raise InputError(
                f"task_seed {task_seed} with resample 'episode': the physics are drawn from "
                "every reset's seed, so the task seed's variant would never be simulated; give "
                "one of the two"
            )
        self._physics = physics
        self.spec_params = spec
        self.task_seed = task_seed
        self.resample = resample
        base = physics.env
        self.observation_space = base.observation_space
        self.action_space = base.action_space
        self.metadata = base.metadata
        self.render_mode = base.render_mode
        self.task_params: dict[str, float] = self.default_params()
        """The parameter values in use (the defaults while the env is unmodified)."""
        if task_seed is not None:
            self.set_params(draw(spec.parameters, task_seed))

    @property
    def base_env(self) -> gym.Env:
        """The environment being modified."""
        return self._physics.env

    @property
    def model(self):
        """The compiled :class:`mujoco.MjModel` in use (``None`` for classic control)."""
        return self._physics.model

    def default_params(self) -> dict[str, float]:
        return {p.name: p.default for p in self.spec_params.parameters}

    def set_params(self, values: dict[str, float]) -> None:
        """Rebuild the physics with ``values`` (every parameter of the spec, by name)."""
        missing = set(self.spec_params.names()) - set(values)
        if missing:
            raise SpecError(f"set_params: no value for {', '.join(sorted(missing))}")
        self._physics.apply(self.spec_params.parameters, values)
        self.task_params = {name: float(values[name]) for name in self.spec_params.names()}

    def model_value(self, name: str) -> float:
        """Parameter ``name`` read back from the built physics (the compiled MuJoCo model, or the
        env's attribute), as a check that the drawn value took effect."""
        by_name = {p.name: p for p in self.spec_params.parameters}
        if name not in by_name:
            raise KeyError(f"no parameter {name!r}; parameters: {', '.join(by_name)}")
        return self._physics.value(by_name[name])

    def param_vector(self) -> np.ndarray:
        """The current values normalized to [-1, 1] over their ranges, in spec order."""
        return normalized_vector(self.spec_params.parameters, self.task_params)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Reset the base env, after drawing new physics from ``seed`` with
        ``resample="episode"``; ``info["task_params"]`` holds the values in use."""
        super().reset(seed=seed)
        if self.resample == "episode":
            episode_seed = seed if seed is not None else int(self.np_random.integers(2**31 - 1))
            self.set_params(draw(self.spec_params.parameters, (episode_seed,)))
        observation, info = self._physics.env.reset(seed=seed, options=options)
        return observation, {**info, "task_params": dict(self.task_params)}

    def step(self, action):
        """Step the base env (actions scaled first where the spec says so, e.g. Pendulum's
        ``max_torque``)."""
        scale = self._physics.action_scale
        if scale is not None:
            action = np.asarray(action, dtype=np.float32) * scale
        return self._physics.env.step(action)

    def render(self):
        """The env's frame: the base env's, or for ``rgb_array`` frames of an env whose base
        leaves a drawn parameter out of its picture, one drawn here (Pendulum's rod length)."""
        if self._physics.frame is not None and self.render_mode == "rgb_array":
            return self._physics.frame(self._physics.env)
        return self._physics.env.render()

    def close(self) -> None:
        self._physics.env.close()


class ObserveParams(gym.ObservationWrapper):
    """Append the normalized parameter vector (in [-1, 1]) to every observation."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise InputError(f"observe_params needs a flat Box observation space, got {space}")
        unmodified = env.unwrapped
        missing = [name for name, value in unmodified.task_params.items() if value is None]
        if missing and unmodified.task_seed is None and unmodified.resample == "never":
            raise InputError(
                f"observe_params: the unmodified env (task_seed null) has no value for "
                f"{', '.join(missing)}; set task_seed or resample: episode"
            )
        count = len(env.unwrapped.spec_params.parameters)
        self.observation_space = gym.spaces.Box(
            np.concatenate([space.low, -np.ones(count)]).astype(space.dtype),
            np.concatenate([space.high, np.ones(count)]).astype(space.dtype),
            dtype=space.dtype,
        )

    def observation(self, observation):
        vector = self.env.unwrapped.param_vector().astype(self.observation_space.dtype)
        return np.concatenate([observation, vector])


class DiscreteActions(gym.ActionWrapper):
    """Replace a ``Box`` action space by ``Discrete(n ** d)``: every combination of ``n`` levels
    per dimension.

    ``discrete`` uses ``bins`` evenly spaced levels from low to high (3: low, middle, high);
    ``bang_bang`` uses the two extremes.
    """

    def __init__(self, env: gym.Env, mode: ControlMode, bins: int = 3, max_actions: int = 100_000):
        super().__init__(env)
        space = env.action_space
        if not isinstance(space, gym.spaces.Box):
            raise InputError(
                f"control_mode {mode!r} needs a continuous (Box) action space, got {space}"
            )
        if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
            raise InputError(f"control_mode {mode!r} needs finite action bounds, got {space}")
        levels = 2 if mode == "bang_bang" else bins
        if levels < 2:
            raise InputError(f"discrete_bins: expected at least 2, got {bins}")
        dims = int(np.prod(space.shape))
        if levels**dims > max_actions:
            raise InputError(
                f"control_mode {mode!r}: {levels}^{dims} = {levels**dims} actions is more than "
                f"{max_actions}; use fewer bins or continuous control"
            )
        grids = [
            np.linspace(lo, hi, levels, dtype=space.dtype)
            for lo, hi in zip(space.low.ravel(), space.high.ravel(), strict=True)
        ]
        self.table = np.array(list(itertools.product(*grids)), dtype=space.dtype).reshape(
            -1, *space.shape
        )
        """``table[i]`` is the continuous action that discrete action ``i`` stands for."""
        self.action_space = gym.spaces.Discrete(len(self.table))

    def action(self, action):
        return self.table[int(action)]
