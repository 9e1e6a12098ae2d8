"""Observations that are not arrays of numbers, given to the networks as flat float32 vectors.

JAXL's networks read a vector of floats. An env that observes a ``Discrete`` state (FrozenLake,
Taxi), a ``Tuple`` or a ``Dict`` gets Gymnasium's flattening: a ``Discrete(n)`` state becomes a
one-hot vector of ``n``, and the parts of a ``Tuple`` or ``Dict`` are flattened and concatenated,
as Stable-Baselines3 preprocesses such observations.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import DtypeObservation, FlattenObservation


def flatten_observations(env: gym.Env) -> gym.Env:
    """``env`` itself when it observes a ``Box``; otherwise ``env`` wrapped to observe
    ``gymnasium.spaces.flatten_space`` of its space, as float32 (one-hot for ``Discrete``)."""
    if isinstance(env.observation_space, gym.spaces.Box):
        return env
    return DtypeObservation(FlattenObservation(env), np.float32)
