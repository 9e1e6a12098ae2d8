"""Ctrl-C during training: finish the update, checkpoint it, then stop."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C (``SIGINT``).

    :param run: the run directory.
    :param checkpoint: the update count of the run's newest checkpoint, from which
        ``jaxl resume`` continues, or ``None`` when the run has none yet.
    """

    def __init__(self, run: Path, checkpoint: int | None) -> None:
        super().__init__(run, checkpoint)
        self.run = run
        self.checkpoint = checkpoint

    def __str__(self) -> str:
        if self.checkpoint is None:
            return f"interrupted before {self.run} had a checkpoint; there is nothing to resume"
        return (
            f"interrupted; {self.run} has a checkpoint at update {self.checkpoint}: "
            f"continue it with 'jaxl resume {self.run}'"
        )


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[Callable[[], bool]]:
    """Within the block, a first Ctrl-C only asks to stop: the callable the block receives then
    returns ``True``, and the training loop stops after the update in progress, checkpointing it.
    A second Ctrl-C raises :class:`KeyboardInterrupt` at once.

    Outside the main thread (where Python cannot install signal handlers), and where ``SIGINT``
    is ignored (``nohup``, background jobs), Ctrl-C is left as it is.
    """
    requested = False
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:  # e.g. under nohup: Ctrl-C is not meant to stop this process
        yield lambda: False
        return

    def ask_to_stop(signum: int, frame: object) -> None:
        nonlocal requested
        if requested:
            raise KeyboardInterrupt
        requested = True
        print(
            "\njaxl: stopping after this update, which will be checkpointed "
            "(Ctrl-C again to stop at once)",
            file=sys.stderr,
            flush=True,
        )

    signal.signal(signal.SIGINT, ask_to_stop)
    try:
        yield lambda: requested
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


@contextlib.contextmanager
def interrupt_after() -> Iterator[None]:
    """Hold a Ctrl-C (``SIGINT``) that arrives within the block until the block ends, then raise
    :class:`KeyboardInterrupt`.

    For a command's start, which imports JAX, XLA, orbax and MuJoCo: a ``KeyboardInterrupt``
    raised inside those imports either broke them (an ``ImportError`` traceback) or was
    swallowed inside one of XLA's callbacks ("Exception ignored"), and the command then ran to
    the end as if never interrupted. Outside the main thread, where no signal handler can be
    installed, and where ``SIGINT`` is ignored (``nohup``), the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        yield
        return
    requested: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: requested.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
    if requested:
        raise KeyboardInterrupt
