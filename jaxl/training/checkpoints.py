"""Full-state checkpoints with orbax: every N updates, the last K kept, written atomically."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

from jaxl.errors import InputError

logging.getLogger("absl").setLevel(logging.ERROR)


class CheckpointError(InputError):
    """A checkpoint is missing or unreadable. Nothing on disk is changed when this is raised."""


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
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def steps(self) -> list[int]:
        """Steps (update counts) of the complete checkpoints, oldest first."""
        return sorted(self._manager.all_steps(read=True))

    def save(self, step: int, items: dict[str, Any], record: dict[str, Any]) -> None:
        """Save the pytrees in ``items`` and the JSON ``record`` as checkpoint ``step``."""
        args = {name: ocp.args.StandardSave(tree) for name, tree in items.items()}
        args["record"] = ocp.args.JsonSave(record)
        self._manager.save(step, args=ocp.args.Composite(**args), force=True)
        self._manager.wait_until_finished()

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
        args = {}
        for name, target in targets.items():
            abstract = (
                None if target is None else jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
            )
            args[name] = ocp.args.StandardRestore(abstract)
        args["record"] = ocp.args.JsonRestore()
        # Installed before the restore: a read can report to the closed loop before orbax's
        # exception even reaches the except clause below.
        _ignore_reads_finishing_after_a_failed_restore()
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
            raise CheckpointError(
                f"checkpoint {self.directory / str(step)} is corrupt or unreadable "
                f"({type(error).__name__}: {str(error)[:300]}); nothing was changed{hint}"
            ) from error
        items = {name: restored[name] for name in targets}
        record = restored["record"]
        if not isinstance(record, dict):
            raise CheckpointError(
                f"checkpoint {self.directory / str(step)}: its record is not a JSON object "
                f"(got {type(record).__name__}); nothing was changed"
            )
        return items, dict(record), step

    def close(self) -> None:
        """Release orbax resources."""
        self._manager.close()


def _is_read_finishing_after_a_failed_restore(unraisable: sys.UnraisableHookArgs) -> bool:
    """Whether ``unraisable`` is a tensorstore read reporting back to orbax's closed event loop.

    Orbax restores every array of a checkpoint concurrently in a temporary asyncio event loop.
    When one read fails, the loop stops and is closed while the other reads are still in flight;
    as each of them finishes, tensorstore's completion callback calls the closed loop's
    ``call_soon_threadsafe`` from its own thread, and Python prints the resulting
    ``RuntimeError: Event loop is closed`` with a traceback. Nothing is lost: the restore has
    already failed and the reads' results are not needed.
    """
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


def _ignore_reads_finishing_after_a_failed_restore() -> None:
    """Keep the tracebacks of :func:`_is_read_finishing_after_a_failed_restore` off stderr, so
    that a corrupt checkpoint gives one clear error; every other unraisable exception still goes
    to the hook that was installed before."""
    previous = sys.unraisablehook
    if getattr(previous, "_jaxl_ignores_failed_restore_reads", False):
        return

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if not _is_read_finishing_after_a_failed_restore(unraisable):
            previous(unraisable)

    hook._jaxl_ignores_failed_restore_reads = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook
