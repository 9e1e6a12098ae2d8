#!/usr/bin/env python3
"""Final evaluation returns of the reference SAC (SBX or Stable-Baselines3) on Hopper-v5.

It gives the figure that JAXL's ``benchmarks/learning_returns.py configs/rl/hopper-sac.json`` is
compared with: the same hyperparameters (those of ``configs/rl/hopper-sac.json``, i.e. RL Baselines3
Zoo's SAC settings: 256x256 ReLU actor and twin critics, Adam 3e-4, batch 256, tau 0.005, gamma 0.99,
automatic temperature, one gradient step per env step), a 1M buffer, ``--learning-starts``
random steps (default 10k, as the config), ``--steps`` env steps in all, then ``--episodes``
deterministic evaluation episodes seeded from ``1_000_003 + 100 * seed``.

Run it in the benchmark virtualenv (``bash benchmarks/setup_bench_env.sh``), one process per
seed::

    .venv-bench/bin/python benchmarks/sac_reference_returns.py --algo sac-sbx --seed 0

It prints one JSON object: ``algo``, ``seed``, ``steps``, ``mean``, ``std`` and ``returns``.
"""

from __future__ import annotations

import argparse
import json

import _baselines_worker as worker  # this script's folder is first on sys.path
import gymnasium as gym
import numpy as np

EVAL_SEED_OFFSET = 1_000_003
BUFFER_SIZE = 1_000_000


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
    parser.add_argument("--learning-starts", type=int, default=10_000)
    parser.add_argument("--episodes", type=int, default=10)
    args = parser.parse_args()
    model = worker.make_sac_model(args.algo, args.seed, args.learning_starts, BUFFER_SIZE)
    model.learn(total_timesteps=args.steps)
    returns = evaluate(model, args.episodes, args.seed)
    print(
        json.dumps(
            {
                "algo": args.algo,
                "seed": args.seed,
                "steps": args.steps,
                "mean": float(np.mean(returns)),
                "std": float(np.std(returns)),
                "returns": returns,
            }
        )
    )


if __name__ == "__main__":
    main()
