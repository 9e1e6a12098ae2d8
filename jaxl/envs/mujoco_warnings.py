"""Silence MuJoCo warnings that no JAXL user can act on, and only those."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import re
import sys
import warnings
from collections.abc import Iterator

import mujoco

DROPPED_MUJOCO_WARNINGS = ("compiler attribute 'settotalmass' is deprecated",)
"""Beginnings of the MuJoCo warnings :func:`dropping_mujoco_warnings` drops. Gymnasium's
HalfCheetah and dm_control's cheetah and hopper XMLs set this compiler flag, which MuJoCo 3.17
deprecates; nothing a user does can change it, and it was printed for every env built (42 times
in one SAC run's log) and every parameterized variant compiled."""


@contextlib.contextmanager
def dropping_mujoco_warnings(prefixes: tuple[str, ...] = DROPPED_MUJOCO_WARNINGS) -> Iterator[None]:
    """Drop MuJoCo warnings that start with one of ``prefixes`` while the block runs.

    MuJoCo reports them three ways, all covered: through its warning handler (compiling an XML),
    as Python warnings (``MjSpec.compile``) and, once dm_control is imported, through dm_control's
    handler, which logs to the ``absl`` logger. Any other warning goes where it went before: to
    the handler installed before, or to stderr as MuJoCo prints it. When dm_control is first
    imported inside the block its handler replaces this one and stays installed afterwards;
    otherwise the previous handler is restored, so warnings while stepping (an unstable
    simulation) are untouched.
    """
    previous = mujoco.get_mju_user_warning()

    def handler(message: str) -> None:
        if message.startswith(prefixes):
            return
        if previous is None:
            print(f"WARNING: {message}\n", file=sys.stderr, flush=True)
        elif isinstance(previous, ctypes._CFuncPtr):  # dm_control's callback takes bytes
            previous(message.encode())
        else:
            previous(message)

    def keep(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(prefixes)

    absl = logging.getLogger("absl")
    absl.addFilter(keep)
    mujoco.set_mju_user_warning(handler)
    try:
        with warnings.catch_warnings():
            for prefix in prefixes:
                warnings.filterwarnings("ignore", message=re.escape(prefix))
            yield
    finally:
        absl.removeFilter(keep)
        if mujoco.get_mju_user_warning() is handler:
            mujoco.set_mju_user_warning(previous)
