"""The training loop: update, log, evaluate and checkpoint on the configured cadence."""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from jaxl.config.schema import EnvConfig
from jaxl.envs import evaluate_policy, task_params
from jaxl.learners import Learner
from jaxl.seeds import MAX_SEED
from jaxl.training.checkpoints import CheckpointError, CheckpointStore
from jaxl.training.interrupts import StopNow, TrainingInterrupted, deferred_interrupt
from jaxl.training.metrics import MetricsLog
from jaxl.training.progress import Progress
from jaxl.training.run_dir import RunDirectory, write_json_atomic

EPISODES_SINCE_ROW = "episodes_since_row"
"""Key of a checkpoint's record that holds the training episodes completed since the last row of
``metrics.csv``, as ``[return, length]`` pairs: the next row's ``train_return`` averages them too,
after a resume as without one."""

EVAL_SEED_OFFSET = 1_000_003
"""Evaluation episodes are seeded from ``run seed + EVAL_SEED_OFFSET``: other starts than training."""


def eval_seed(run_seed: int) -> int:
    """The evaluation seed of a run: ``run_seed + EVAL_SEED_OFFSET``, wrapped to stay a valid seed
    (:data:`jaxl.seeds.MAX_SEED`)."""
    return (run_seed + EVAL_SEED_OFFSET) % (MAX_SEED + 1)


def evaluate(learner: Learner, episodes: int, deterministic: bool, seed: int) -> np.ndarray:
    """Returns of ``episodes`` evaluation episodes of the learner's current policy."""
    return evaluate_policy(
        learner.act_fn(deterministic, seed), learner.eval_env_config, episodes, seed
    )


def evaluation_record(
    env_config: EnvConfig,
    returns: np.ndarray,
    checkpoint_step: int,
    env_steps: int,
    deterministic: bool,
    seed: int,
) -> dict[str, Any]:
    """What an evaluation measured, as ``evaluation.json`` and ``jaxl eval --json`` give it:
    ``env_id``, ``task_seed``, ``task_params``, ``checkpoint_step``, ``env_steps``,
    ``episodes``, ``deterministic``, ``seed``, ``mean_return``, ``std_return``, ``min_return``,
    ``max_return`` and ``returns``. ``task_params`` are the physics of a parameterized env's
    variant; ``None`` for other envs and for physics redrawn at every episode."""
    return {
        "env_id": env_config.env_id,
        "task_seed": env_config.task_seed,
        "task_params": task_params(env_config),
        "checkpoint_step": checkpoint_step,
        "env_steps": env_steps,
        "episodes": len(returns),
        "deterministic": deterministic,
        "seed": seed,
        "mean_return": float(returns.mean()),
        "std_return": float(returns.std()),
        "min_return": float(returns.min()),
        "max_return": float(returns.max()),
        "returns": returns.tolist(),
    }


def _training_evaluation(learner: Learner) -> np.ndarray:
    """Returns of an evaluation as training runs it: ``eval_episodes`` episodes from the run's
    evaluation seed."""
    train_config = learner.config.train_config
    return evaluate(
        learner,
        train_config.eval_episodes,
        train_config.deterministic_eval,
        eval_seed(learner.seed),
    )


def _final_record(learner: Learner, returns: np.ndarray) -> dict[str, Any]:
    return evaluation_record(
        learner.eval_env_config,
        returns,
        learner.update_count,
        learner.env_steps,
        learner.config.train_config.deterministic_eval,
        eval_seed(learner.seed),
    )


def final_evaluation(learner: Learner) -> dict[str, Any]:
    """Evaluate the learner as training does, as the record ``evaluation.json`` holds
    (:func:`evaluation_record`)."""
    return _final_record(learner, _training_evaluation(learner))


def _due(update: int, interval: int | None, last: bool) -> bool:
    return last or (interval is not None and update % interval == 0)


def _read_record(record: dict[str, Any], where: Path) -> tuple[float, list[tuple[float, int]]]:
    """A restored checkpoint's training time so far and the episodes since the last metrics row.

    :raises CheckpointError: the record is not the one the loop writes (before anything in the
        run directory is changed).
    """
    try:
        elapsed = float(record["wall_time"])
        # Checkpoints written before this key existed resume without those episodes.
        episodes = [(float(r), int(n)) for r, n in record.get(EPISODES_SINCE_ROW, [])]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CheckpointError(
            f"checkpoint {where}: its record is damaged ({type(error).__name__}: {error}); "
            "nothing was changed"
        ) from None
    if not math.isfinite(elapsed) or elapsed < 0:
        raise CheckpointError(
            f"checkpoint {where}: its record's wall_time is {elapsed}; nothing was changed"
        )
    return elapsed, episodes


