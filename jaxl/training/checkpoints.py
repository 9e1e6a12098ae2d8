"""Full-state checkpoints with orbax: every N updates, the last K kept, written atomically."""

from __future__ import annotations

import errno
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from jaxl.errors import InputError
from jaxl.output_paths import OutputPathError

logging.getLogger("absl").setLevel(logging.ERROR)


class CheckpointError(InputError):
    """A checkpoint is missing or unreadable. Nothing on disk is changed when this is raised."""


class CheckpointMismatchError(CheckpointError):
    """A checkpoint holds other arrays than the learner built from the run's config expects."""


class _DropWriterThreadReports(logging.Filter):
    """Drop absl's records of orbax's writer threads failing ("_SignalingThread.run() raised an
    exception", each with a traceback): the save that started them raises the same error, which
    :meth:`CheckpointStore.save` reports in one line or shows in full."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "_SignalingThread.run() raised an exception" not in record.getMessage()


logging.getLogger("absl").addFilter(_DropWriterThreadReports())

_WRITE_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.EROFS: "the file system is read-only",
}

_WRITE_FAILURES = {
    "RESOURCE_EXHAUSTED": "the disk is full",
    "No space left on device": "the disk is full",
    "Disk quota exceeded": "the disk quota is exceeded",
    "PERMISSION_DENIED": "no permission to write there",
    "Permission denied": "no permission to write there",
    "Read-only file system": "the file system is read-only",
}


def _write_failure(error: BaseException) -> str | None:
    """Why a checkpoint could not be written, when ``error`` (or an error it came from) says
    the file system refused it; ``None`` for any other error, which is a defect to show."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in _WRITE_ERRNOS:
            return _WRITE_ERRNOS[error.errno]
        text = str(error)
        for marker, reason in _WRITE_FAILURES.items():
            if marker in text:
                return reason
        error = error.__cause__ or error.__context__
    return None


def _key_name(key: Any) -> str:
    for attribute in ("key", "name", "idx"):
        if hasattr(key, attribute):
            return str(getattr(key, attribute))
    return str(key)


def _layout(tree: Any) -> dict[str, tuple[tuple[int, ...], str]]:
    """Each array of ``tree`` (a pytree of arrays or of orbax's array metadata) by its path
    (``opt_state/0/mu/...``; dict keys, attribute names and indices read alike): its shape and
    dtype."""
    return {
        "/".join(_key_name(key) for key in path): (tuple(leaf.shape), str(leaf.dtype))
        for path, leaf in jax.tree_util.tree_leaves_with_path(tree)
    }


def _describe(entry: tuple[tuple[int, ...], str] | None) -> str:
    if entry is None:
        return "absent"
    shape, dtype = entry
    return f"{dtype}{list(shape)}"


