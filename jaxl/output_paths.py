"""Paths the commands write to: checked before the work that fills them, and write errors
reported as one line that names the path."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from jaxl.errors import InputError


class OutputPathError(InputError):
    """A file or folder cannot be written where the user asked for it."""


def check_output_parent(path: str | os.PathLike[str], option: str) -> None:
    """Check that ``path``'s folder exists or can be created, before any work goes into what will
    be written there. Missing folders are created later, by the writer.

    :param option: the option or config key that named ``path``, for the message.
    :raises OutputPathError: an existing ancestor of ``path`` is a file, or not writable.
    """
    path = Path(path)
    ancestor = path.parent.absolute()
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputPathError(f"{option}: cannot write {path}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputPathError(
            f"{option}: cannot write {path}: no permission to write in {ancestor}"
        )


@contextlib.contextmanager
def reporting_write_errors(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn an operating-system error raised while writing ``path`` (a read-only or full disk,
    a folder that vanished) into an :class:`OutputPathError` naming it."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputPathError(f"cannot write {path}: {reason}") from error


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, flush it to disk and rename it into
    place: a failed write leaves ``path`` as it was and no temporary file.

    :raises OutputPathError: the write failed (a read-only or full disk), naming ``path``.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with reporting_write_errors(path):
            with open(tmp, "w", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
    finally:
        # On a read-only disk even unlinking a missing file fails; the error above says why.
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
