#!/usr/bin/env python3
"""Fingerprints of learner states after a few updates, to show a change leaves training's bits alone.

A refactor that claims not to change what a learner computes should leave these unchanged::

    .venv/bin/python benchmarks/state_fingerprint.py

For each config it builds the learner with seed 1, runs a few updates (SAC with a short
warm-up and short updates, so that it finishes in about a minute on 2 cores) and prints the
first 16 hex digits of the SHA-256 of every array of the learner's state, in pytree order.
Run it before and after a change, on the same machine and the same installed versions.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import jax
import numpy as np

from jaxl.config import load_config
from jaxl.learners import make_learner

#: config, updates, and for SAC ``(learning_starts, steps_per_update)`` replacing the config's.
CASES: tuple[tuple[str, int, tuple[int, int] | None], ...] = (
    ("configs/rl/pendulum-sac.json", 3, (200, 100)),
    ("configs/rl/hopper-ppo.json", 2, None),
    ("configs/rl/halfcheetah-sac.json", 2, (100, 100)),
)


def fingerprint(config_path: Path, updates: int, sac_steps: tuple[int, int] | None) -> str:
    """The first 16 hex digits of the SHA-256 of the learner state after ``updates`` updates."""
    config = load_config(config_path)
    if sac_steps is not None:
        learning_starts, steps_per_update = sac_steps
        learner_config = config.learner_config.model_copy(
            update={"learning_starts": learning_starts, "steps_per_update": steps_per_update}
        )
        config = config.model_copy(update={"learner_config": learner_config})
    learner = make_learner(config, 1)
    for _ in range(updates):
        learner.update()
    digest = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves(learner.state):
        digest.update(np.asarray(leaf).tobytes())
    return digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    root = Path(__file__).resolve().parent.parent
    for config, updates, sac_steps in CASES:
        print(Path(config).stem, fingerprint(root / config, updates, sac_steps), flush=True)


if __name__ == "__main__":
    main()