class CheckpointStore:
    """Saves and restores named pytrees plus a JSON record under ``directory/<step>/``.

    Orbax writes each checkpoint to a temporary folder and renames it when complete, so an
    interrupted save leaves the previous checkpoints intact.

    :param directory: the run's ``checkpoints`` folder.
    :param keep: how many recent checkpoints to keep (``None`` for read-only use).
    """

    def __init__(self, directory: Path, keep: int | None = None) -> None:
        self.directory = Path(directory)
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep,
            create=keep is not None,
            enable_async_checkpointing=False,
        )
        if keep is None and not self.directory.is_dir():
            raise CheckpointError(f"{self.directory.parent} has no checkpoints yet")
        _quiet_io_left_behind_by_a_failed_checkpoint()
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def steps(self) -> list[int]:
        """Steps (update counts) of the complete checkpoints, oldest first."""
        return sorted(self._manager.all_steps(read=True))

    def save(self, step: int, items: dict[str, Any], record: dict[str, Any]) -> None:
        """Save the pytrees in ``items`` and the JSON ``record`` as checkpoint ``step``."""
        args = {name: ocp.args.StandardSave(tree) for name, tree in items.items()}
        args["record"] = ocp.args.JsonSave(record)
        try:
            self._manager.save(step, args=ocp.args.Composite(**args), force=True)
            self._manager.wait_until_finished()
        except Exception as error:  # orbax/tensorstore report a full disk as a ValueError
            reason = _write_failure(error)
            if reason is None:
                raise
            _ignore_unawaited_checkpoint_io()
            # The partial folder (<step>.orbax-checkpoint-tmp) is replaced by the next save.
            earlier = [s for s in self.steps() if s < step]
            then = (
                f"checkpoint {earlier[-1]} and those before it are intact, so `jaxl resume` "
                "continues from it once there is room"
                if earlier
                else "the run has no earlier checkpoint to resume from"
            )
            raise OutputPathError(
                f"cannot write checkpoint {step} in {self.directory}: {reason}; {then}"
            ) from error

    def resolve_step(self, step: int | str | None) -> int:
        """``None``/``"latest"`` to the newest step; check that a given step exists."""
        steps = self.steps()
        if not steps:
            raise CheckpointError(f"{self.directory.parent} has no checkpoints yet")
        if step in (None, "latest"):
            return steps[-1]
        if int(step) not in steps:
            raise CheckpointError(
                f"no checkpoint {step} in {self.directory} (available: {', '.join(map(str, steps))})"
            )
        return int(step)

    def restore(
        self, step: int | str | None, targets: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], int]:
        """Restore checkpoint ``step`` (``None``/``"latest"``: the newest).

        :param targets: for each item, a pytree whose structure and dtypes the arrays must take,
            or ``None`` to take the arrays as saved.
        :return: ``(items, record, step)``.
        :raises CheckpointError: the step does not exist or its files are corrupt.
        """
        step = self.resolve_step(step)
        for name, target in targets.items():
            if target is not None:
                self._check_layout(step, name, target)
        args = {}
        for name, target in targets.items():
            abstract = (
                None if target is None else jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
            )
            args[name] = ocp.args.StandardRestore(abstract)
        args["record"] = ocp.args.JsonRestore()
        try:
            restored = self._manager.restore(step, args=ocp.args.Composite(**args))
        except Exception as error:  # orbax/tensorstore raise many types for damaged files
            older = [str(s) for s in reversed(self.steps()) if s < step]
            hint = (
                f"; older checkpoints: {', '.join(older)} (--checkpoint N reads one; jaxl resume "
                "continues from the newest, so move this one out of checkpoints/ to resume from "
                "the next)"
                if older
                else ""
            )
            reason = " ".join(str(error).split())[:200]  # one line: orbax's spans many
            raise CheckpointError(
                f"checkpoint {self.directory / str(step)} is corrupt or unreadable "
                f"({type(error).__name__}: {reason}); nothing was changed{hint}"
            ) from error
        items = {name: restored[name] for name in targets}
        record = restored["record"]
        if not isinstance(record, dict):
            raise CheckpointError(
                f"checkpoint {self.directory / str(step)}: its record is not a JSON object "
                f"(got {type(record).__name__}); nothing was changed"
            )
        return items, dict(record), step

    def _check_layout(self, step: int, name: str, target: Any) -> None:
        """Refuse checkpoint ``step`` when its item ``name`` holds other arrays (names, shapes or
        dtypes) than ``target``: the learner was built from another config than the one the
        checkpoint was trained with, which is not damage to the checkpoint. A checkpoint whose
        layout cannot be read (or reads as empty: its data files were overwritten) is left to
        :meth:`restore`, which reports it as corrupt.

        :raises CheckpointMismatchError: naming the first difference.
        """
        folder = self.directory / str(step) / name
        try:
            saved = _layout(ocp.StandardCheckpointer().metadata(folder.absolute()).item_metadata)
        except Exception:  # unreadable metadata: restore() names the damage
            return
        wanted = _layout(target)
        if saved == wanted or not saved:  # no layout at all: damage, which restore() names
            return
        differences = [
            f"{path}: {_describe(saved.get(path))} in the checkpoint, "
            f"{_describe(wanted.get(path))} in the learner"
            for path in sorted(saved.keys() | wanted.keys())
            if saved.get(path) != wanted.get(path)
        ]
        more = f" (and {len(differences) - 1} more)" if len(differences) > 1 else ""
        raise CheckpointMismatchError(
            f"checkpoint {self.directory / str(step)} does not fit the learner built from the "
            f"run's config.json ({name}.{differences[0]}{more}); was config.json edited after "
            "the run started? Put the original config back; nothing was changed"
        )

    def close(self) -> None:
        """Release orbax resources."""
        self._manager.close()