def train(
    learner: Learner,
    run: RunDirectory,
    record: dict[str, Any] | None = None,
    on_resumed: Callable[[Learner], None] | None = None,
) -> dict[str, Any]:
    """Train ``learner`` to its budget, writing metrics, checkpoints and the final evaluation.

    :param learner: a freshly built learner, or one restored from a checkpoint.
    :param run: the run directory.
    :param record: the restored checkpoint's record (resuming), or ``None`` (a new run).
    :param on_resumed: resuming, called with the learner once the checkpoint's record and the
        run's metrics have been checked, before the first update.
    :return: the final evaluation (also written to ``evaluation.json``).
    """
    config = learner.config
    logging_config, train_config = config.logging_config, config.train_config
    total = learner.total_updates
    tensorboard = run.tensorboard if logging_config.tensorboard else None
    metrics = MetricsLog(run.metrics_path, tensorboard)
    store = CheckpointStore(run.checkpoints, keep=logging_config.keep_checkpoints)
    elapsed_before = 0.0
    episodes: list[tuple[float, int]] = []
    """Training episodes (return, length) completed since the last row of ``metrics.csv``."""
    if record is not None:
        elapsed_before, episodes = _read_record(record, run.checkpoints / str(learner.update_count))
        metrics.truncate_after(learner.update_count)
        if on_resumed is not None:
            on_resumed(learner)
    progress = Progress(total, start_update=learner.update_count)
    start = time.perf_counter()
    last_eval = math.nan
    final: dict[str, Any] = {}
    warming_up = learner.warming_up
    with deferred_interrupt() as stop_requested:
        try:
            while learner.update_count < total:
                row: dict[str, Any] = learner.update()
                episodes += learner.pop_completed_episodes()
                update, env_steps = learner.update_count, learner.env_steps
                last = update == total
                wall = elapsed_before + time.perf_counter() - start
                row.update(
                    update=update,
                    env_steps=env_steps,
                    wall_time=wall,
                    steps_per_second=env_steps / wall,
                    updates_per_second=update / wall,
                )
                evaluated = _due(update, train_config.eval_interval, last)
                if evaluated:
                    returns = _training_evaluation(learner)
                    last_eval = float(returns.mean())
                    row.update(eval_return_mean=last_eval, eval_return_std=float(returns.std()))
                    if last:  # the record of evaluation.json (it builds the env once more)
                        final = _final_record(learner, returns)
                if evaluated or _due(update, logging_config.log_interval, last):
                    if learner.task == "reinforcement":
                        returns = [episode_return for episode_return, _ in episodes]
                        row["train_return"] = float(np.mean(returns)) if returns else math.nan
                        row["train_episodes"] = len(returns)
                        episodes = []
                    with stop_requested.held():  # a row half-written to TensorBoard's queue
                        metrics.write(row)
                stopping = stop_requested() and not last
                if stopping or _due(update, logging_config.checkpoint_interval, last):
                    with stop_requested.held():  # a second Ctrl-C waits for it
                        store.save(
                            update,
                            learner.checkpoint(),
                            {
                                "update": update,
                                "env_steps": env_steps,
                                "wall_time": wall,
                                EPISODES_SINCE_ROW: [[float(r), int(n)] for r, n in episodes],
                            },
                        )
                progress.update(update, env_steps, last_eval)
                was_warming_up, warming_up = warming_up, learner.warming_up
                if was_warming_up and not warming_up:
                    progress.restart_rate()
                if stopping:
                    raise TrainingInterrupted(run.path, update, stop_requested())
        except TrainingInterrupted:
            raise
        except KeyboardInterrupt as error:  # a second Ctrl-C or SIGTERM, during an update
            steps = store.steps()
            number = error.signal_number if isinstance(error, StopNow) else signal.SIGINT
            raise TrainingInterrupted(run.path, steps[-1] if steps else None, number) from None
        finally:
            progress.close()
            metrics.close()
            store.close()
    if final:
        write_json_atomic(run.evaluation_path, final)
    return final
