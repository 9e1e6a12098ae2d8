"""One timed run of a baseline for ``benchmarks/ppo_cartpole_speed.py`` and
``benchmarks/sac_hopper_speed.py``.

This worker runs in a separate interpreter so that each framework gets a fresh process and
its own dependencies:

* ``--algo sb3`` / ``--algo sbx`` run PPO from Stable-Baselines3 / SBX on CartPole-v1 with 8
  environments and SB3's default PPO hyperparameters.
* ``--algo sac-sb3`` / ``--algo sac-sbx`` run SAC from Stable-Baselines3 / SBX on one
  Hopper-v5 environment with the hyperparameters of :data:`SAC_HYPERPARAMETERS` and
  ``--learning-starts`` random steps before the first gradient step.

  All four need the benchmark-only virtualenv ``.venv-bench`` (see
  ``benchmarks/setup_bench_env.sh``). Model construction is not timed; only
  ``model.learn(total_timesteps=N)`` is.
* ``--algo raw-env`` steps ``--n-envs`` environments ``--env`` (default: an 8-environment
  ``gymnasium.vector.SyncVectorEnv`` of CartPole-v1; with ``--n-envs 1`` one bare environment)
  with pre-generated random actions, to measure the environment-stepping ceiling. It only
  needs ``gymnasium`` and ``numpy`` (and ``mujoco`` for the MuJoCo tasks), so it also runs in
  the library's own virtualenv.

The worker prints exactly one JSON object on the last line of its standard output.

``--serve-blocks`` instead keeps one SAC learner alive for
``benchmarks/sac_hopper_speed.py``'s interleaved steady-state measurement (``--algo sac-sb3``,
``sac-sbx``, or ``sac-jaxl``, which runs in JAXL's own virtualenv). The worker first trains
``--warmup-steps`` env steps untimed (the random steps and the first learning steps, which
include JIT compilation) and prints ``{"ready": true, ...}``; then each line ``run N`` on its
standard input trains N more env steps and prints ``{"block": true, "seconds": ...,
"cpu_seconds": ...}`` (the wall time and this process's own CPU time of those steps); ``quit``
or the end of its input ends it.

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
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from _speed_common import own_cpu_seconds  # this script's folder is first on sys.path

ENV_ID = "CartPole-v1"
N_ENVS = 8
SAC_ENV_ID = "Hopper-v5"

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


#: SAC hyperparameters of ``benchmarks/sac_hopper_speed.py`` (the same as JAXL's
#: ``configs/rl/hopper-sac.json``, i.e. SB3's SAC defaults, except a 100k buffer), passed
#: explicitly so the benchmark does not depend on either library's defaults. ``learning_starts``
#: comes from the command line.
SAC_HYPERPARAMETERS: dict[str, Any] = {
    "learning_rate": 3e-4,
    "buffer_size": 100_000,
    "batch_size": 256,
    "tau": 0.005,
    "gamma": 0.99,
    "train_freq": 1,
    "gradient_steps": 1,
    "ent_coef": "auto",
    "target_entropy": "auto",
}
#: Separate 256x256 MLPs for the actor and each of the two critics (both libraries' default,
#: set explicitly); the activation (ReLU) is set per library in :func:`make_sac_model`.
SAC_NET_ARCH: dict[str, list[int]] = {"pi": [256, 256], "qf": [256, 256]}
SAC_N_CRITICS = 2

PACKAGES = ["stable-baselines3", "sbx-rl", "torch", "jax", "jaxlib", "flax", "gymnasium"]
JAXL_PACKAGES = ["jaxl", "jax", "jaxlib", "flax", "gymnasium", "mujoco"]
#: JAXL's SAC config with the same hyperparameters (``sac_hopper_speed.py`` trains with it too).
JAXL_SAC_CONFIG = Path(__file__).resolve().parent / "configs" / "hopper-sac-speed.json"


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

        model = PPO("MlpPolicy", vec_env, seed=seed, device="cpu", verbose=0, **PPO_HYPERPARAMETERS)
    else:
        from sbx import PPO as SbxPPO

        model = SbxPPO("MlpPolicy", vec_env, seed=seed, verbose=0, **PPO_HYPERPARAMETERS)
    return without_log_folder(model)


def without_log_folder(model: Any) -> Any:
    """Give ``model`` the logger ``verbose=0`` gives it (no outputs), minus the empty
    ``SB3-<date>`` folder in the temporary directory that SB3 creates for it on every
    ``learn()``.

    :param model: an SB3 or SBX model.
    :returns: ``model``.
    """
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def make_sac_model(
    algo: str,
    seed: int,
    learning_starts: int,
    buffer_size: int | None = None,
    ent_coef: float | None = None,
) -> Any:
    """Build an SB3 or SBX SAC model on a one-env ``DummyVecEnv`` of Hopper-v5.

    :param algo: ``"sac-sb3"`` or ``"sac-sbx"``.
    :param seed: seed for the environment and the model.
    :param learning_starts: random-action steps before the first gradient step.
    :param buffer_size: replay capacity (``None``: the speed benchmark's, from
        :data:`SAC_HYPERPARAMETERS`).
    :param ent_coef: a fixed entropy temperature (``None``: the speed benchmark's automatic one).
    :returns: the constructed (untrained) model.
    """
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    vec_env = make_vec_env(SAC_ENV_ID, n_envs=1, seed=seed, vec_env_cls=DummyVecEnv)
    kwargs = {**SAC_HYPERPARAMETERS, "learning_starts": learning_starts}
    if buffer_size is not None:
        kwargs["buffer_size"] = buffer_size
    if ent_coef is not None:
        kwargs["ent_coef"] = ent_coef
    if algo == "sac-sb3":
        import torch
        from stable_baselines3 import SAC

        policy_kwargs = {
            "net_arch": SAC_NET_ARCH,
            "activation_fn": torch.nn.ReLU,
            "n_critics": SAC_N_CRITICS,
        }
        model = SAC(
            "MlpPolicy",
            vec_env,
            seed=seed,
            device="cpu",
            verbose=0,
            policy_kwargs=policy_kwargs,
            **kwargs,
        )
    else:
        import flax.linen as nn
        from sbx import SAC as SbxSAC

        policy_kwargs = {
            "net_arch": SAC_NET_ARCH,
            "activation_fn": nn.relu,
            "n_critics": SAC_N_CRITICS,
        }
        model = SbxSAC(
            "MlpPolicy", vec_env, seed=seed, verbose=0, policy_kwargs=policy_kwargs, **kwargs
        )
    return without_log_folder(model)


def describe_policy(model: Any) -> str:
    """Return a one-line description of the model's policy network.

    :param model: an SB3 or SBX model.
    :returns: the policy's class name and network architecture.
    """
    policy = model.policy
    arch = getattr(policy, "net_arch", None)
    if arch is None:
        names = ("pi", "vf", "qf")
        arch = {
            name: getattr(policy, f"net_arch_{name}")
            for name in names
            if hasattr(policy, f"net_arch_{name}")
        }
    activation = getattr(policy, "activation_fn", None)
    activation_name = getattr(activation, "__name__", repr(activation))
    return f"{type(policy).__name__} net_arch={arch} activation={activation_name}"


#: SAC runs record ``[env steps, clock]`` every this many env steps (JAXL's ``metrics.csv``
#: rows of the speed config fall on the same steps).
PROGRESS_EVERY = 1000


def make_progress_callback(progress: list[list[float]], every: int) -> Any:
    """Build an SB3 callback that appends ``[env steps, time.perf_counter()]`` to ``progress``
    after every ``every``-th env step (SB3 calls it after the env step, before training on it).

    :param progress: the list to append to.
    :param every: the interval in env steps.
    :returns: the callback.
    """
    from stable_baselines3.common.callbacks import BaseCallback

    class Progress(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps % every == 0:
                progress.append([self.num_timesteps, time.perf_counter()])
            return True

    return Progress()


def run_baseline(algo: str, seed: int, total_steps: int, learning_starts: int) -> dict[str, Any]:
    """Train SB3 or SBX (PPO or SAC) and time only ``model.learn``.

    :param algo: ``"sb3"``, ``"sbx"``, ``"sac-sb3"`` or ``"sac-sbx"``.
    :param seed: seed for the environments and the model.
    :param total_steps: environment steps to train for (over all environments).
    :param learning_starts: SAC's random-action steps before learning (ignored for PPO).
    :returns: the timing result and the versions of the packages involved.
    """
    sac = algo.startswith("sac-")
    if sac:
        model = make_sac_model(algo, seed, learning_starts)
    else:
        model = make_baseline_model(algo, seed)
    progress: list[list[float]] = []
    callback = make_progress_callback(progress, PROGRESS_EVERY) if sac else None
    start = time.perf_counter()
    model.learn(total_timesteps=total_steps, callback=callback)
    seconds = time.perf_counter() - start
    env_steps = int(model.num_timesteps)
    result: dict[str, Any] = {
        "algo": algo,
        "seed": seed,
        "env_steps": env_steps,
        "seconds": seconds,
        "steps_per_second": env_steps / seconds,
        "policy": describe_policy(model),
        "versions": package_versions(PACKAGES + (["mujoco"] if sac else [])),
    }
    if sac:
        result["progress"] = [[steps, at - start] for steps, at in progress]
        result["learning_starts"] = learning_starts
        result["gradient_steps"] = int(model._n_updates)
    if algo.endswith("sb3"):
        import torch

        result["torch_num_threads"] = torch.get_num_threads()
        result["device"] = str(model.device)
    else:
        import jax

        result["device"] = str(jax.devices()[0])
    return result


def sac_trainer(
    algo: str, seed: int, learning_starts: int, matmul_dtype: str = "float32"
) -> Callable[[int], None]:
    """Build a SAC learner on Hopper-v5 that trains on step by step, for ``--serve-blocks``.

    :param algo: ``"sac-sb3"``, ``"sac-sbx"`` or ``"sac-jaxl"``.
    :param seed: seed for the environment and the learner.
    :param learning_starts: random-action steps before the first gradient step.
    :param matmul_dtype: JAXL only: ``model_config.matmul_dtype`` (the operand precision of
        the dense layers' products).
    :returns: ``advance(steps)``, which trains ``steps`` more env steps exactly as a training
        run does (SB3/SBX: ``model.learn(steps, reset_num_timesteps=False)``; JAXL:
        ``learner.update()`` and collecting finished episodes, as ``jaxl train`` does per
        update).
    :raises SystemExit: for JAXL, when ``steps`` is not a multiple of its env steps per update.
    """
    if algo != "sac-jaxl":
        model = make_sac_model(algo, seed, learning_starts)

        def advance_model(steps: int) -> None:
            model.learn(total_timesteps=steps, reset_num_timesteps=False)

        return advance_model
    from jaxl.config import load_config
    from jaxl.learners import make_learner

    overrides = [
        f"learner_config.learning_starts={learning_starts}",
        "train_config.total_env_steps=100000000",
        f"model_config.matmul_dtype={matmul_dtype}",
    ]
    learner = make_learner(load_config(JAXL_SAC_CONFIG, overrides), seed)
    per_update = learner.env_steps_per_update

    def advance_learner(steps: int) -> None:
        if steps % per_update:
            raise SystemExit(f"JAXL trains in updates of {per_update} env steps, not {steps}")
        for _ in range(steps // per_update):
            learner.update()
            learner.pop_completed_episodes()

    return advance_learner


def serve_blocks(
    algo: str, seed: int, learning_starts: int, warmup_steps: int, matmul_dtype: str
) -> None:
    """Keep one SAC learner alive and train it block by block on command (``--serve-blocks``).

    :param algo: ``"sac-sb3"``, ``"sac-sbx"`` or ``"sac-jaxl"``.
    :param seed: seed for the environment and the learner.
    :param learning_starts: random-action steps before the first gradient step.
    :param warmup_steps: env steps trained untimed before the first block.
    :param matmul_dtype: JAXL only: the dense layers' product precision.
    """
    advance = sac_trainer(algo, seed, learning_starts, matmul_dtype)
    start = time.perf_counter()
    advance(warmup_steps)
    packages = JAXL_PACKAGES if algo == "sac-jaxl" else PACKAGES + ["mujoco"]
    ready = {
        "ready": True,
        "algo": algo,
        "seed": seed,
        "warmup_steps": warmup_steps,
        "warmup_seconds": time.perf_counter() - start,
        "versions": package_versions(packages),
    }
    if algo == "sac-jaxl":
        ready["matmul_dtype"] = matmul_dtype
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command:
            continue
        if command[0] == "quit":
            break
        if command[0] != "run" or len(command) != 2:
            raise SystemExit(f"unknown command {line.strip()!r}; expected 'run N' or 'quit'")
        steps = int(command[1])
        cpu, start = own_cpu_seconds(), time.perf_counter()
        advance(steps)
        seconds = time.perf_counter() - start
        block = {
            "block": True,
            "env_steps": steps,
            "seconds": seconds,
            "cpu_seconds": own_cpu_seconds() - cpu,
        }
        print(json.dumps(block), flush=True)


def time_single_env(env: Any, actions: Any, seed: int) -> float:
    """Seconds one environment takes to step through ``actions``, resetting at episode ends
    (the first reset, seeded with ``seed``, is not timed)."""
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return time.perf_counter() - start


def random_actions(space: Any, shape: tuple[int, ...], seed: int) -> Any:
    """Draw uniformly random actions of a ``Discrete`` or bounded ``Box`` space.

    :param space: the action space of one environment.
    :param shape: leading shape of the result, e.g. ``(iterations, n_envs)``.
    :param seed: seed of the generator.
    :returns: an array of ``shape`` followed by the space's own shape.
    """
    import numpy as np
    from gymnasium import spaces

    rng = np.random.default_rng(seed)
    if isinstance(space, spaces.Discrete):
        return space.start + rng.integers(0, int(space.n), size=shape, dtype=np.int64)
    low, high = space.low, space.high
    return rng.uniform(low, high, size=(*shape, *space.shape)).astype(space.dtype)


def run_raw_env(env_id: str, n_envs: int, seed: int, total_steps: int) -> dict[str, Any]:
    """Time environments stepped with random actions.

    ``n_envs > 1`` steps a ``SyncVectorEnv`` (which resets finished episodes itself);
    ``n_envs == 1`` steps one bare environment and resets it when an episode ends, which is
    timed too since every agent has to do it. The actions are generated before the clock
    starts, and the initial ``reset`` is not timed.

    :param env_id: the Gymnasium environment id.
    :param n_envs: number of environments.
    :param seed: seed for the environments and the random actions.
    :param total_steps: environment steps to take (over all environments).
    :returns: the timing result and the versions of the packages involved.
    """
    import gymnasium as gym

    n_iterations = -(-total_steps // n_envs)
    if n_envs == 1:
        env = gym.make(env_id)
        actions = random_actions(env.action_space, (n_iterations,), seed)
        seconds = time_single_env(env, actions, seed)
        env.close()
        kind = "bare env"
    else:
        envs = gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n_envs)])
        actions = random_actions(envs.single_action_space, (n_iterations, n_envs), seed)
        envs.reset(seed=seed)
        start = time.perf_counter()
        for batch in actions:
            envs.step(batch)
        seconds = time.perf_counter() - start
        envs.close()
        kind = f"{n_envs}-env SyncVectorEnv"
    env_steps = n_iterations * n_envs
    return {
        "algo": "raw-env",
        "env": env_id,
        "n_envs": n_envs,
        "kind": kind,
        "seed": seed,
        "env_steps": env_steps,
        "seconds": seconds,
        "steps_per_second": env_steps / seconds,
        "python": sys.executable,
        "versions": package_versions(["gymnasium", "numpy", "mujoco"]),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the worker's command line.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    :returns: the parsed arguments.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--algo",
        choices=["sb3", "sbx", "sac-sb3", "sac-sbx", "sac-jaxl", "raw-env"],
        required=True,
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--total-steps", type=int, default=N_ENVS * 2048 * 6)
    parser.add_argument(
        "--learning-starts", type=int, default=1000, help="SAC: random steps before learning"
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="SB3: torch.set_num_threads(N) before building the model (0: torch's default)",
    )
    parser.add_argument("--env", default=ENV_ID, help=f"raw-env: env id (default {ENV_ID})")
    parser.add_argument(
        "--n-envs", type=int, default=N_ENVS, help=f"raw-env: env count (default {N_ENVS})"
    )
    parser.add_argument(
        "--serve-blocks",
        action="store_true",
        help="SAC: train block by block on command (see the module docstring)",
    )
    parser.add_argument(
        "--warmup-steps",
        type=int,
        default=2000,
        help="--serve-blocks: untimed env steps before the first block (default 2000)",
    )
    parser.add_argument(
        "--matmul-dtype",
        choices=["float32", "bfloat16"],
        default="float32",
        help="sac-jaxl: the dense layers' product precision (model_config.matmul_dtype)",
    )
    args = parser.parse_args(argv)
    if args.matmul_dtype != "float32" and args.algo != "sac-jaxl":
        parser.error("--matmul-dtype is a JAXL option (--algo sac-jaxl)")
    if args.algo == "sac-jaxl" and not args.serve_blocks:
        parser.error("--algo sac-jaxl only runs with --serve-blocks (whole runs use the jaxl CLI)")
    if args.serve_blocks and not args.algo.startswith("sac-"):
        parser.error("--serve-blocks needs a SAC --algo")
    return args


def main(argv: list[str] | None = None) -> None:
    """Run one timed job and print its result as one JSON line.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    """
    args = parse_args(argv)
    if args.torch_threads > 0 and args.algo.endswith("sb3"):
        import torch

        torch.set_num_threads(args.torch_threads)
    if args.serve_blocks:
        serve_blocks(
            args.algo, args.seed, args.learning_starts, args.warmup_steps, args.matmul_dtype
        )
        return
    if args.algo == "raw-env":
        result = run_raw_env(args.env, args.n_envs, args.seed, args.total_steps)
    else:
        result = run_baseline(args.algo, args.seed, args.total_steps, args.learning_starts)
    result["platform"] = platform.platform()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
