"""Offscreen rendering set-up: MuJoCo renders on a CPU through OSMesa when there is no display."""

from __future__ import annotations

import os

RENDERER_HELP = (
    "MuJoCo renders offscreen on a CPU through OSMesa: install it (Debian/Ubuntu: "
    "apt-get install libosmesa6) and set MUJOCO_GL=osmesa before Python starts, or use "
    "MUJOCO_GL=egl on a machine with a GPU"
)


def configure_offscreen_gl() -> None:
    """Choose OSMesa for MuJoCo and PyOpenGL when there is no display and nothing is chosen.

    MuJoCo and dm_control read ``MUJOCO_GL`` when they are first imported, so this must run
    before that; an explicit ``MUJOCO_GL`` is always kept.
    """
    if os.environ.get("DISPLAY") or os.environ.get("MUJOCO_GL"):
        return
    os.environ["MUJOCO_GL"] = "osmesa"
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
