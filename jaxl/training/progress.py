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


_BAR_TITLE = "train"
_BAR_WIDTH = 40
"""The bar's width where the terminal has room (rich's default)."""
_MIN_BAR_WIDTH = 8
_LEFT_OUT_FIRST = ("steps/s", "env steps")
"""What the bar's line leaves out, in this order, where even the narrowest bar leaves no room."""


def _beside_a_bar(parts: dict[str, str]) -> dict[str, str]:
    """The progress line's parts in the fewer words a line beside the bar needs:
    ``212/1171 | 54,016 steps | 3,210 steps/s | eval 458.7 | ETA 0:12:34``."""
    short = {
        "update": parts["update"].removeprefix("update "),
        "env steps": parts.get("env steps", "").removeprefix("env steps ") + " steps",
        "eval": parts.get("eval", "").replace("eval return", "eval"),
    }
    return {key: short.get(key, part) for key, part in parts.items()}


def _fit(parts: dict[str, str], width: int) -> tuple[int, str]:
    """The bar's width and the text after it, for a terminal ``width`` columns wide: the bar
    narrows to :data:`_MIN_BAR_WIDTH`, then parts are left out (:data:`_LEFT_OUT_FIRST`),
    so that the update count and the ETA stay in view. Where even they do not fit, rich cuts
    the line."""
    parts = dict(parts)
    while True:
        info = " | ".join(parts.values())
        # One space between rich's columns, and one left free at the end of the line.
        room = width - len(_BAR_TITLE) - len(info) - 3
        left_out = [key for key in _LEFT_OUT_FIRST if key in parts]
        if room >= _MIN_BAR_WIDTH or not left_out:
            return max(1, min(_BAR_WIDTH, room)), info
        del parts[left_out[0]]


ANCHOR_REPORT = 2
"""The ETA is measured from the end of this update of a session (the first two compile)."""


class Progress:
    """Shows update count, env steps, steps/s, the latest eval return and the ETA.

    steps/s and the ETA are this session's rate since its second update (the first ones
    compile), measured afresh after :meth:`restart_rate`; ``metrics.csv``'s
    ``steps_per_second`` is the average over the whole run instead. On a terminal, the bar
    narrows, then env steps and steps/s are left out, so that the line fits the terminal's width
    with its update count and ETA.

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
        self._anchor: tuple[float, int, int] | None = None
        """Time, update count and env steps of the second report, from which the rates are
        measured: the first updates of a run include JAX's compilation (several seconds), which
        a rate from the start would spread over the whole run."""
        self._last_plain = -math.inf
        self._bar = None
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, TextColumn
            from rich.progress import Progress as RichProgress

            self._bar_column = BarColumn(bar_width=_BAR_WIDTH)
            self._bar = RichProgress(
                TextColumn(_BAR_TITLE),
                self._bar_column,
                TextColumn("{task.fields[info]}"),
                console=Console(file=self.stream),
            )
            self._task = self._bar.add_task(
                "train", total=total_updates, completed=start_update, info=""
            )
            self._bar.start()

    def update(self, update: int, env_steps: int, eval_return: float | None) -> None:
        """Report progress after ``update`` updates and ``env_steps`` env steps."""
        now = time.perf_counter()
        self._reports += 1
        if self._reports == ANCHOR_REPORT:
            self._anchor = (now, update, env_steps)
        eta, steps_per_second = math.inf, None
        if self._anchor is not None and update > self._anchor[1] and now > self._anchor[0]:
            seconds = now - self._anchor[0]
            eta = (self.total - update) * seconds / (update - self._anchor[1])
            steps_per_second = (env_steps - self._anchor[2]) / seconds
        if update >= self.total:
            eta = 0.0
        parts = {"update": f"update {update}/{self.total}"}
        if env_steps:
            parts["env steps"] = f"env steps {env_steps:,}"
            if steps_per_second is not None:
                parts["steps/s"] = f"{steps_per_second:,.0f} steps/s"
        if eval_return is not None and math.isfinite(eval_return):
            parts["eval"] = f"eval return {eval_return:.1f}"
        parts["ETA"] = f"ETA {_format_eta(eta)}"
        if self._bar is not None:
            bar_width, info = _fit(_beside_a_bar(parts), self._bar.console.width)
            self._bar_column.bar_width = bar_width
            self._bar.update(self._task, completed=update, info=info)
        elif update == self.total or time.perf_counter() - self._last_plain >= self.plain_every:
            self._last_plain = time.perf_counter()
            print(" | ".join(parts.values()), file=self.stream, flush=True)

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
