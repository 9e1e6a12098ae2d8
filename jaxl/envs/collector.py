"""Seeded vectorised environment stepping whose state can be saved and restored exactly.

Simulator state cannot be pickled portably (Gymnasium's MuJoCo envs pickle only their constructor
arguments). Instead every episode starts from ``reset(seed=s)`` with ``s`` derived from the run
seed, the env index and the episode number, and the collector keeps the actions taken since each
env's current episode began. A snapshot is those arrays; restoring resets each env with its
recorded seed and replays the actions, which reproduces a deterministic simulator bit for bit.
"""

from __future__ import annotations

import warnings

import numpy as np

from jaxl.buffers.numpy_buffers import Transitions
from jaxl.config.schema import EnvConfig
from jaxl.envs.make import make_vector_env

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def episode_seed(seed: int, env_index: int, episode_index: int) -> int:
    """The reset seed of episode ``episode_index`` of env ``env_index`` in a run seeded ``seed``.

    A SplitMix64 hash of the three numbers, truncated to 31 bits: cheap, and decorrelated across
    envs and episodes.
    """
    mixed = _splitmix64(_splitmix64(_splitmix64(seed & _MASK64) ^ env_index) ^ episode_index)
    return mixed & 0x7FFFFFFF


class VectorCollector:
    """Steps ``num_envs`` copies of an environment and resets finished episodes with derived seeds.

    :param env_config: the environment.
    :param num_envs: how many copies to step together.
    :param seed: the run seed from which every episode's reset seed is derived.
    """

    _TRIM_EVERY = 4096

    def __init__(self, env_config: EnvConfig, num_envs: int, seed: int) -> None:
        self.env = make_vector_env(env_config, num_envs)
        self.num_envs = num_envs
        self.seed = seed
        self.observation_space = self.env.single_observation_space
        self.action_space = self.env.single_action_space
        self.episode_index = np.zeros(num_envs, np.int64)
        self.episode_return = np.zeros(num_envs, np.float64)
        self.episode_length = np.zeros(num_envs, np.int64)
        self.total_steps = 0
        self._episode_start = np.zeros(num_envs, np.int64)
        self._log: list[np.ndarray] = []
        self._log_offset = 0
        self._completed: list[tuple[float, int]] = []
        self._episode_seed = np.array([episode_seed(seed, i, 0) for i in range(num_envs)], np.int64)
        self.obs, _ = self.env.reset(seed=self._episode_seed.tolist())

    def step(self, action: np.ndarray) -> Transitions:
        """Step every env with ``action`` (already in the env's action space); reset finished ones.

        :return: the step's transitions, one per env. ``next_obs`` is the true next observation
            (the final one for finished episodes), not the first observation of the next episode.
        """
        obs = self.obs
        # The sub-envs are stepped directly: SyncVectorEnv.step also merges every env's info
        # dict into arrays, which the collector never reads and which costs about a third of a
        # Hopper-v5 step.
        results = [env.step(row) for env, row in zip(self.env.envs, action, strict=True)]
        next_obs = np.stack([result[0] for result in results])
        next_obs = next_obs.astype(self.observation_space.dtype, copy=False)
        reward = np.array([result[1] for result in results], np.float64)
        terminated = np.array([result[2] for result in results], bool)
        truncated = np.array([result[3] for result in results], bool)
        self._log.append(np.array(action, copy=True))
        self.total_steps += 1
        self.episode_return += reward
        self.episode_length += 1
        done = terminated | truncated
        current = next_obs
        if done.any():
            current = self._reset_finished(done, next_obs)
        self.obs = current
        if len(self._log) >= self._TRIM_EVERY:
            self._trim()
        return Transitions(obs, action, reward, next_obs, terminated, truncated)

    def _reset_finished(self, done: np.ndarray, next_obs: np.ndarray) -> np.ndarray:
        for i in np.flatnonzero(done):
            self._completed.append((float(self.episode_return[i]), int(self.episode_length[i])))
            self.episode_index[i] += 1
            self.episode_return[i] = 0.0
            self.episode_length[i] = 0
            self._episode_start[i] = self.total_steps
            self._episode_seed[i] = episode_seed(self.seed, int(i), int(self.episode_index[i]))
        current = np.array(next_obs, copy=True)
        for i in np.flatnonzero(done):
            current[i], _ = self.env.envs[i].reset(seed=int(self._episode_seed[i]))
        return current

    def pop_completed(self) -> list[tuple[float, int]]:
        """Returns and lengths of the episodes finished since the last call."""
        completed, self._completed = self._completed, []
        return completed

    def _trim(self) -> None:
        oldest = int(self._episode_start.min())
        drop = oldest - self._log_offset
        if drop > 0:
            del self._log[:drop]
            self._log_offset = oldest

    def snapshot(self) -> dict[str, np.ndarray]:
        """The collector's state as arrays (for a checkpoint)."""
        self._trim()
        # Orbax cannot save empty arrays, so the log always has at least one (padding) row and its
        # true length is saved beside it.
        shape = (1, self.num_envs, *self.action_space.shape)
        actions = np.stack(self._log) if self._log else np.zeros(shape, self.action_space.dtype)
        return {
            "actions": actions,
            "action_count": np.asarray(len(self._log), np.int64),
            "log_offset": np.asarray(self._log_offset, np.int64),
            "total_steps": np.asarray(self.total_steps, np.int64),
            "episode_start": self._episode_start.copy(),
            "episode_index": self.episode_index.copy(),
            "episode_seed": self._episode_seed.copy(),
            "episode_return": self.episode_return.copy(),
            "episode_length": self.episode_length.copy(),
            "obs": np.array(self.obs, copy=True),
        }

    def restore(self, snapshot: dict[str, np.ndarray]) -> None:
        """Bring every env back to the state recorded in ``snapshot``: reset each env with the
        recorded seed of its current episode and replay the recorded actions.

        Warns if the replayed observations differ from the recorded ones (a non-deterministic env).
        """
        actions = np.asarray(snapshot["actions"])[: int(snapshot["action_count"])]
        offset = int(snapshot["log_offset"])
        self.episode_index = np.asarray(snapshot["episode_index"], np.int64).copy()
        self._episode_start = np.asarray(snapshot["episode_start"], np.int64).copy()
        obs = []
        self._episode_seed = np.asarray(snapshot["episode_seed"], np.int64).copy()
        for i, env in enumerate(self.env.envs):
            current, _ = env.reset(seed=int(self._episode_seed[i]))
            for action in actions[int(self._episode_start[i]) - offset :, i]:
                current = env.step(action)[0]
            obs.append(current)
        obs = np.stack(obs).astype(self.env.observation_space.dtype)
        recorded = np.asarray(snapshot["obs"])
        if not np.array_equal(obs, recorded):
            warnings.warn(
                "environment replay did not reproduce the checkpointed observations; "
                "the environment is not deterministic, so the resumed run will differ",
                stacklevel=2,
            )
        self.obs = recorded.copy()
        self._log = list(actions)
        self._log_offset = offset
        self.total_steps = int(snapshot["total_steps"])
        self.episode_return = np.asarray(snapshot["episode_return"], np.float64).copy()
        self.episode_length = np.asarray(snapshot["episode_length"], np.int64).copy()
        self._completed = []

    def close(self) -> None:
        """Close the environments."""
        self.env.close()
