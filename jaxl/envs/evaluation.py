"""Evaluate a policy for whole episodes on freshly built, seeded environments."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from jaxl.config.schema import EnvConfig
from jaxl.envs.collector import episode_seed
from jaxl.envs.make import make_env
from jaxl.seeds import check_seed

ActFn = Callable[[np.ndarray], np.ndarray]
"""Maps a batch of observations ``[B, *obs_shape]`` to a batch of env actions."""


StepHook = Callable[[int, np.ndarray, np.ndarray, float, np.ndarray, bool, bool], None]
"""Called as ``hook(episode, obs, action, reward, next_obs, terminated, truncated)``."""


def evaluate_policy(
    act: ActFn, env_config: EnvConfig, episodes: int, seed: int, on_step: StepHook | None = None
) -> np.ndarray:
    """Run ``episodes`` episodes in parallel (one env each) and return their undiscounted returns.

    Episode ``i`` starts from ``reset(seed=episode_seed(seed, i, 0))``, so an evaluation is
    reproducible. The policy sees the whole batch each step; finished envs are no longer stepped.

    :param act: batched policy.
    :param env_config: the environment.
    :param episodes: number of episodes.
    :param seed: evaluation seed.
    :param on_step: called for every step taken (e.g. to record a dataset).
    :return: array of ``episodes`` returns.
    """
    check_seed(seed)
    envs = [make_env(env_config) for _ in range(episodes)]
    try:
        obs = np.stack([env.reset(seed=episode_seed(seed, i, 0))[0] for i, env in enumerate(envs)])
        returns = np.zeros(episodes, np.float64)
        active = np.ones(episodes, bool)
        while active.any():
            actions = act(obs)
            for i in np.flatnonzero(active):
                next_obs, reward, terminated, truncated, _ = envs[i].step(actions[i])
                if on_step is not None:
                    on_step(i, obs[i].copy(), actions[i], reward, next_obs, terminated, truncated)
                returns[i] += reward
                obs[i] = next_obs
                if terminated or truncated:
                    active[i] = False
        return returns
    finally:
        for env in envs:
            env.close()
