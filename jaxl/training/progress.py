"""A progress line for long runs: a live bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO


def _format_eta(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


ANCHOR_REPORT = 2
"""The ETA is measured from the end of this update of a session (the first two compile)."""


class Progress:
    """Shows update count, env steps, steps/s, the latest eval return and the ETA.

    :param total_updates: updates in the run.
    :param start_update: where a resumed run starts.
    :param stream: where to write (stderr by default, so stdout stays machine-readable).
    :param plain_every: seconds between plain log lines when ``stream`` is not a terminal.
    """

    def __init__(
        self,
        total_updates: int,
        start_update: int = 0,
        stream: TextIO | None = None,
        plain_every: float = 10.0,
    ) -> None:
        self.total = total_updates
        self.stream = stream or sys.stderr
        self.plain_every = plain_every
        self._reports = 0
        self._anchor: tuple[float, int] | None = None
        """Time and update count of the second report, from which the ETA's rate is measured:
        the first updates of a run include JAX's compilation (several seconds), which a rate
        from the start would spread over the whole run."""
        self._last_plain = -math.inf
        self._bar = None
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
            )
            from rich.progress import (
                Progress as RichProgress,
            )

            self._bar = RichProgress(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                console=Console(file=self.stream),
            )
            self._task = self._bar.add_task(
                "train", total=total_updates, completed=start_update, info=""
            )
            self._bar.start()

    def update(
        self, update: int, env_steps: int, steps_per_second: float, eval_return: float | None
    ) -> None:
        """Report progress after ``update`` updates."""
        now = time.perf_counter()
        self._reports += 1
        if self._reports == ANCHOR_REPORT:
            self._anchor = (now, update)
        eta = math.inf
        if update >= self.total:
            eta = 0.0
        elif self._anchor is not None and update > self._anchor[1] and now > self._anchor[0]:
            rate = (update - self._anchor[1]) / (now - self._anchor[0])
            eta = (self.total - update) / rate
        parts = [f"update {update}/{self.total}"]
        if env_steps:
            parts.append(f"env steps {env_steps:,}")
            parts.append(f"{steps_per_second:,.0f} steps/s")
        if eval_return is not None and math.isfinite(eval_return):
            parts.append(f"eval return {eval_return:.1f}")
        parts.append(f"ETA {_format_eta(eta)}")
        line = " | ".join(parts)
        if self._bar is not None:
            self._bar.update(self._task, completed=update, info=" | ".join(parts[1:]))
        elif update == self.total or time.perf_counter() - self._last_plain >= self.plain_every:
            self._last_plain = time.perf_counter()
            print(line, file=self.stream, flush=True)

    def restart_rate(self) -> None:
        """Measure the ETA's rate afresh from the second report after this call, as at the start
        of a session: call it when the run enters a slower phase (SAC's first learning update,
        which also compiles), whose updates the earlier rate would not predict."""
        self._reports = 0
        self._anchor = None

    def close(self) -> None:
        """Stop the live display."""
        if self._bar is not None:
            self._bar.stop()
