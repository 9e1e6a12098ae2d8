#!/usr/bin/env python3
"""The largest |scaled reward| PPO's reward scaling gives, with no clip, over a run's first steps.

SB3's ``VecNormalize`` and CleanRL clip scaled rewards at 10; JAXL's ``reward_clip`` is off by
default. This measures whether a clip at 10 would act for a config::

    .venv/bin/python benchmarks/reward_scale_range.py configs/rl/hopper-ppo.json \\
        --steps 100000 --seeds 0 1 2

It prints, per seed, the largest |scaled reward| of the first updates and of the whole budget.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp

import jaxl.learners.ppo.learner as ppo_learner
from jaxl.config import load_config
from jaxl.learners import make_learner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()

    largest: list[float] = []
    scale_rewards = ppo_learner.scale_rewards

    def recording(state, rewards, dones, gamma, clip=None):
        new_state, scaled = scale_rewards(state, rewards, dones, gamma, None)
        jax.debug.callback(lambda m: largest.append(float(m)), jnp.abs(scaled).max())
        return new_state, scaled

    ppo_learner.scale_rewards = recording  # the update is traced after this, so it records
    data = json.loads(args.config.read_text())
    if not data["learner_config"].get("normalize_reward"):
        parser.error(f"{args.config} does not scale rewards (normalize_reward is false)")
    data["learner_config"]["reward_clip"] = None
    data["train_config"]["total_env_steps"] = args.steps
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "config.json"
        config_path.write_text(json.dumps(data))
        config = load_config(config_path)
        for seed in args.seeds:
            learner = make_learner(config, seed)
            largest.clear()
            while learner.update_count < learner.total_updates:
                learner.update()
            print(
                f"{args.config.name} seed {seed}: {learner.env_steps} env steps, largest "
                f"|scaled reward| {max(largest):.2f} (first updates: "
                f"{', '.join(f'{x:.2f}' for x in largest[:5])})",
                flush=True,
            )


if __name__ == "__main__":
    main()
