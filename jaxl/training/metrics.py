"""Metrics written as a plain CSV (one row per logged update) and as TensorBoard scalars."""

from __future__ import annotations

import contextlib
import csv
import io
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from jaxl.errors import InputError
from jaxl.output_paths import reporting_write_errors, write_text_atomic

BASE_COLUMNS = ["update", "env_steps", "wall_time", "steps_per_second", "updates_per_second"]
EVAL_COLUMNS = ["eval_return_mean", "eval_return_std"]
TIMING_COLUMNS = {"wall_time", "steps_per_second", "updates_per_second"}
"""Columns that depend on the machine's speed; everything else is deterministic for a seed."""


class MetricsFileError(InputError):
    """A ``metrics.csv`` that cannot be read back."""


class MetricsLog:
    """Append-only metrics for one run.

    The columns are the base columns, the learner's metrics sorted, and the eval columns. A row
    with metrics the file has no column for yet (SAC's losses appear only once learning starts)
    adds the columns, rewriting the file atomically. When a run is resumed, rows after the
    restored checkpoint are dropped first.

    :param path: the CSV file.
    :param tensorboard_dir: where to write TensorBoard events (``None``: none).
    """

    def __init__(self, path: Path, tensorboard_dir: Path | None) -> None:
        self.path = Path(path)
        self.columns: list[str] | None = None
        if self.path.is_file():
            with _reading(self.path) as handle:  # the header only: the first non-blank row
                self.columns = next((row for row in csv.reader(handle) if row), None)
        self.tensorboard_dir = None if tensorboard_dir is None else Path(tensorboard_dir)
        self._tb = None
        """The TensorBoard writer, opened on first use (each opening starts a new event file)."""

    def truncate_after(self, update: int) -> None:
        """Drop rows logged after ``update`` (atomically), before a resumed run logs again.

        The TensorBoard events are rebuilt from the rows kept: a new event file gets them, and
        the old files go once it is flushed. Left in place, the old files would hold the dropped
        rows, which the resumed run logs again at the same steps, and TensorBoard would draw
        both.
        """
        if self.tensorboard_dir is not None and self.tensorboard_dir.exists():
            if not self.tensorboard_dir.is_dir():
                raise MetricsFileError(
                    f"{self.tensorboard_dir} is a file, where the run keeps its TensorBoard "
                    "events in a folder; move it away to resume"
                )
        if not self.path.is_file():
            return
        rows = _read_rows(self.path)
        if not rows:
            return
        self.columns = rows[0]
        _check_header(self.columns, self.path, required=("update", "env_steps"))
        kept = [row for row in rows[1:] if _update_of(row, self.path) <= update]
        values = [_row_values(self.columns, row, self.path) for row in kept]  # before any write
        self._rewrite(kept)
        if self.tensorboard_dir is not None:
            self._rebuild_tensorboard(values)

    def _rebuild_tensorboard(self, rows: list[dict[str, float]]) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        stale = sorted(self.tensorboard_dir.glob("events.out.tfevents.*"))
        logged_at = _event_wall_times(stale)
        for values in rows:
            self._mirror(values, flush=False, wall_time=logged_at.get(_tensorboard_step(values)))
        self._writer().flush()
        for path in stale:
            if not path.is_dir():
                path.unlink(missing_ok=True)

    def write(self, row: dict[str, float]) -> None:
        """Append one row (missing columns are left empty) and mirror it to TensorBoard."""
        new_file = self.columns is None
        learner = {k for k in row if k not in BASE_COLUMNS and k not in EVAL_COLUMNS}
        if new_file:
            self.columns = BASE_COLUMNS + sorted(learner) + EVAL_COLUMNS
        elif not learner <= set(self.columns):
            self._add_columns(learner)
        with reporting_write_errors(self.path), open(self.path, "a", newline="") as handle:
            writer = csv.writer(handle)
            if new_file:
                writer.writerow(self.columns)
            writer.writerow([_cell(row.get(column)) for column in self.columns])
        if self.tensorboard_dir is not None:
            self._mirror(row)

    def _writer(self):
        if self._tb is None:
            from tensorboard.summary import Writer

            self._tb = Writer(str(self.tensorboard_dir))
        return self._tb

    def _mirror(
        self, row: dict[str, float | None], flush: bool = True, wall_time: float | None = None
    ) -> None:
        """Write a row's finite values as TensorBoard scalars at its env step (or update), all
        stamped ``wall_time`` (seconds since the epoch; ``None``: now, read once for the row,
        so that a rebuilt row, stamped with its first scalar's time, keeps every scalar's)."""
        writer = self._writer()
        step = _tensorboard_step(row)
        if wall_time is None:
            wall_time = time.time()
        for key, value in row.items():
            if key not in ("update", "env_steps") and value is not None and math.isfinite(value):
                writer.add_scalar(tensorboard_tag(key), float(value), step, wall_time=wall_time)
        if flush:
            writer.flush()

    def _add_columns(self, learner: set[str]) -> None:
        old = self.columns
        known = set(old) - set(BASE_COLUMNS) - set(EVAL_COLUMNS)
        self.columns = BASE_COLUMNS + sorted(known | learner) + EVAL_COLUMNS
        with open(self.path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        self._rewrite([[row.get(column, "") for column in self.columns] for row in rows])

    def _rewrite(self, body: list[list[str]]) -> None:
        text = io.StringIO()
        csv.writer(text).writerows([self.columns, *body])
        write_text_atomic(self.path, text.getvalue())

    def close(self) -> None:
        """Close the TensorBoard writer."""
        if self._tb is not None:
            self._tb.close()


def tensorboard_tag(column: str) -> str:
    """A ``metrics.csv`` column's TensorBoard tag, in one of four groups (TensorBoard's
    sections): ``eval/`` (``eval_return_mean`` is ``eval/return_mean``), ``validation/`` (BC's
    held-out loss, ``validation_bc_loss``), ``time/`` (the :data:`TIMING_COLUMNS`) and ``train/``
    (the learner's other metrics; ``train_return`` is ``train/return``)."""
    for group in ("eval", "validation"):
        if column.startswith(f"{group}_"):
            return f"{group}/{column.removeprefix(f'{group}_')}"
    if column in TIMING_COLUMNS:
        return f"time/{column}"
    return f"train/{column.removeprefix('train_')}"


def _tensorboard_step(row: dict[str, float | None]) -> int:
    """The step a row is drawn at in TensorBoard: its env step, or its update offline."""
    return int(row["env_steps"]) or int(row["update"])


def _event_wall_times(paths: list[Path]) -> dict[int, float]:
    """When each step was first logged in the event files ``paths`` (seconds since the epoch).

    A rebuilt row keeps its original time, so TensorBoard's wall-time axis does not put every
    row before a resume at the moment of the resume. TensorBoard's reader yields what it can
    read of a damaged file (one a crash cut short); rows whose events cannot be read at all get
    the time of the rebuild instead.
    """
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    times: dict[int, float] = {}
    for path in paths:
        try:
            for event in EventFileLoader(str(path)).Load():
                if event.summary.value:
                    times.setdefault(event.step, event.wall_time)
        except OSError:  # an unreadable one must not stop a resume; its times are lost
            continue
    return times


def _cell(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[TextIO]:
    """``path`` open for CSV reading; a file that is not text or not CSV raises
    :class:`MetricsFileError` naming it."""
    try:
        with open(path, newline="") as handle:
            yield handle
    except (UnicodeDecodeError, csv.Error) as error:
        raise MetricsFileError(f"{path} is not a readable CSV file ({error})") from None


def _read_rows(path: Path) -> list[list[str]]:
    """The rows of a CSV file, blank lines (an editor's trailing newline) left out."""
    with _reading(path) as handle:
        return [row for row in csv.reader(handle) if row]


def _update_of(row: list[str], path: Path) -> int:
    """A metrics row's update number (its first cell)."""
    try:
        return int(row[0])
    except ValueError:
        raise MetricsFileError(
            f"{path}: a row starts with {row[0]!r}, not an update number; the file was edited "
            "or damaged (each row after the header starts with its update)"
        ) from None


def _check_header(columns: list[str], path: Path, required: tuple[str, ...] = ()) -> None:
    """Refuse a header that names a column twice (a reader would take one of the two silently)
    or lacks a ``required`` column.

    :raises MetricsFileError: naming the file and the columns.
    """
    twice = sorted({column for column in columns if columns.count(column) > 1})
    if twice:
        raise MetricsFileError(
            f"{path}: its header names {', '.join(twice)} more than once; the file was edited "
            "or damaged"
        )
    missing = [column for column in required if column not in columns]
    if missing:
        raise MetricsFileError(
            f"{path}: its header has no {' or '.join(missing)} column; the file was edited or "
            "damaged"
        )


def _row_values(columns: list[str], row: list[str], path: Path) -> dict[str, float]:
    """A metrics row's numbers by column (empty cells left out), for a header that passed
    :func:`_check_header` with ``update`` and ``env_steps`` required.

    :raises MetricsFileError: a cell is not a number, or ``update``/``env_steps`` is empty.
    """
    values = {}
    for column, cell in zip(columns, row, strict=False):
        if cell == "":
            continue
        try:
            values[column] = float(cell)
        except ValueError:
            raise MetricsFileError(
                f"{path}: update {row[0]} has {cell!r} in column {column}, not a number; the "
                "file was edited or damaged"
            ) from None
    for column in ("update", "env_steps"):
        if column not in values:
            raise MetricsFileError(f"{path}: update {row[0]} has no {column}")
    return values


def read_metrics(path: Path) -> list[dict[str, str]]:
    """Rows of a ``metrics.csv`` as dicts of strings.

    :raises MetricsFileError: the file is not text or CSV, or its header names a column twice
        (a reader would take one of the two silently).
    """
    with _reading(path) as handle:
        reader = csv.DictReader(handle)
        _check_header(reader.fieldnames or [], path)
        return list(reader)
