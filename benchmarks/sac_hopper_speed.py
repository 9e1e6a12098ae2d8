#!/usr/bin/env python3
"""Speed of SAC on Hopper-v5: JAXL against SBX and Stable-Baselines3.

All three frameworks train SAC on one Hopper-v5 environment with the hyperparameters of JAXL's
``configs/rl/hopper-sac.json``, which are SB3's SAC defaults: separate 256x256 ReLU MLPs for
the actor and each of two critics, Adam with learning rate ``3e-4``, batch 256, ``tau=0.005``,
``gamma=0.99``, automatic entropy temperature (initial value 1, target ``-dim(A)``), one
gradient step per environment step. The replay buffer holds 100k transitions, and the first
``--learning-starts`` steps (default 1000) take uniformly random actions without training, so a
run of ``--total-steps`` N (default 6000) makes ``N - L`` gradient steps in every framework.
The script reports environment steps per second (median over ``--repeats`` runs) and the
ratios JAXL/SBX and JAXL/SB3. It also measures the rate of one bare Hopper-v5 environment
stepped with random actions, the ceiling that no agent stepping it can beat.

How each framework is run and timed:

* JAXL: ``.venv/bin/jaxl train benchmarks/configs/hopper-sac-speed.json --seed S --out DIR
  --set train_config.total_env_steps=N --set learner_config.learning_starts=L`` in the
  library's virtualenv. Steps/s is ``env_steps / wall_time`` of the last row of the run's
  ``metrics.csv``; the training loop takes ``wall_time`` before the final evaluation and
  checkpoint. JAXL logs a row every 1000 env steps (``steps_per_update``), so N and L must be
  multiples of 1000.
* SB3 and SBX: ``benchmarks/_baselines_worker.py --algo sac-sb3`` / ``--algo sac-sbx`` in the
  benchmark-only virtualenv ``.venv-bench`` (created by ``benchmarks/setup_bench_env.sh``).
  Model construction is not timed; ``model.learn(total_timesteps=N)`` is, with
  ``time.perf_counter``, and a callback records the clock every 1000 env steps. SB3 uses torch's default number of threads unless
  ``--torch-threads`` says otherwise; on a machine where other processes compete for the
  cores, torch's default can make SB3 many times slower than with one thread.
* Raw environment: ``benchmarks/_baselines_worker.py --algo raw-env --env Hopper-v5
  --n-envs 1`` in the library's virtualenv when it exists, otherwise in ``.venv-bench``
  (``--env-venv`` picks).

Runs of the three frameworks are interleaved (repeat 1 of each, then repeat 2 of each, ...)
so that a slow phase of the machine does not penalise one framework only. Each run is a fresh
process, so just-in-time compilation is part of every run for JAXL and SBX; with short runs
it is a visible part of their time. A second table gives each run's steady-state rate: env
steps per second from step ``L + 1000`` to the end, i.e. without the random-action steps and
the first 1000 learning steps, where compilation happens. That is the rate a run of 100k or 1M
steps trains at almost all of the time.

Whole runs minutes apart are exposed to the machine's slow and fast phases (on a shared 2-core
machine, two runs of one framework can differ by 20%). The third measurement is therefore
interleaved (``benchmarks/_interleaved.py``): one process per framework is warmed up
(``--learning-starts`` random steps and 1000 learning steps, JIT compilation included, untimed)
and kept alive, and then each trains ``--block-steps`` env steps in turn, for ``--rounds``
rounds. JAXL trains through the same ``learner.update()`` that ``jaxl train`` calls; SB3 and
SBX through ``model.learn(N, reset_num_timesteps=False)``. The per-round ratios JAXL/SBX and
JAXL/SB3 compare blocks that ran within a minute of each other. ``--jaxl-bf16`` adds a fourth
worker, JAXL with ``model_config.matmul_dtype=bfloat16`` (bfloat16 operands and float32
accumulation in the forward products and input gradients between hidden layers; see
:mod:`jaxl.models.mixed_precision`), and reports its per-round ratios to SBX and to float32
JAXL; SBX and SB3 always run in float32.

The machinery shared with ``ppo_cartpole_speed.py`` lives in ``benchmarks/_speed_common.py``.
This script only needs the Python standard library. Example::

    python3 benchmarks/sac_hopper_speed.py --repeats 3 --rounds 8 --json-out benchmarks/results/sac.json
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _interleaved import (  # noqa: E402
    format_interleaved,
    interleaved_summary,
    measure_interleaved,
)
from _speed_common import (  # noqa: E402
    BENCH_DIR,
    BENCH_VENV,
    LIBRARY_VENV,
    REPO_ROOT,
    WORKER,
    FrameworkResult,
    RunError,
    add_common_arguments,
    environment_versions,
    format_table,
    format_versions,
    jaxl_command,
    machine_info,
    measure,
    pick_env_venv,
    requested_names,
    results_report,
    run_jaxl_framework,
    run_worker,
    steady_rate,
    venv_python,
    write_json,
)

JAXL_CONFIG = BENCH_DIR / "configs" / "hopper-sac-speed.json"
ENV_ID = "Hopper-v5"
DEFAULT_TOTAL_STEPS = 6000
DEFAULT_LEARNING_STARTS = 1000
#: Learning steps left out at the start of the steady-state rate: they include compiling.
STEADY_SKIP = 1000


def jaxl_overrides(args: argparse.Namespace) -> list[str]:
    """Return the config overrides of the JAXL runs (besides the step budget).

    :param args: the parsed command line.
    :returns: ``KEY=VALUE`` strings for ``jaxl train --set``.
    """
    return [f"learner_config.learning_starts={args.learning_starts}"]


def run_one(name: str, seed: int, args: argparse.Namespace, env_venv: Path) -> dict[str, Any]:
    """Run one timed job of a framework or of the raw environment.

    :param name: ``"raw-env"``, ``"jaxl"``, ``"jaxl-warm"``, ``"sbx"`` or ``"sb3"``.
    :param seed: the run's seed.
    :param args: the parsed command line.
    :param env_venv: the virtualenv that runs the raw-environment measurement.
    :returns: the run's result.
    :raises RunError: when the run fails or JAXL took another number of steps than asked.
    """
    if name in ("jaxl", "jaxl-warm"):
        overrides = jaxl_overrides(args)
        run = run_jaxl_framework(name, JAXL_CONFIG, seed, args.total_steps, args.timeout, overrides)
        if run["env_steps"] != args.total_steps:
            raise RunError(f"JAXL took {run['env_steps']} env steps, not {args.total_steps}")
        return run
    if name == "raw-env":
        extra = ["--env", ENV_ID, "--n-envs", "1"]
        return run_worker(venv_python(env_venv), name, seed, args.total_steps, args.timeout, extra)
    extra = ["--learning-starts", str(args.learning_starts)]
    if name == "sb3" and args.torch_threads > 0:
        extra += ["--torch-threads", str(args.torch_threads)]
    python = venv_python(BENCH_VENV)
    return run_worker(python, f"sac-{name}", seed, args.total_steps, args.timeout, extra)


def interleaved_commands(args: argparse.Namespace) -> dict[str, list[str]]:
    """The ``--serve-blocks`` worker command of each framework the interleaved rounds train.

    :param args: the parsed command line.
    :returns: the commands, keyed by name, in round order (JAXL, JAXL with bfloat16 products
        when ``--jaxl-bf16``, SBX, SB3, among ``--only``).
    """
    warmup = args.learning_starts + STEADY_SKIP
    workers = [
        ("jaxl", "jaxl", LIBRARY_VENV),
        ("sbx", "sbx", BENCH_VENV),
        ("sb3", "sb3", BENCH_VENV),
    ]
    if args.jaxl_bf16:
        workers.insert(1, ("jaxl-bf16", "jaxl", LIBRARY_VENV))
    commands = {}
    for name, algo, venv in workers:
        if algo not in args.only:
            continue
        command = [str(venv_python(venv)), str(WORKER), "--algo", f"sac-{algo}", "--serve-blocks"]
        command += ["--seed", str(args.seed), "--learning-starts", str(args.learning_starts)]
        command += ["--warmup-steps", str(warmup)]
        if name == "jaxl-bf16":
            command += ["--matmul-dtype", "bfloat16"]
        if name == "sb3" and args.torch_threads > 0:
            command += ["--torch-threads", str(args.torch_threads)]
        commands[name] = command
    return commands


def interleaved_title(args: argparse.Namespace) -> str:
    """Say what the interleaved measurement measured.

    :param args: the parsed command line.
    :returns: the line.
    """
    warmup = args.learning_starts + STEADY_SKIP
    return (
        f"Interleaved steady state: one warmed-up process per framework ({warmup:,} env steps "
        f"untimed, JIT compilation included), then {args.rounds} round(s) of one "
        f"{args.block_steps:,}-step block each, in turns"
    )


def steady_results(
    results: dict[str, FrameworkResult], from_steps: int
) -> dict[str, FrameworkResult]:
    """The steady-state rate of every run that recorded its progress (JAXL, SBX, SB3).

    Each run's ``steady_steps_per_second`` is set too, for the JSON report.

    :param results: the measured results, keyed by name.
    :param from_steps: env steps left out at the start of each run.
    :returns: results with each run's steady rate as its ``steps_per_second``; frameworks
        without a steady rate (the raw environment) are left out.
    """
    steady: dict[str, FrameworkResult] = {}
    for name, result in results.items():
        runs = []
        for run in result.runs:
            rate = steady_rate(run.get("progress", []), from_steps)
            run["steady_steps_per_second"] = rate
            if rate is not None:
                steps = int(run["env_steps"]) - from_steps
                runs.append({**run, "env_steps": steps, "seconds": steps / rate})
                runs[-1]["steps_per_second"] = rate
        if runs:
            steady[name] = FrameworkResult(name, runs)
    return steady


def steady_title(args: argparse.Namespace) -> str:
    """Say what the steady-state table measured.

    :param args: the parsed command line.
    :returns: the line.
    """
    start = args.learning_starts + STEADY_SKIP
    return (
        f"Steady state: env steps {start:,} to {args.total_steps:,} of the same runs (leaving out "
        f"the random-action steps and the first {STEADY_SKIP:,} learning steps, which include "
        f"JIT compilation), median of {args.repeats} run(s)"
    )


def title(args: argparse.Namespace) -> str:
    """Say what was measured, for the first line of the table.

    :param args: the parsed command line.
    :returns: the line.
    """
    return (
        f"SAC on {ENV_ID}, 1 env, SB3 default SAC hyperparameters (buffer 100k), "
        f"{args.total_steps:,} env steps per run ({args.learning_starts:,} random, then "
        f"{args.total_steps - args.learning_starts:,} gradient steps), "
        f"median of {args.repeats} run(s)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    :returns: the parsed arguments.
    :raises SystemExit: when the step counts are inconsistent.
    """
    parser = argparse.ArgumentParser(
        description="SAC Hopper-v5 speed: JAXL vs SBX vs Stable-Baselines3."
    )
    add_common_arguments(
        parser, DEFAULT_TOTAL_STEPS, f"env steps per run (default {DEFAULT_TOTAL_STEPS})"
    )
    parser.add_argument(
        "--learning-starts",
        type=int,
        default=DEFAULT_LEARNING_STARTS,
        help=f"random-action steps before the first gradient step, in every framework "
        f"(default {DEFAULT_LEARNING_STARTS})",
    )
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="SB3's torch intra-op threads (default 0: torch's default, one per core). Under "
        "CPU contention torch's default threads can slow SB3 down many times over",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=8,
        help="interleaved steady-state rounds (default 8; 0 skips the interleaved measurement)",
    )
    parser.add_argument(
        "--block-steps",
        type=int,
        default=1000,
        help="env steps per interleaved block (a multiple of 1000; default 1000)",
    )
    parser.add_argument(
        "--jaxl-bf16",
        action="store_true",
        help="also interleave JAXL with bfloat16 products (model_config.matmul_dtype=bfloat16); "
        "the whole runs stay float32",
    )
    args = parser.parse_args(argv)
    if args.block_steps <= 0 or args.block_steps % 1000:
        parser.error("--block-steps must be a positive multiple of 1000 (JAXL's update size)")
    if args.rounds < 0 or args.repeats < 0:
        parser.error("--rounds and --repeats must not be negative")
    if not 0 <= args.learning_starts < args.total_steps:
        parser.error("need 0 <= --learning-starts < --total-steps (or nothing is trained)")
    if args.learning_starts % 1000 or args.total_steps % 1000:
        parser.error(
            "--learning-starts and --total-steps must be multiples of 1000 (the runs "
            "record their progress every 1000 env steps)"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and optionally write the JSON report.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    :returns: the exit code: 0 when every requested measurement has at least one run (or
        block).
    """
    args = parse_args(argv)
    machine = machine_info()
    print(
        f"[machine] {machine['cpu_count']} CPUs ({machine['cpu_model']}), load average "
        f"{machine['load_average_1_5_15min']} (1, 5, 15 min)",
        flush=True,
    )
    names = requested_names(args)
    env_venv = pick_env_venv(args.env_venv)
    results: dict[str, FrameworkResult] = measure(
        names, lambda name, seed: run_one(name, seed, args, env_venv), args
    )
    interleaved = {}
    commands = interleaved_commands(args)
    if args.rounds > 0 and commands:
        print("[interleaved steady state]", flush=True)
        interleaved = measure_interleaved(
            commands, args.rounds, args.block_steps, args.wait_idle, args.timeout
        )
    if "raw-env" in results:
        results["raw-env"].info["measured_in"] = (
            f"one bare {ENV_ID} env, random actions, resets timed, in "
            f"{env_venv.relative_to(REPO_ROOT)}"
        )
    environments = environment_versions(extra=["mujoco"])
    steady = steady_results(results, args.learning_starts + STEADY_SKIP)
    if args.repeats:
        print()
        print(format_table(results, title(args)))
    if steady:
        print()
        print(format_table(steady, steady_title(args)))
    sb3_runs = results["sb3"].runs if "sb3" in results else []
    threads = sorted({run.get("torch_num_threads") for run in sb3_runs}, key=str)
    if threads:
        print(f"(SB3: torch intra-op threads {'/'.join(map(str, threads))})")
    if interleaved:
        print()
        print(format_interleaved(interleaved, interleaved_title(args)))
    print()
    print(format_versions(environments))
    if args.json_out is not None:
        command = jaxl_command(
            JAXL_CONFIG, args.seed, args.total_steps, Path("<DIR>"), jaxl_overrides(args)
        )
        report = {
            "benchmark": "sac_hopper_speed",
            "env": ENV_ID,
            "total_steps": args.total_steps,
            "learning_starts": args.learning_starts,
            "gradient_steps": args.total_steps - args.learning_starts,
            "repeats": args.repeats,
            "n_envs": 1,
            "torch_threads_option": args.torch_threads,
            "jaxl_command": " ".join(command),
            "machine": machine,
            "load_average_at_end_1_5_15min": machine_info()["load_average_1_5_15min"],
            "environments": environments,
            **results_report(results),
            "steady_state": {
                "from_env_steps": args.learning_starts + STEADY_SKIP,
                **results_report(steady),
            },
            "interleaved": {
                "rounds": args.rounds,
                "block_steps": args.block_steps,
                "warmup_steps": args.learning_starts + STEADY_SKIP,
                "results": {name: asdict(result) for name, result in interleaved.items()},
                "summary": interleaved_summary(interleaved),
            },
        }
        write_json(args.json_out, report)
    complete = all(result.runs for result in results.values()) if args.repeats else True
    return 0 if complete and all(r.blocks for r in interleaved.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
