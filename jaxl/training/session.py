"""What the CLI commands do: start, resume, evaluate and gather from runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jaxl import __version__
from jaxl.buffers import TransitionNumPyBuffer, Transitions
from jaxl.buffers.numpy_buffers import is_buffer_file
from jaxl.config import ExperimentConfig, load_config
from jaxl.config.schema import READING_A_RUN, EnvConfig
from jaxl.envs import evaluate_policy, make_env, task_params
from jaxl.envs.collector import episode_seed
from jaxl.errors import InputError
from jaxl.learners import Learner, make_learner
from jaxl.models.factory import refuse_unread_policy_keys
from jaxl.output_paths import OutputPathError, check_output_parent
from jaxl.seeds import check_seed
from jaxl.training import loop
from jaxl.training.checkpoints import CheckpointStore
from jaxl.training.run_dir import (
    RunDirectory,
    RunDirectoryError,
    create_run_directory,
    open_run_directory,
    remove_if_nothing_saved,
    training_lock,
    write_json_atomic,
)


@dataclass(frozen=True)
class TrainResult:
    """Where a run was written and its final evaluation."""

    run: RunDirectory
    evaluation: dict[str, Any]
    already_finished: bool = False
    """Resuming: the run had already reached its budget, so nothing was trained. ``evaluation``
    is empty and the run's ``evaluation.json`` left as it was, unless the run stopped between
    its last checkpoint and writing that file: then it holds the final evaluation, written now
    from the final checkpoint."""


def start_training(
    config: ExperimentConfig | str | Path,
    seed: int | None = None,
    out: str | None = None,
    overrides: Sequence[str] = (),
    on_created=None,
) -> TrainResult:
    """Validate a config, create a run directory and train to the configured budget.

    Validation and learner construction happen before the run directory exists, so a bad config
    leaves nothing behind; a run that fails before it saved a checkpoint or a row of metrics
    (an env whose drawn physics blow up, memory running out) has its directory removed, and the
    error a note saying so (:func:`~jaxl.training.run_dir.remove_if_nothing_saved`).

    :param config: a validated config or the path of a JSON config.
    :param seed: the run seed; ``None``: the config's ``seed`` key (set in a run's resolved
        config, or with ``--set seed=N``), else 0.
    :param out: overrides ``logging_config.save_path``.
    :param overrides: ``KEY.PATH=VALUE`` strings (only with a path).
    :param on_created: called with the :class:`~jaxl.training.run_dir.RunDirectory` as soon as
        it exists.
    """
    if seed is not None:
        check_seed(seed)
    if not isinstance(config, ExperimentConfig):
        config = load_config(config, overrides)
    if seed is None:
        seed = config.seed if config.seed is not None else 0
    learner = make_learner(config, seed)
    refuse_unread_policy_keys(config.model, learner.networks)
    if config.learner_config.env_config is None:
        # An offline run on the dataset's recorded env: write that env into the resolved config,
        # so that evaluating the run later does not need the dataset.
        learner_config = config.learner_config.model_copy(
            update={"env_config": learner.eval_env_config}
        )
        config = config.model_copy(update={"learner_config": learner_config})
    env_config = config.learner_config.env_config
    drawn = task_params(env_config) if env_config is not None else None
    dataset = _dataset_path(config)
    fingerprint = file_sha256(dataset) if dataset is not None else None
    run, resolved = create_run_directory(config, seed, out, drawn, fingerprint)
    learner.config = resolved
    try:
        with training_lock(run):
            if on_created is not None:
                on_created(run)
            return TrainResult(run, loop.train(learner, run))
    except Exception as error:  # not Ctrl-C or SIGTERM, which checkpoint first
        if remove_if_nothing_saved(run):
            error.add_note(f"jaxl: nothing had been saved, so {run.path} was removed")
        raise


def restore_learner(
    run_dir: str | Path, checkpoint: int | str | None = None, to_train: bool = True
) -> tuple[RunDirectory, Learner, dict[str, Any], int]:
    """Rebuild a run's learner and load a checkpoint into it.

    :param to_train: the learner will train on (resume). Otherwise it only acts (evaluate,
        gather), and an offline run's dataset is neither needed nor loaded.
    :return: ``(run, learner, checkpoint record, checkpoint step)``.
    :raises RunDirectoryError: not a run directory.
    :raises CheckpointError: the checkpoint is missing or corrupt (nothing is changed).
    """
    return _restore(*open_run_directory(run_dir, needs_dataset=to_train), checkpoint, to_train)


def _restore(
    run: RunDirectory, config: ExperimentConfig, checkpoint: int | str | None, to_train: bool
) -> tuple[RunDirectory, Learner, dict[str, Any], int]:
    """:func:`restore_learner` on an opened run directory."""
    # Runs made before the resolved config named the dataset's env need the dataset for it.
    env_in_dataset = config.learner_config.env_config is None
    store = CheckpointStore(run.checkpoints)
    try:
        step = store.resolve_step(checkpoint)
        learner = make_learner(config, config.seed, with_dataset=to_train or env_in_dataset)
        items, record, step = store.restore(step, learner.checkpoint_targets())
    finally:
        store.close()
    learner.restore(items)
    return run, learner, record, step


def _dataset_path(config: ExperimentConfig) -> Path | None:
    """An offline run's dataset file (online configs name none: validation refuses one)."""
    load_path = config.learner_config.buffer_config.load_path
    return Path(load_path) if load_path else None


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_dataset_unchanged(config: ExperimentConfig) -> None:
    """Refuse to resume an offline run whose dataset file is not the one it started with: the
    rest of the run would silently train on other data."""
    dataset = _dataset_path(config)
    if dataset is None or config.dataset_sha256 is None:
        return
    if file_sha256(dataset) != config.dataset_sha256:
        raise RunDirectoryError(
            f"learner_config.buffer_config.load_path: {dataset} has changed since the run "
            "started (its SHA-256 differs from the run's dataset_sha256), so resuming would "
            "train on other data; put the original file back, or start a new run"
        )


