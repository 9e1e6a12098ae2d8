"""Offscreen rendering set-up: MuJoCo renders on a CPU through OSMesa when there is no display."""

from __future__ import annotations

import ctypes.util
import os

RENDERER_HELP = (
    "MuJoCo renders offscreen on a CPU through OSMesa: install it (Debian/Ubuntu: "
    "apt-get install libosmesa6) and set MUJOCO_GL=osmesa before Python starts, or use "
    "MUJOCO_GL=egl on a machine with a GPU"
)


def configure_offscreen_gl() -> None:
    """Choose OSMesa for MuJoCo and PyOpenGL when there is no display, nothing is chosen and the
    OSMesa library is installed.

    MuJoCo and dm_control read ``MUJOCO_GL`` when they are first imported, so this must run
    before that; an explicit ``MUJOCO_GL`` is always kept. Without OSMesa nothing is set:
    naming a missing backend would make ``import mujoco`` itself fail, and so every env, not
    only rendering (which then fails with :data:`RENDERER_HELP`).
    """
    if os.environ.get("DISPLAY") or os.environ.get("MUJOCO_GL"):
        return
    if ctypes.util.find_library("OSMesa") is None:
        return
    os.environ["MUJOCO_GL"] = "osmesa"
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
