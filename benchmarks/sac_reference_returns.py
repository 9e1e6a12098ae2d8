#!/usr/bin/env python3
"""Final evaluation returns of the reference SAC (SBX or Stable-Baselines3) on Hopper-v5.

It gives the figure that JAXL's ``benchmarks/learning_returns.py configs/rl/hopper-sac.json`` is
compared with: the same hyperparameters (those of ``configs/rl/hopper-sac.json``: 256x256 ReLU
actor and twin critics, Adam 3e-4, batch 256, tau 0.005, gamma 0.99, one gradient step per env
step, and the config's temperature: its ``init_alpha`` held fixed when ``autotune_alpha`` is
false, else SB3's automatic one), the config's replay capacity, ``--learning-starts`` random steps
(default: the config's ``learning_starts``), ``--steps`` env steps in all, then ``--episodes``
deterministic evaluation episodes seeded from ``1_000_003 + 100 * seed``.

Run it in the benchmark virtualenv (``bash benchmarks/setup_bench_env.sh``), one process per
seed::

    .venv-bench/bin/python benchmarks/sac_reference_returns.py --algo sac-sbx --seed 0

It prints one JSON object: ``algo``, ``seed``, ``steps``, ``learning_starts``, ``ent_coef``,
``mean``, ``std`` and ``returns``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _baselines_worker as worker  # this script's folder is first on sys.path
import gymnasium as gym
import numpy as np

EVAL_SEED_OFFSET = 1_000_003
JAXL_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "rl" / "hopper-sac.json"


def jaxl_learner_config() -> dict:
    """The ``learner_config`` of ``configs/rl/hopper-sac.json``, read as plain JSON (this script
    runs in the benchmark virtualenv, without JAXL)."""
    return json.loads(JAXL_CONFIG.read_text())["learner_config"]


def fixed_temperature(learner: dict) -> float | None:
    """The temperature the config holds fixed (its ``init_alpha`` when ``autotune_alpha`` is
    false), or ``None`` when it learns it, as SB3's ``ent_coef="auto"`` does."""
    return None if learner.get("autotune_alpha", True) else float(learner["init_alpha"])


def evaluate(model, episodes: int, seed: int) -> list[float]:
    """Returns of ``episodes`` deterministic episodes of ``model`` on a fresh Hopper-v5."""
    env = gym.make(worker.SAC_ENV_ID)
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=EVAL_SEED_OFFSET + 100 * seed + episode)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return returns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algo", choices=("sac-sbx", "sac-sb3"), default="sac-sbx")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--learning-starts", type=int, default=None)
    parser.add_argument("--episodes", type=int, default=10)
    args = parser.parse_args()
    learner = jaxl_learner_config()
    learning_starts = (
        learner["learning_starts"] if args.learning_starts is None else args.learning_starts
    )
    buffer_size = learner["buffer_config"]["buffer_size"]
    fixed_alpha = fixed_temperature(learner)
    model = worker.make_sac_model(
        args.algo, args.seed, learning_starts, buffer_size, ent_coef=fixed_alpha
    )
    model.learn(total_timesteps=args.steps)
    returns = evaluate(model, args.episodes, args.seed)
    print(
        json.dumps(
            {
                "algo": args.algo,
                "seed": args.seed,
                "steps": args.steps,
                "learning_starts": learning_starts,
                "ent_coef": "auto" if fixed_alpha is None else fixed_alpha,
                "mean": float(np.mean(returns)),
                "std": float(np.std(returns)),
                "returns": returns,
            }
        )
    )


if __name__ == "__main__":
    main()
