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


class StopRequests:
    """The stop requests of a :func:`deferred_interrupt` block.

    Calling it returns the number of the first signal received (``0`` for none). Within
    :meth:`held`, a second signal, which otherwise raises :class:`StopNow` at once, waits for
    the block's end, so that it does not break off a checkpoint or metrics row being written; a
    third one raises at once.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self._holding = False
        self._held: int | None = None

    def __call__(self) -> int:
        return self.received[0] if self.received else 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold a second signal until the block ends, then raise :class:`StopNow` for it."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._held is not None:
            raise StopNow(self._held)

    def handle(self, signum: int, frame: object) -> None:
        """The signal handler."""
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        if not self.received:
            self.received.append(signum)
            print(
                f"\njaxl: {'' if signum == signal.SIGINT else name + ': '}stopping after this "
                f"update, which will be checkpointed ({name} again to stop at once)",
                file=sys.stderr,
                flush=True,
            )
        elif self._holding and self._held is None:
            self._held = signum
            print(
                f"\njaxl: stopping once the checkpoint or metrics being written are complete "
                f"({name} again to abandon them)",
                file=sys.stderr,
                flush=True,
            )
        else:
            raise StopNow(signum)


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[StopRequests]:
    """Within the block, a first Ctrl-C (``SIGINT``) or ``SIGTERM`` (what SLURM, ``timeout`` and
    preemption send) only asks to stop: the :class:`StopRequests` the block receives then
    returns the signal's number (else 0), and the training loop stops after the update in
    progress, checkpointing it. A second one raises :class:`StopNow` (a
    :class:`KeyboardInterrupt` that names it) at once, or, within
    :meth:`StopRequests.held`, at the held block's end. Signals are left as they are where
    :func:`_handling` installs nothing.
    """
    requests = StopRequests()
    with _handling((signal.SIGINT, signal.SIGTERM), requests.handle):
        yield requests


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
