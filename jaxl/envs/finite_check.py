"""Stop at the first observation or reward that is not a finite number, naming the env.

Physics drawn from extreme ranges can overflow (a CartPole pushed with a force of 1e30): the
observations become infinite or NaN, the policy's output NaN, and the run failed later with an
assertion deep inside Gymnasium about an invalid action.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from jaxl.errors import InputError


class NonFiniteObservationError(InputError):
    """An environment returned an observation or reward that is NaN or infinite."""


class FiniteCheck(gym.Wrapper):
    """Raise :class:`NonFiniteObservationError` when ``reset`` or ``step`` returns a
    non-finite observation or reward; pass everything else through unchanged."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        observation, info = self.env.reset(seed=seed, options=options)
        self._check(observation, 0.0, "reset")
        return observation, info

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._check(observation, reward, "step")
        return observation, reward, terminated, truncated, info

    def _check(self, observation: Any, reward: Any, where: str) -> None:
        if np.isfinite(observation).all() and np.isfinite(reward):
            return
        what = "observation" if not np.isfinite(observation).all() else "reward"
        physics = getattr(self.env.unwrapped, "task_params", None)
        drawn = (
            f" with the physics {dict(physics)}; the simulation is unstable with these values "
            "(check the parameter ranges)"
            if physics
            else ""
        )
        raise NonFiniteObservationError(
            f"{self.env.spec.id if self.env.spec else self.env}: {where} returned a non-finite "
            f"{what} (NaN or infinity){drawn}"
        )
