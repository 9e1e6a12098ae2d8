"""What the CLI commands do: start, resume, evaluate and gather from runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jaxl import __version__
from jaxl.buffers import TransitionNumPyBuffer, Transitions
from jaxl.config import ExperimentConfig, load_config
from jaxl.envs import evaluate_policy
from jaxl.envs.collector import episode_seed
from jaxl.learners import Learner, make_learner
from jaxl.training import loop
from jaxl.training.checkpoints import CheckpointStore
from jaxl.training.run_dir import RunDirectory, create_run_directory, open_run_directory


@dataclass(frozen=True)
class TrainResult:
    """Where a run was written and its final evaluation."""

    run: RunDirectory
    evaluation: dict[str, Any]


def start_training(
    config: ExperimentConfig | str | Path,
    seed: int = 0,
    out: str | None = None,
    overrides: Sequence[str] = (),
    on_created=None,
) -> TrainResult:
    """Validate a config, create a run directory and train to the configured budget.

    Validation and learner construction happen before the run directory exists, so a bad config
    leaves nothing behind.

    :param config: a validated config or the path of a JSON config.
    :param seed: the run seed.
    :param out: overrides ``logging_config.save_path``.
    :param overrides: ``KEY.PATH=VALUE`` strings (only with a path).
    :param on_created: called with the :class:`RunDirectory` as soon as it exists.
    """
    if not isinstance(config, ExperimentConfig):
        config = load_config(config, overrides)
    learner = make_learner(config, seed)
    run, resolved = create_run_directory(config, seed, out)
    learner.config = resolved
    if on_created is not None:
        on_created(run)
    return TrainResult(run, loop.train(learner, run))


def restore_learner(
    run_dir: str | Path, checkpoint: int | str | None = None
) -> tuple[RunDirectory, Learner, dict[str, Any], int]:
    """Rebuild a run's learner and load a checkpoint into it.

    :return: ``(run, learner, checkpoint record, checkpoint step)``.
    :raises ConfigError: not a run directory.
    :raises CheckpointError: the checkpoint is missing or corrupt (nothing is changed).
    """
    run, config = open_run_directory(run_dir)
    store = CheckpointStore(run.checkpoints)
    try:
        step = store.resolve_step(checkpoint)
        learner = make_learner(config, config.seed)
        items, record, step = store.restore(step, learner.checkpoint_targets())
    finally:
        store.close()
    learner.restore(items)
    return run, learner, record, step


def resume_training(run_dir: str | Path) -> TrainResult:
    """Continue an interrupted run from its latest checkpoint to its configured budget."""
    run, learner, record, _ = restore_learner(run_dir)
    return TrainResult(run, loop.train(learner, run, record))


def evaluate_run(
    run_dir: str | Path,
    episodes: int,
    checkpoint: int | str | None = None,
    deterministic: bool | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Evaluate a run's checkpoint for ``episodes`` episodes.

    :param deterministic: act with the policy's mode (default: the config's ``deterministic_eval``).
    :param seed: evaluation seed (default: the one training used for its evaluations).
    :return: ``mean_return``, ``std_return``, ``min_return``, ``max_return``, ``episodes``,
        ``checkpoint_step``, ``returns`` and more.
    """
    run, learner, record, step = restore_learner(run_dir, checkpoint)
    if deterministic is None:
        deterministic = learner.config.train_config.deterministic_eval
    if seed is None:
        seed = learner.seed + loop.EVAL_SEED_OFFSET
    returns = loop.evaluate(learner, episodes, deterministic, seed)
    return {
        "run_dir": str(run.path),
        "env_id": learner.eval_env_config.env_id,
        "checkpoint_step": step,
        "env_steps": int(record.get("env_steps", 0)),
        "episodes": episodes,
        "deterministic": deterministic,
        "mean_return": float(returns.mean()),
        "std_return": float(returns.std()),
        "min_return": float(returns.min()),
        "max_return": float(returns.max()),
        "returns": returns.tolist(),
    }


def gather_dataset(
    run_dir: str | Path,
    episodes: int,
    out: str | Path,
    deterministic: bool = False,
    env_seed: int = 0,
    checkpoint: int | str | None = None,
) -> dict[str, Any]:
    """Roll out a run's policy and write the transitions as a dataset a BC config can name.

    Episodes are stored one after another; the file's metadata records the environment, the
    policy source (run, checkpoint, deterministic or not), the episode count and the returns.

    :return: a summary with ``path``, ``episodes``, ``transitions``, ``mean_return``, ``returns``.
    """
    run, learner, _, step = restore_learner(run_dir, checkpoint)
    env_config = learner.eval_env_config
    per_episode: list[list[tuple]] = [[] for _ in range(episodes)]

    def record(i, obs, action, reward, next_obs, terminated, truncated):
        per_episode[i].append((obs, action, reward, next_obs, terminated, truncated))

    returns = evaluate_policy(
        learner.act_fn(deterministic), env_config, episodes, env_seed, on_step=record
    )
    from jaxl.envs import make_env

    env = make_env(env_config)
    size = sum(len(steps) for steps in per_episode)
    buffer = TransitionNumPyBuffer.for_spaces(size, env.observation_space, env.action_space)
    env.close()
    for steps in per_episode:
        buffer.add(Transitions(*(np.stack(column) for column in zip(*steps, strict=True))))
    lengths = [len(steps) for steps in per_episode]
    buffer.save(
        out,
        {
            "env": env_config.model_dump(mode="json"),
            "policy_source": {
                "run_dir": str(run.path),
                "checkpoint_step": step,
                "learner": learner.config.learner_config.learner,
                "deterministic": deterministic,
            },
            "episodes": episodes,
            "returns": returns.tolist(),
            "episode_lengths": lengths,
            "env_seeds": [episode_seed(env_seed, i, 0) for i in range(episodes)],
            "jaxl_version": __version__,
        },
    )
    return {
        "path": str(Path(out).resolve()),
        "episodes": episodes,
        "transitions": size,
        "mean_return": float(returns.mean()),
        "std_return": float(returns.std()),
        "returns": returns.tolist(),
        "checkpoint_step": step,
    }
