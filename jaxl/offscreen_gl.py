"""Offscreen rendering set-up: which OpenGL backend MuJoCo uses when there is no display.

This module imports nothing heavy, so that it can run before MuJoCo and dm_control are imported
(dm_control reads ``MUJOCO_GL`` once, when it is first imported).
"""

from __future__ import annotations

import ctypes.util
import os

RENDERER_HELP = (
    "MuJoCo renders offscreen through OSMesa or EGL: install one (Debian/Ubuntu: apt-get install "
    "libosmesa6, or libegl1 and libegl-mesa0, whose EGL also renders on a CPU) and set "
    "MUJOCO_GL=osmesa or MUJOCO_GL=egl before Python starts"
)
"""What to do when no offscreen renderer is installed, shown in the errors that need one."""


def offscreen_backend(allow_egl: bool = False) -> str | None:
    """The ``MUJOCO_GL`` value to use without a display: ``"osmesa"`` where the OSMesa library is
    installed, else ``"egl"`` where an EGL library is and ``allow_egl`` is set, else ``None``.
    """
    if ctypes.util.find_library("OSMesa") is not None:
        return "osmesa"
    if allow_egl and ctypes.util.find_library("EGL") is not None:
        return "egl"
    return None


def configure_offscreen_gl(allow_egl: bool = False) -> str | None:
    """Set ``MUJOCO_GL`` (and ``PYOPENGL_PLATFORM``) to :func:`offscreen_backend` when there is
    no display and nothing is chosen yet; an explicit ``MUJOCO_GL`` is always kept.

    Nothing is set when no backend library is installed: naming a missing backend would make
    dm_control fail to build any env, not only to render (rendering then fails with
    :data:`~jaxl.offscreen_gl.RENDERER_HELP`).

    :param allow_egl: also choose EGL when OSMesa is missing. Only processes whose job is to
        render set it: with ``MUJOCO_GL=egl``, dm_control builds no env at all where EGL cannot open
        a display (a GPU driver's EGL library on a machine without that GPU, for instance), so a
        training process must not depend on it.
    :return: the backend chosen here, or ``None`` when nothing was set.
    """
    if os.environ.get("DISPLAY") or os.environ.get("MUJOCO_GL"):
        return None
    backend = offscreen_backend(allow_egl)
    if backend is not None:
        os.environ["MUJOCO_GL"] = backend
        os.environ.setdefault("PYOPENGL_PLATFORM", backend)
    return backend


def configure_offscreen_sdl() -> None:
    """Give pygame's SDL no window system to look for (``SDL_VIDEODRIVER=dummy``, unless one is
    set): Gymnasium draws its toy-text envs (FrozenLake) with pygame even for ``rgb_array``
    frames, and SDL otherwise prints errors about the missing display on stderr."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