_ORBAX = f"{os.sep}orbax{os.sep}"
_ORBAX_IO_LIBRARIES = (_ORBAX, f"{os.sep}tensorstore{os.sep}", f"{os.sep}etils{os.sep}")
#: Python's warning of an orbax write that a failed save left never started.
_UNSTARTED_ORBAX_WRITE = r"coroutine 'async_serialize_from_host\.[^']*' was never awaited"


def _is_io_finishing_after_a_failed_checkpoint(unraisable: sys.UnraisableHookArgs) -> bool:
    """Whether ``unraisable`` is a tensorstore read or write reporting back to orbax's closed
    event loop, or an orbax read dropped with its error unread.

    Orbax reads or writes every array of a checkpoint concurrently in a temporary asyncio event
    loop. When one of them fails (a damaged file, a full disk), the loop stops and is closed
    while the others are still in flight; as each of them finishes, tensorstore's completion
    callback calls the closed loop's ``call_soon_threadsafe`` from its own thread, and Python
    prints the resulting ``RuntimeError: Event loop is closed`` with a traceback. Reads that
    failed themselves (a truncated array file) are dropped with their errors unread, and Python
    prints each with "Exception ignored in: <coroutine object ...>" (thousands of lines).
    Nothing is lost: the restore or save has already failed, and says why in one line.
    """
    code = getattr(unraisable.object, "cr_code", None)
    if code is not None:  # an orbax read or write dropped with its error unread
        return _ORBAX in code.co_filename
    error = unraisable.exc_value
    if unraisable.object is not None or not isinstance(error, RuntimeError):
        return False
    if str(error) != "Event loop is closed" or unraisable.exc_traceback is None:
        return False
    frame = unraisable.exc_traceback
    while frame.tb_next is not None:
        frame = frame.tb_next
    code = frame.tb_frame.f_code
    return code.co_name == "_check_closed" and "asyncio" in code.co_filename


def _quiet_io_left_behind_by_a_failed_checkpoint() -> None:
    """Keep what the reads and writes of a failed restore or save report after it off stderr
    (:func:`_is_io_finishing_after_a_failed_checkpoint`,
    :func:`_drop_unretrieved_checkpoint_io_errors`), so that a corrupt checkpoint or a full disk
    gives one clear error; every other unraisable exception still goes to the hook that was
    installed before, and every other asyncio record to its handlers. Installed with every
    :class:`CheckpointStore`, before any read or write: one can report to orbax's closed loop
    before orbax's exception even reaches an except clause."""
    previous = sys.unraisablehook
    if getattr(previous, "_jaxl_quiets_failed_checkpoint_io", False):
        return

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if not _is_io_finishing_after_a_failed_checkpoint(unraisable):
            previous(unraisable)

    hook._jaxl_quiets_failed_checkpoint_io = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook
    logging.getLogger("asyncio").addFilter(_drop_unretrieved_checkpoint_io_errors)


def _drop_unretrieved_checkpoint_io_errors(record: logging.LogRecord) -> bool:
    """A logging filter for asyncio's logger: drop its "Future/Task exception was never
    retrieved" reports (each with its traceback, and for reads a dump of TensorStore's spec) of
    orbax's reads and writes, the ones left behind when a restore or save failed and raised the
    first error; keep every other record, those of other code's tasks included."""
    message = record.getMessage()
    if "exception was never retrieved" not in message:
        return True
    return not (_ORBAX in message or _raised_in_orbax(record.exc_info))


def _raised_in_orbax(exc_info) -> bool:
    """Whether an error's traceback passes through orbax or the libraries it reads and writes
    files with (tensorstore, etils), or the error is tensorstore's (it names OCDBT or
    TensorStore)."""
    error = exc_info[1] if exc_info else None
    if error is None:
        return False
    if "OCDBT" in str(error) or "TensorStore" in str(error):
        return True
    frame = error.__traceback__
    while frame is not None:
        if any(part in frame.tb_frame.f_code.co_filename for part in _ORBAX_IO_LIBRARIES):
            return True
        frame = frame.tb_next
    return False


def _ignore_unawaited_checkpoint_io() -> None:
    """After a failed save, hide Python's "coroutine ... was never awaited" warnings of the
    writes that orbax created and never started (:data:`_UNSTARTED_ORBAX_WRITE`); the save's
    error says what failed. Every other coroutine's warning still shows."""
    warnings.filterwarnings("ignore", message=_UNSTARTED_ORBAX_WRITE, category=RuntimeWarning)
