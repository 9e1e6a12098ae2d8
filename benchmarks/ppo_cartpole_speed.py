#!/usr/bin/env python3
"""Speed of PPO on CartPole-v1: JAXL against SBX and Stable-Baselines3.

All three frameworks train PPO on CartPole-v1 with 8 environments and SB3's default PPO
hyperparameters (``n_steps=2048`` per env, ``batch_size=64``, ``n_epochs=10``, learning rate
``3e-4``, ``gamma=0.99``, ``gae_lambda=0.95``, clip 0.2, ``ent_coef=0``, ``vf_coef=0.5``,
``max_grad_norm=0.5``, separate 64x64 tanh MLPs for policy and value), back to back on the
same machine, and the script reports environment steps per second (median over
``--repeats`` runs) plus the ratios JAXL/SBX and JAXL/SB3. It also measures the raw stepping
rate of the same 8-env ``gymnasium.vector.SyncVectorEnv`` with random actions, the ceiling
that no agent stepping those environments can beat, and reports JAXL as a fraction of it.

How each framework is run and timed:

* JAXL: ``.venv/bin/jaxl train benchmarks/configs/cartpole-ppo-sb3-defaults.json --seed S
  --out DIR --set train_config.total_env_steps=N`` in the library's virtualenv. Steps/s is
  ``env_steps / wall_time`` of the last row of the run's ``metrics.csv``.
* SB3 and SBX: ``benchmarks/_baselines_worker.py`` in the benchmark-only virtualenv
  ``.venv-bench`` (created by ``benchmarks/setup_bench_env.sh``). Model construction is not
  timed; ``model.learn(total_timesteps=N)`` is, with ``time.perf_counter``.
* Raw environment: ``benchmarks/_baselines_worker.py --algo raw-env`` in the library's
  virtualenv when it exists, otherwise in ``.venv-bench`` (``--env-venv`` picks).

Runs of the three frameworks are interleaved (repeat 1 of each, then repeat 2 of each, ...)
so that a slow phase of the machine does not penalise one framework only. Each run is a fresh
process, so just-in-time compilation is part of every run for JAXL and SBX.

The machinery shared with the other speed benchmarks lives in ``benchmarks/_speed_common.py``.
This script only needs the Python standard library. Example::

    python3 benchmarks/ppo_cartpole_speed.py --repeats 3 --json-out benchmarks/results/ppo.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _speed_common import (  # noqa: E402
    BENCH_DIR,
    BENCH_VENV,
    REPO_ROOT,
    FrameworkResult,
    add_common_arguments,
    environment_versions,
    format_versions,
    jaxl_command,
    machine_info,
    measure,
    pick_env_venv,
    requested_names,
    results_report,
    run_jaxl_framework,
    run_worker,
    venv_python,
    write_json,
)
from _speed_common import format_table as format_results_table  # noqa: E402

JAXL_CONFIG = BENCH_DIR / "configs" / "cartpole-ppo-sb3-defaults.json"

N_ENVS = 8
N_STEPS_PER_ENV = 2048
DEFAULT_TOTAL_STEPS = N_ENVS * N_STEPS_PER_ENV * 6


def run_one(name: str, seed: int, args: argparse.Namespace, env_venv: Path) -> dict[str, Any]:
    """Run one timed job of a framework or of the raw environment.

    :param name: ``"raw-env"``, ``"jaxl"``, ``"jaxl-warm"``, ``"sbx"`` or ``"sb3"``.
    :param seed: the run's seed.
    :param args: the parsed command line.
    :param env_venv: the virtualenv that runs the raw-environment measurement.
    :returns: the run's result.
    :raises RunError: when the run fails.
    """
    if name in ("jaxl", "jaxl-warm"):
        return run_jaxl_framework(name, JAXL_CONFIG, seed, args.total_steps, args.timeout)
    python = venv_python(env_venv if name == "raw-env" else BENCH_VENV)
    return run_worker(python, name, seed, args.total_steps, args.timeout)


def format_table(results: dict[str, FrameworkResult], args: argparse.Namespace) -> str:
    """Render the final results table.

    :param results: the measured results, keyed by name.
    :param args: the parsed command line.
    :returns: the table and the ratios as text.
    """
    title = (
        f"PPO on CartPole-v1, {N_ENVS} envs, SB3 default PPO hyperparameters, "
        f"{args.total_steps:,} env steps per run, median of {args.repeats} run(s)"
    )
    return format_results_table(results, title)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    :returns: the parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description="PPO CartPole-v1 speed: JAXL vs SBX vs Stable-Baselines3."
    )
    add_common_arguments(
        parser,
        DEFAULT_TOTAL_STEPS,
        f"env steps per run, over all {N_ENVS} envs (default {DEFAULT_TOTAL_STEPS})",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and optionally write the JSON report.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    :returns: the exit code: 0 when every requested measurement has at least one run.
    """
    args = parse_args(argv)
    names = requested_names(args)
    env_venv = pick_env_venv(args.env_venv)
    results = measure(names, lambda name, seed: run_one(name, seed, args, env_venv), args)
    if "raw-env" in results:
        results["raw-env"].info["measured_in"] = (
            f"8-env gymnasium.vector.SyncVectorEnv, random actions, in "
            f"{env_venv.relative_to(REPO_ROOT)}"
        )
    environments = environment_versions()
    print()
    print(format_table(results, args))
    print()
    print(format_versions(environments))
    if args.json_out is not None:
        report = {
            "benchmark": "ppo_cartpole_speed",
            "total_steps": args.total_steps,
            "repeats": args.repeats,
            "n_envs": N_ENVS,
            "jaxl_command": " ".join(
                jaxl_command(JAXL_CONFIG, args.seed, args.total_steps, Path("<DIR>"))
            ),
            "machine": machine_info(),
            "environments": environments,
            **results_report(results),
        }
        write_json(args.json_out, report)
    return 0 if all(result.runs for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
