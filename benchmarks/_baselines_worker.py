"""One timed run of a baseline for ``benchmarks/ppo_cartpole_speed.py``.

This worker runs in a separate interpreter so that each framework gets a fresh process and
its own dependencies:

* ``--algo sb3`` / ``--algo sbx`` run PPO from Stable-Baselines3 / SBX on CartPole-v1 with 8
  environments and SB3's default PPO hyperparameters. They need the benchmark-only virtualenv
  ``.venv-bench`` (see ``benchmarks/setup_bench_env.sh``). Model construction is not timed;
  only ``model.learn(total_timesteps=N)`` is.
* ``--algo raw-env`` steps an 8-environment ``gymnasium.vector.SyncVectorEnv`` of CartPole-v1
  with pre-generated random actions, to measure the environment-stepping ceiling. It only
  needs ``gymnasium`` and ``numpy``, so it also runs in the library's own virtualenv.

The worker prints exactly one JSON object on the last line of its standard output.

Example::

    .venv-bench/bin/python benchmarks/_baselines_worker.py --algo sb3 --seed 0 \\
        --total-steps 98304
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from importlib import metadata
from typing import Any

ENV_ID = "CartPole-v1"
N_ENVS = 8

#: SB3's default PPO hyperparameters, passed explicitly so the benchmark is self-describing.
#: The policy network is left at each library's default (separate 64x64 tanh MLPs for the
#: policy and the value function in both SB3 and SBX).
PPO_HYPERPARAMETERS: dict[str, Any] = {
    "learning_rate": 3e-4,
    "n_steps": 2048,
    "batch_size": 64,
    "n_epochs": 10,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip_range": 0.2,
    "ent_coef": 0.0,
    "vf_coef": 0.5,
    "max_grad_norm": 0.5,
}


def package_versions(names: list[str]) -> dict[str, str | None]:
    """Return the installed version of each distribution, or ``None`` when it is missing.

    :param names: distribution names, e.g. ``["torch", "stable-baselines3"]``.
    :returns: a mapping from each name to its version string or ``None``.
    """
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def make_baseline_model(algo: str, seed: int) -> Any:
    """Build an SB3 or SBX PPO model on an 8-env ``DummyVecEnv`` of CartPole-v1.

    :param algo: ``"sb3"`` or ``"sbx"``.
    :param seed: seed for the environments and the model.
    :returns: the constructed (untrained) model.
    """
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    vec_env = make_vec_env(ENV_ID, n_envs=N_ENVS, seed=seed, vec_env_cls=DummyVecEnv)
    if algo == "sb3":
        from stable_baselines3 import PPO

        return PPO("MlpPolicy", vec_env, seed=seed, device="cpu", verbose=0, **PPO_HYPERPARAMETERS)
    from sbx import PPO as SbxPPO

    return SbxPPO("MlpPolicy", vec_env, seed=seed, verbose=0, **PPO_HYPERPARAMETERS)


def describe_policy(model: Any) -> str:
    """Return a one-line description of the model's policy network.

    :param model: an SB3 or SBX model.
    :returns: the policy's class name and network architecture.
    """
    policy = model.policy
    arch = getattr(policy, "net_arch", None)
    if arch is None:
        arch = {
            "pi": getattr(policy, "net_arch_pi", None),
            "vf": getattr(policy, "net_arch_vf", None),
        }
    activation = getattr(policy, "activation_fn", None)
    activation_name = getattr(activation, "__name__", repr(activation))
    return f"{type(policy).__name__} net_arch={arch} activation={activation_name}"


def run_baseline(algo: str, seed: int, total_steps: int) -> dict[str, Any]:
    """Train SB3 or SBX PPO and time only ``model.learn``.

    :param algo: ``"sb3"`` or ``"sbx"``.
    :param seed: seed for the environments and the model.
    :param total_steps: environment steps to train for (over all 8 environments).
    :returns: the timing result and the versions of the packages involved.
    """
    model = make_baseline_model(algo, seed)
    start = time.perf_counter()
    model.learn(total_timesteps=total_steps)
    seconds = time.perf_counter() - start
    env_steps = int(model.num_timesteps)
    result: dict[str, Any] = {
        "algo": algo,
        "seed": seed,
        "env_steps": env_steps,
        "seconds": seconds,
        "steps_per_second": env_steps / seconds,
        "policy": describe_policy(model),
        "versions": package_versions(
            ["stable-baselines3", "sbx-rl", "torch", "jax", "jaxlib", "flax", "gymnasium"]
        ),
    }
    if algo == "sb3":
        import torch

        result["torch_num_threads"] = torch.get_num_threads()
        result["device"] = str(model.device)
    else:
        import jax

        result["device"] = str(jax.devices()[0])
    return result


def run_raw_env(seed: int, total_steps: int) -> dict[str, Any]:
    """Time an 8-env ``SyncVectorEnv`` of CartPole-v1 stepped with random actions.

    The actions are generated before the clock starts, so only ``envs.step`` is timed (the
    initial ``reset`` is not).

    :param seed: seed for the environments and the random actions.
    :param total_steps: environment steps to take (over all 8 environments).
    :returns: the timing result and the versions of the packages involved.
    """
    import gymnasium as gym
    import numpy as np

    envs = gym.vector.SyncVectorEnv([lambda: gym.make(ENV_ID) for _ in range(N_ENVS)])
    n_iterations = -(-total_steps // N_ENVS)
    rng = np.random.default_rng(seed)
    n_actions = int(envs.single_action_space.n)
    actions = rng.integers(0, n_actions, size=(n_iterations, N_ENVS), dtype=np.int64)
    envs.reset(seed=seed)
    start = time.perf_counter()
    for batch in actions:
        envs.step(batch)
    seconds = time.perf_counter() - start
    envs.close()
    env_steps = n_iterations * N_ENVS
    return {
        "algo": "raw-env",
        "seed": seed,
        "env_steps": env_steps,
        "seconds": seconds,
        "steps_per_second": env_steps / seconds,
        "python": sys.executable,
        "versions": package_versions(["gymnasium", "numpy"]),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the worker's command line.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    :returns: the parsed arguments.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--algo", choices=["sb3", "sbx", "raw-env"], required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--total-steps", type=int, default=N_ENVS * 2048 * 6)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run one timed job and print its result as one JSON line.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    """
    args = parse_args(argv)
    if args.algo == "raw-env":
        result = run_raw_env(args.seed, args.total_steps)
    else:
        result = run_baseline(args.algo, args.seed, args.total_steps)
    result["platform"] = platform.platform()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
