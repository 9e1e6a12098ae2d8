"""Run directories: ``<save_path>/<experiment_name>/<run_id>/`` with the resolved config."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import filelock

from jaxl import __version__
from jaxl.config import ConfigError, ExperimentConfig, load_config
from jaxl.errors import InputError
from jaxl.output_paths import reporting_write_errors, write_text_atomic


class RunDirectoryError(InputError):
    """A path given as a run directory is missing or holds no run (no ``config.json``), or a new
    run directory cannot be created where the config says."""


@dataclass(frozen=True)
class RunDirectory:
    """Paths inside one run directory."""

    path: Path

    @property
    def config_path(self) -> Path:
        """The resolved config (overrides applied, seed and library version recorded)."""
        return self.path / "config.json"

    @property
    def checkpoints(self) -> Path:
        """Orbax checkpoints, one sub-folder per update count."""
        return self.path / "checkpoints"

    @property
    def metrics_path(self) -> Path:
        """One row per logged update."""
        return self.path / "metrics.csv"

    @property
    def tensorboard(self) -> Path:
        """TensorBoard event files."""
        return self.path / "tensorboard"

    @property
    def evaluation_path(self) -> Path:
        """The final evaluation (JSON)."""
        return self.path / "evaluation.json"

    @property
    def lock_path(self) -> Path:
        """The empty file whose lock a process holds while it trains the run
        (:func:`training_lock`)."""
        return self.path / ".lock"


@contextlib.contextmanager
def training_lock(run: RunDirectory) -> Iterator[None]:
    """Hold the run's lock while the block trains it, so that no second process (a ``jaxl
    resume`` while the run is still training) writes into it at the same time.

    The lock is the operating system's lock on :attr:`RunDirectory.lock_path` (via ``filelock``),
    so it is released when the process ends, however it ends. Readers (``jaxl eval``, ``gather``,
    ``plot``) do not take it: checkpoints and evaluations are written atomically.

    :raises RunDirectoryError: another process holds the lock.
    """
    lock = filelock.FileLock(run.lock_path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise RunDirectoryError(
            f"{run.path} is being trained by another process (it holds {run.lock_path}); "
            "wait for it to finish, or stop it and then resume the run"
        ) from None
    except OSError as error:  # a read-only copy of a run, for example
        raise RunDirectoryError(
            f"cannot lock {run.path} for training ({error.strerror or error}): training "
            "writes into the run directory"
        ) from None
    try:
        yield
    finally:
        lock.release()


def remove_if_nothing_saved(run: RunDirectory) -> bool:
    """Remove a new run directory whose training failed before it saved anything: it holds
    nothing ``jaxl resume`` could continue from or a user could read, and would only stand
    among the runs of its experiment (``jaxl plot runs/x/*`` would stop at it).

    Only a directory that holds nothing but what training writes, with no checkpoint and no
    row of metrics, is removed: the config, the lock file, a ``metrics.csv`` with its header
    alone, TensorBoard files and an empty ``checkpoints/``. A run that logged metrics keeps
    them, to show how it failed.

    :return: whether the directory was removed.
    """
    written_by_training = {
        run.config_path.name,
        run.lock_path.name,
        run.metrics_path.name,
        run.tensorboard.name,
        run.checkpoints.name,
    }
    try:
        entries = {entry.name for entry in run.path.iterdir()}
        if not entries <= written_by_training or (
            run.checkpoints.exists() and any(run.checkpoints.iterdir())
        ):
            return False
        if run.metrics_path.exists():
            with open(run.metrics_path) as handle:
                if sum(1 for line in handle if line.strip()) > 1:  # rows beyond the header
                    return False
        shutil.rmtree(run.path)
    except OSError:
        return False
    return True


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON atomically (:func:`~jaxl.output_paths.write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def create_run_directory(
    config: ExperimentConfig,
    seed: int,
    out: str | None = None,
    task_params: dict[str, float | None] | None = None,
    dataset_sha256: str | None = None,
) -> tuple[RunDirectory, ExperimentConfig]:
    """Create a new run directory and write the resolved config into it.

    :param config: a validated config.
    :param seed: the run seed.
    :param out: overrides ``logging_config.save_path``.
    :param task_params: a parameterized env's drawn parameters, recorded in the config.
    :param dataset_sha256: an offline run's dataset fingerprint, recorded in the config.
    :return: the directory and the resolved config (seed, version and save path filled in).
    :raises RunDirectoryError: a file stands where one of its folders would go.
    :raises OutputPathError: the folder cannot be created (no permission, a read-only or full
        disk, a file system that takes no folders).
    """
    logging_config = config.logging_config
    if out is not None:
        logging_config = logging_config.model_copy(update={"save_path": out})
    resolved = config.model_copy(
        update={
            "seed": seed,
            "jaxl_version": __version__,
            "logging_config": logging_config,
            "task_params": task_params,
            "dataset_sha256": dataset_sha256,
        }
    )
    env_config = config.learner_config.env_config
    task = f"task{env_config.task_seed}-" if env_config and env_config.task_seed is not None else ""
    run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{task}seed{seed}-{uuid.uuid4().hex[:6]}"
    root = Path(logging_config.save_path).expanduser().resolve()
    path = root / logging_config.experiment_name / run_id
    _check_folder_can_be_made(path)
    with reporting_write_errors(path):
        path.mkdir(parents=True, exist_ok=False)
    run = RunDirectory(path)
    write_json_atomic(run.config_path, resolved.to_json_dict())
    return run, resolved


def _check_folder_can_be_made(path: Path) -> None:
    """Raise :class:`RunDirectoryError` if a file stands where one of ``path``'s folders would go."""
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise RunDirectoryError(
                    f"cannot create the run directory {path}: {folder} is a file, not a folder "
                    "(see logging_config.save_path, or --out)"
                )
            return


def open_run_directory(
    path: str | os.PathLike[str], needs_dataset: bool = True
) -> tuple[RunDirectory, ExperimentConfig]:
    """Open an existing run directory and validate its resolved config.

    :param needs_dataset: require an offline run's dataset file to exist (resuming it); reading
        or evaluating the run does not.
    :raises RunDirectoryError: the folder or its ``config.json`` is missing.
    :raises ConfigError: its ``config.json`` is invalid.
    """
    run = RunDirectory(Path(path).resolve())
    if run.path.is_file():
        hint = (
            f" ('jaxl train {path}' starts a run from a config)"
            if run.path.suffix == ".json"
            else ""
        )
        raise RunDirectoryError(f"{path} is a file, not a run directory{hint}")
    if not run.path.is_dir():
        raise RunDirectoryError(f"run directory not found: {path}")
    if not run.config_path.is_file():
        raise RunDirectoryError(f"{path} is not a run directory (no config.json)")
    config = load_config(run.config_path, needs_dataset=needs_dataset, reading_a_run=True)
    if config.seed is None:
        raise ConfigError(["seed: missing in a run's resolved config"], str(run.config_path))
    return run, config