def _holds_an_evaluation(path: Path) -> bool:
    """Whether ``path`` is a readable ``evaluation.json`` (a JSON object with a mean return);
    one that is missing or damaged is written again from the final checkpoint."""
    try:
        evaluation = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(evaluation, dict) and "mean_return" in evaluation


def resume_training(
    run_dir: str | Path, on_restored: Callable[[Learner], None] | None = None
) -> TrainResult:
    """Continue an interrupted run from its latest checkpoint to its configured budget.

    :param on_restored: called with the restored learner once the run's files are checked,
        before training goes on (the CLI says where it resumes from).
    :raises RunDirectoryError: not a run directory, another process is training it, or (an
        offline run) its dataset file has changed since the run started.
    """
    run, config = open_run_directory(run_dir)
    with training_lock(run):
        _check_dataset_unchanged(config)
        run, learner, record, _ = _restore(run, config, None, to_train=True)
        if learner.update_count >= learner.total_updates:
            evaluation = {}
            if not _holds_an_evaluation(run.evaluation_path):
                evaluation = loop.final_evaluation(learner)
                write_json_atomic(run.evaluation_path, evaluation)
            return TrainResult(run, evaluation, already_finished=True)
        return TrainResult(run, loop.train(learner, run, record, on_resumed=on_restored))


def evaluate_run(
    run_dir: str | Path,
    episodes: int | None = None,
    checkpoint: int | str | None = None,
    deterministic: bool | None = None,
    seed: int | None = None,
    task_seed: int | None = None,
) -> dict[str, Any]:
    """Evaluate a run's checkpoint for ``episodes`` episodes.

    :param episodes: how many (default: the config's ``train_config.eval_episodes``, as
        training's evaluations; with the defaults, the final checkpoint's record equals
        ``evaluation.json``).
    :param deterministic: act with the policy's mode (default: the config's ``deterministic_eval``).
    :param seed: evaluation seed (default: the one training used for its evaluations).
    :param task_seed: evaluate on this variant of a parameterized env instead of the one trained
        on (held-out evaluation).
    :return: ``run_dir`` and the record of :func:`~jaxl.training.loop.evaluation_record`.
    """
    return evaluate_variants(run_dir, episodes, [task_seed], checkpoint, deterministic, seed)[0]


def evaluate_variants(
    run_dir: str | Path,
    episodes: int | None,
    task_seeds: Sequence[int | None],
    checkpoint: int | str | None = None,
    deterministic: bool | None = None,
    seed: int | None = None,
) -> list[dict[str, Any]]:
    """Evaluate a run's checkpoint on several variants of its parameterized env, restoring it
    once: each variant's record equals :func:`evaluate_run`'s with that ``task_seed`` (``None``:
    the run's own env).

    :return: one record per task seed, in order.
    """
    if seed is not None:
        check_seed(seed)
    run, learner, _, step = restore_learner(run_dir, checkpoint, to_train=False)
    if episodes is None:
        episodes = learner.config.train_config.eval_episodes
    if deterministic is None:
        deterministic = learner.config.train_config.deterministic_eval
    if seed is None:
        seed = loop.eval_seed(learner.seed)
    records = []
    for task_seed in task_seeds:
        env_config = _with_task_seed(learner.eval_env_config, task_seed)
        returns = evaluate_policy(learner.act_fn(deterministic, seed), env_config, episodes, seed)
        record = loop.evaluation_record(
            env_config, returns, step, learner.env_steps, deterministic, seed
        )
        records.append({"run_dir": str(run.path), **record})
    return records


def _with_task_seed(env_config: EnvConfig, task_seed: int | None) -> EnvConfig:
    """``env_config`` on the variant ``task_seed`` (unchanged for ``None``); a run trained with
    physics redrawn at every reset (``resample: "episode"``) is then evaluated on that one
    variant.

    :raises InputError: the run's env is not parameterized, so it has no variants.
    """
    if task_seed is None:
        return env_config
    from jaxl.envs.parameterized import PARAMETERIZED_ENVS

    if env_config.env_id not in PARAMETERIZED_ENVS:
        raise InputError(
            f"task seed {task_seed}: the run's env {env_config.env_id!r} has no variants; only "
            "the parameterized envs (jaxl/...; see `jaxl envs list`) have"
        )
    fixed = {**env_config.model_dump(), "task_seed": task_seed, "resample": "never"}
    # From a run's config: checks added since the run was made do not apply.
    return EnvConfig.model_validate(fixed, context={READING_A_RUN: True})


def _episode_task_params(env_config: EnvConfig, seeds: list[int]) -> list[dict] | None:
    """Each episode's parameters when they are redrawn at every reset, else ``None``."""
    if env_config.resample != "episode":
        return None
    env = make_env(env_config)
    try:
        return [env.reset(seed=seed)[1]["task_params"] for seed in seeds]
    finally:
        env.close()


def check_dataset_output(out: str | Path, remedy: str | None = None) -> None:
    """Check, before any work, that a dataset can be written to ``out`` (the ``--out`` option):
    a folder is refused, and so is an existing file other than a dataset, which would be lost.

    :param remedy: what to tell the user instead of the default advice.
    :raises OutputPathError: naming ``out``.
    """
    out = Path(out)
    if out.is_dir():
        raise OutputPathError(
            f"--out: {out} is a directory; "
            + (remedy or f"name the dataset file, e.g. {out / 'expert.npz'}")
        )
    if out.exists() and not is_buffer_file(out):
        raise OutputPathError(
            f"--out: {out} exists and is not a JAXL dataset, so it is not replaced; "
            + (remedy or "remove it or name another file")
        )
    check_output_parent(out, "--out")


def gather_dataset(
    run_dir: str | Path,
    episodes: int,
    out: str | Path,
    deterministic: bool = False,
    env_seed: int = 0,
    checkpoint: int | str | None = None,
    task_seed: int | None = None,
) -> dict[str, Any]:
    """Roll out a run's policy and write the transitions as a dataset a BC config can name.

    Episodes are stored one after another; the file's metadata records the environment, the
    policy source (run, checkpoint, deterministic or not), the episode count and the returns and,
    for a parameterized env, the physical parameters (per episode with ``resample: episode``).

    :param task_seed: gather on this variant of a parameterized env instead of the run's own.

    :return: a summary with ``path``, ``episodes``, ``transitions``, ``mean_return``, ``returns``.
    :raises ValueError: ``out`` is an existing directory or a file other than a dataset, or
        cannot be written (checked before any episode is run).
    """
    check_dataset_output(out)
    check_seed(env_seed, "env_seed")
    run, learner, _, step = restore_learner(run_dir, checkpoint, to_train=False)
    env_config = _with_task_seed(learner.eval_env_config, task_seed)
    per_episode: list[list[tuple]] = [[] for _ in range(episodes)]

    def record(i, obs, action, reward, next_obs, terminated, truncated):
        per_episode[i].append((obs, action, reward, next_obs, terminated, truncated))

    returns = evaluate_policy(
        learner.act_fn(deterministic, env_seed), env_config, episodes, env_seed, on_step=record
    )
    env = make_env(env_config)
    size = sum(len(steps) for steps in per_episode)
    buffer = TransitionNumPyBuffer.for_spaces(size, env.observation_space, env.action_space)
    env.close()
    for steps in per_episode:
        buffer.add(Transitions(*(np.stack(column) for column in zip(*steps, strict=True))))
    lengths = [len(steps) for steps in per_episode]
    seeds = [episode_seed(env_seed, i, 0) for i in range(episodes)]
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
            "env_seeds": seeds,
            "task_params": task_params(env_config),
            "episode_task_params": _episode_task_params(env_config, seeds),
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
