"""Full-state checkpoints with orbax: every N updates, the last K kept, written atomically."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jax
import orbax.checkpoint as ocp

logging.getLogger("absl").setLevel(logging.ERROR)


class CheckpointError(RuntimeError):
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
        try:
            restored = self._manager.restore(step, args=ocp.args.Composite(**args))
        except Exception as error:  # orbax/tensorstore raise many types for damaged files
            raise CheckpointError(
                f"checkpoint {self.directory / str(step)} is corrupt or unreadable "
                f"({type(error).__name__}: {str(error)[:300]}); nothing was changed"
            ) from error
        items = {name: restored[name] for name in targets}
        return items, dict(restored["record"]), step

    def close(self) -> None:
        """Release orbax resources."""
        self._manager.close()
