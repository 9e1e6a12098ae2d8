"""Ctrl-C during training: finish the update, checkpoint it, then stop."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C (``SIGINT``) or ``SIGTERM``.

    :param run: the run directory.
    :param checkpoint: the update count of the run's newest checkpoint, from which
        ``jaxl resume`` continues, or ``None`` when the run has none yet.
    :param signal_number: the signal that stopped it.
    """

    def __init__(
        self, run: Path, checkpoint: int | None, signal_number: int = signal.SIGINT
    ) -> None:
        super().__init__(run, checkpoint)
        self.run = run
        self.checkpoint = checkpoint
        self.signal_number = int(signal_number)
        """The signal that stopped training (``SIGINT`` or ``SIGTERM``)."""

    def __str__(self) -> str:
        if self.checkpoint is None:
            return f"interrupted before {self.run} had a checkpoint; there is nothing to resume"
        return (
            f"interrupted; {self.run} has a checkpoint at update {self.checkpoint}: "
            f"continue it with 'jaxl resume {self.run}'"
        )


class StopNow(KeyboardInterrupt):
    """A second ``Ctrl-C`` or ``SIGTERM`` within :func:`deferred_interrupt`: stop at once.

    :param signal_number: the signal received.
    """

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.signal_number = int(signal_number)


@contextlib.contextmanager
def _handling(numbers: tuple[int, ...], handler: Callable[[int, object], None]) -> Iterator[None]:
    """Within the block, ``handler`` handles the signals ``numbers``; the previous handlers come
    back after it. Outside the main thread (where Python cannot install signal handlers) nothing
    is installed, nor for a signal that is ignored (``SIGINT`` under ``nohup`` or in a script's
    background job), which stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in numbers}
    handled = [number for number, old in previous.items() if old is not signal.SIG_IGN]
    for number in handled:
        signal.signal(number, handler)
    try:
        yield
    finally:
        for number in handled:
            old = previous[number]
            signal.signal(number, old if old is not None else signal.SIG_DFL)


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[Callable[[], int]]:
    """Within the block, a first Ctrl-C (``SIGINT``) or ``SIGTERM`` (what SLURM, ``timeout`` and
    preemption send) only asks to stop: the callable the block receives then returns the
    signal's number (else 0), and the training loop stops after the update in progress,
    checkpointing it. A second one raises :class:`StopNow` (a :class:`KeyboardInterrupt` that
    names it) at once. Signals are left as they are where :func:`_handling` installs nothing.
    """
    requested: list[int] = []

    def ask_to_stop(signum: int, frame: object) -> None:
        if requested:
            raise StopNow(signum)
        requested.append(signum)
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        print(
            f"\njaxl: {'' if signum == signal.SIGINT else name + ': '}stopping after this "
            f"update, which will be checkpointed ({name} again to stop at once)",
            file=sys.stderr,
            flush=True,
        )

    with _handling((signal.SIGINT, signal.SIGTERM), ask_to_stop):
        yield lambda: requested[0] if requested else 0


@contextlib.contextmanager
def interrupt_after() -> Iterator[None]:
    """Hold a Ctrl-C (``SIGINT``) that arrives within the block until the block ends, then raise
    :class:`KeyboardInterrupt`.

    For a command's start, which imports JAX, XLA, orbax and MuJoCo: a ``KeyboardInterrupt``
    raised inside those imports either broke them (an ``ImportError`` traceback) or was
    swallowed inside one of XLA's callbacks ("Exception ignored"), and the command then ran to
    the end as if never interrupted. Where :func:`_handling` installs nothing, the block runs
    as it is.
    """
    requested: list[int] = []
    with _handling((signal.SIGINT,), lambda signum, frame: requested.append(signum)):
        yield
    if requested:
        raise KeyboardInterrupt
