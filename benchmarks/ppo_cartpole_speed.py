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

This script only needs the Python standard library. Example::

    python3 benchmarks/ppo_cartpole_speed.py --repeats 3 --json-out benchmarks/results/ppo.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "benchmarks"
LIBRARY_VENV = REPO_ROOT / ".venv"
BENCH_VENV = REPO_ROOT / ".venv-bench"
WORKER = BENCH_DIR / "_baselines_worker.py"
SETUP_SCRIPT = BENCH_DIR / "setup_bench_env.sh"
JAXL_CONFIG = BENCH_DIR / "configs" / "cartpole-ppo-sb3-defaults.json"

N_ENVS = 8
N_STEPS_PER_ENV = 2048
DEFAULT_TOTAL_STEPS = N_ENVS * N_STEPS_PER_ENV * 6
FRAMEWORKS = ("jaxl", "sbx", "sb3")
#: Other processes using more than this many cores during a run make its timing unreliable.
BUSY_CORES_THRESHOLD = 0.25
LABELS = {"raw-env": "raw env", "jaxl": "JAXL", "sbx": "SBX", "sb3": "SB3"}


@dataclass
class FrameworkResult:
    """Every run of one framework (or of the raw environment).

    :param name: ``"raw-env"``, ``"jaxl"``, ``"sbx"`` or ``"sb3"``.
    :param runs: one dict per successful run, each with at least ``steps_per_second``,
        ``env_steps`` and ``seconds``.
    :param error: why the framework was not (fully) measured, or ``None``.
    :param info: extra facts, e.g. package versions or which virtualenv ran it.
    """

    name: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def steps_per_second(self) -> list[float]:
        """Steps per second of each successful run, in run order."""
        return [float(run["steps_per_second"]) for run in self.runs]

    @property
    def median(self) -> float | None:
        """Median steps per second over the successful runs, or ``None`` if there are none."""
        rates = self.steps_per_second
        return statistics.median(rates) if rates else None


class RunError(RuntimeError):
    """A benchmark run failed; the message says why, for the results table."""


def venv_python(venv: Path) -> Path:
    """Return the interpreter of a virtualenv.

    :param venv: the virtualenv's root folder.
    :returns: the path to its ``bin/python``.
    """
    return venv / "bin" / "python"


def subprocess_env() -> dict[str, str]:
    """Return the environment for child processes, without settings that leak between venvs.

    :returns: a copy of ``os.environ`` without ``PYTHONPATH``, ``PYTHONHOME`` and
        ``VIRTUAL_ENV``.
    """
    env = dict(os.environ)
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    return env


def run_command(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a command from the repository root and fail with a short message if it fails.

    :param command: the program and its arguments.
    :param timeout: seconds before the command is killed.
    :returns: the finished process, with its standard output and error as text.
    :raises RunError: when the command exits non-zero or times out.
    """
    try:
        proc = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RunError(f"timed out after {timeout:.0f} s: {' '.join(command)}") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RunError(f"exit code {proc.returncode}: {' '.join(command)}\n{tail}")
    return proc


def last_json_line(text: str) -> dict[str, Any]:
    """Return the last line of ``text`` that parses as a JSON object.

    :param text: a process's standard output.
    :returns: the decoded object.
    :raises RunError: when no line is a JSON object.
    """
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    raise RunError(f"no JSON result in the worker's output:\n{text[-2000:]}")


def ensure_bench_venv() -> None:
    """Create or update ``.venv-bench`` with ``benchmarks/setup_bench_env.sh`` (idempotent).

    :raises RunError: when the setup script fails.
    """
    print(f"[setup] bash {SETUP_SCRIPT.relative_to(REPO_ROOT)}", flush=True)
    proc = run_command(["bash", str(SETUP_SCRIPT)], timeout=3600)
    for line in proc.stdout.strip().splitlines():
        print(f"[setup] {line}", flush=True)


def run_worker(python: Path, algo: str, seed: int, total_steps: int, timeout: float) -> dict:
    """Run one timed job of ``_baselines_worker.py``.

    :param python: the interpreter to run the worker with.
    :param algo: ``"sb3"``, ``"sbx"`` or ``"raw-env"``.
    :param seed: the run's seed.
    :param total_steps: environment steps for the run.
    :param timeout: seconds before the run is killed.
    :returns: the worker's JSON result, plus ``process_seconds`` (whole process wall time).
    :raises RunError: when the interpreter is missing or the run fails.
    """
    if not python.exists():
        raise RunError(f"{python} not found")
    command = [str(python), str(WORKER), "--algo", algo, "--seed", str(seed)]
    command += ["--total-steps", str(total_steps)]
    start = time.perf_counter()
    proc = run_command(command, timeout)
    result = last_json_line(proc.stdout)
    result["process_seconds"] = time.perf_counter() - start
    return result


def jaxl_command(seed: int, total_steps: int, out_dir: Path) -> list[str]:
    """Build the JAXL CLI command for one run.

    :param seed: the run's seed.
    :param total_steps: environment steps for the run.
    :param out_dir: folder in which JAXL creates its run directory.
    :returns: the command line.
    """
    return [
        str(LIBRARY_VENV / "bin" / "jaxl"),
        "train",
        str(JAXL_CONFIG.relative_to(REPO_ROOT)),
        "--seed",
        str(seed),
        "--out",
        str(out_dir),
        "--set",
        f"train_config.total_env_steps={total_steps}",
    ]


def jaxl_missing_reason() -> str | None:
    """Say why JAXL cannot be run yet, or return ``None`` when it can.

    :returns: a message naming the missing CLI or config file, or ``None``.
    """
    cli = LIBRARY_VENV / "bin" / "jaxl"
    if not cli.exists():
        return f"not run: {cli.relative_to(REPO_ROOT)} not found (install JAXL into .venv first)"
    if not JAXL_CONFIG.exists():
        return f"not run: config {JAXL_CONFIG.relative_to(REPO_ROOT)} not found"
    return None


def read_jaxl_metrics(run_dir: Path) -> dict[str, Any]:
    """Read the last row of a JAXL run's ``metrics.csv``.

    :param run_dir: the run directory that ``jaxl train`` printed last.
    :returns: ``env_steps``, ``seconds`` (the row's ``wall_time``), ``steps_per_second``
        (``env_steps / wall_time``), ``updates`` and the row's own ``steps_per_second``
        column as ``metrics_steps_per_second``.
    :raises RunError: when the file is missing, empty or lacks a needed column.
    """
    path = run_dir / "metrics.csv"
    if not path.exists():
        raise RunError(f"{path} not found")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise RunError(f"{path} has no data rows")
    last = rows[-1]
    missing = [key for key in ("update", "env_steps", "wall_time") if not last.get(key)]
    if missing:
        raise RunError(f"{path} lacks column(s) {missing}")
    env_steps = int(float(last["env_steps"]))
    wall_time = float(last["wall_time"])
    return {
        "env_steps": env_steps,
        "seconds": wall_time,
        "steps_per_second": env_steps / wall_time,
        "updates": int(float(last["update"])),
        "metrics_steps_per_second": float(last.get("steps_per_second") or "nan"),
        "metrics_rows": len(rows),
    }


def run_jaxl(seed: int, total_steps: int, timeout: float) -> dict[str, Any]:
    """Train JAXL PPO once through its CLI and read its speed from ``metrics.csv``.

    :param seed: the run's seed.
    :param total_steps: environment steps for the run.
    :param timeout: seconds before the run is killed.
    :returns: the run's metrics, plus ``process_seconds`` (whole CLI wall time).
    :raises RunError: when JAXL is not installed yet or the run fails.
    """
    reason = jaxl_missing_reason()
    if reason is not None:
        raise RunError(reason)
    with tempfile.TemporaryDirectory(prefix="jaxl-bench-") as out_dir:
        start = time.perf_counter()
        proc = run_command(jaxl_command(seed, total_steps, Path(out_dir)), timeout)
        process_seconds = time.perf_counter() - start
        lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
        if not lines:
            raise RunError("jaxl train printed nothing; expected the run directory last")
        run_dir = Path(lines[-1])
        if not run_dir.is_absolute():
            run_dir = REPO_ROOT / run_dir
        result = read_jaxl_metrics(run_dir)
    result["seed"] = seed
    result["process_seconds"] = process_seconds
    return result


def venv_versions(venv: Path, names: list[str]) -> dict[str, str | None]:
    """Return the versions of some distributions installed in a virtualenv.

    :param venv: the virtualenv's root folder.
    :param names: distribution names.
    :returns: a mapping from each name to its version, or ``None`` when it is missing (all
        ``None`` when the virtualenv does not exist).
    """
    python = venv_python(venv)
    if not python.exists():
        return dict.fromkeys(names)
    code = (
        "import json, sys\nfrom importlib import metadata\nout = {}\n"
        "for n in sys.argv[1:]:\n"
        "    try:\n        out[n] = metadata.version(n)\n"
        "    except metadata.PackageNotFoundError:\n        out[n] = None\n"
        "print(json.dumps(out))\n"
    )
    try:
        proc = run_command([str(python), "-c", code, *names], timeout=120)
    except RunError:
        return dict.fromkeys(names)
    return last_json_line(proc.stdout)


def run_one(name: str, seed: int, args: argparse.Namespace, env_venv: Path) -> dict[str, Any]:
    """Run one timed job of a framework or of the raw environment.

    :param name: ``"raw-env"``, ``"jaxl"``, ``"sbx"`` or ``"sb3"``.
    :param seed: the run's seed.
    :param args: the parsed command line.
    :param env_venv: the virtualenv that runs the raw-environment measurement.
    :returns: the run's result.
    :raises RunError: when the run fails.
    """
    if name == "jaxl":
        return run_jaxl(seed, args.total_steps, args.timeout)
    python = venv_python(env_venv if name == "raw-env" else BENCH_VENV)
    return run_worker(python, name, seed, args.total_steps, args.timeout)


def describe_run(name: str, run: dict[str, Any]) -> str:
    """Return a one-line progress message for a finished run.

    :param name: the framework's name.
    :param run: the run's result.
    :returns: the message.
    """
    return (
        f"  {LABELS[name]:8s} seed {run.get('seed')}: {run['steps_per_second']:>10,.0f} steps/s "
        f"({run['env_steps']:,} steps in {run['seconds']:.2f} s; "
        f"other processes used {format_cores(run.get('other_cores'))} cores)"
    )


def format_cores(cores: float | None) -> str:
    """Format a number of busy cores, or ``?`` when it could not be measured.

    :param cores: average number of cores, or ``None``.
    :returns: the text.
    """
    return "?" if cores is None else f"{cores:.2f}"


def system_busy_seconds() -> float | None:
    """Return the CPU time all processes on the machine have used since boot.

    :returns: busy CPU seconds summed over all cores (from ``/proc/stat``), or ``None`` where
        ``/proc/stat`` cannot be read.
    """
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """Return the CPU time used so far by this script's finished child processes.

    :returns: user plus system CPU seconds of all waited-for descendants.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def busy_cores_now(window: float = 1.0) -> float | None:
    """Measure how many cores the machine keeps busy while this script idles.

    :param window: seconds to sample over.
    :returns: the average number of busy cores, or ``None`` where it cannot be measured.
    """
    before = system_busy_seconds()
    time.sleep(window)
    after = system_busy_seconds()
    if before is None or after is None:
        return None
    return (after - before) / window


def wait_for_idle_cpu(max_wait: float) -> None:
    """Wait until other processes use at most ``BUSY_CORES_THRESHOLD`` cores.

    :param max_wait: give up and go on after this many seconds; 0 does not wait at all.
    """
    deadline = time.monotonic() + max_wait
    announced = False
    while time.monotonic() < deadline:
        busy = busy_cores_now()
        if busy is None or busy <= BUSY_CORES_THRESHOLD:
            return
        if not announced:
            print(f"  (waiting for an idle CPU: {busy:.2f} cores busy)", flush=True)
            announced = True
    if max_wait > 0:
        print(f"  (CPU still busy after {max_wait:.0f} s; running anyway)", flush=True)


def timed_run(name: str, seed: int, args: argparse.Namespace, env_venv: Path) -> dict:
    """Run one job and measure how much CPU other processes used meanwhile.

    :param name: ``"raw-env"``, ``"jaxl"``, ``"sbx"`` or ``"sb3"``.
    :param seed: the run's seed.
    :param args: the parsed command line.
    :param env_venv: the virtualenv that runs the raw-environment measurement.
    :returns: the run's result plus ``other_cores``: the average number of cores that
        processes other than this benchmark kept busy during the run (``None`` where
        ``/proc/stat`` cannot be read).
    :raises RunError: when the run fails.
    """
    wait_for_idle_cpu(args.wait_idle)
    busy_before, children_before = system_busy_seconds(), children_cpu_seconds()
    start = time.perf_counter()
    run = run_one(name, seed, args, env_venv)
    elapsed = time.perf_counter() - start
    busy_after, children_after = system_busy_seconds(), children_cpu_seconds()
    run["other_cores"] = None
    if busy_before is not None and busy_after is not None:
        others = (busy_after - busy_before) - (children_after - children_before)
        run["other_cores"] = max(others, 0.0) / elapsed
    return run


def measure(
    names: list[str], args: argparse.Namespace, env_venv: Path
) -> dict[str, FrameworkResult]:
    """Run every requested framework ``args.repeats`` times, interleaving the frameworks.

    A framework whose run fails is reported with the error and not run again.

    :param names: names to measure, in the order they run within a repeat.
    :param args: the parsed command line.
    :param env_venv: the virtualenv that runs the raw-environment measurement.
    :returns: the results, keyed by name.
    """
    results = {name: FrameworkResult(name) for name in names}
    for repeat in range(args.repeats):
        seed = args.seed + repeat
        print(f"[repeat {repeat + 1}/{args.repeats}] seed {seed}", flush=True)
        for name in names:
            result = results[name]
            if result.error is not None:
                continue
            try:
                run = timed_run(name, seed, args, env_venv)
            except RunError as exc:
                result.error = str(exc)
                print(f"  {LABELS[name]:8s} FAILED: {exc}", flush=True)
                continue
            result.runs.append(run)
            print(describe_run(name, run), flush=True)
    return results


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """Return ``numerator / denominator``, or ``None`` when either is missing.

    :param numerator: the value on top.
    :param denominator: the value below.
    :returns: the ratio or ``None``.
    """
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def format_ratio(value: float | None, as_percent: bool = False) -> str:
    """Format a ratio for the table.

    :param value: the ratio, or ``None``.
    :param as_percent: print as a percentage instead of ``1.23x``.
    :returns: the text.
    """
    if value is None:
        return "n/a"
    return f"{100 * value:.1f}%" if as_percent else f"{value:.2f}x"


def summary_ratios(results: dict[str, FrameworkResult]) -> dict[str, float | None]:
    """Compute JAXL/SBX, JAXL/SB3 and JAXL/raw-env from the medians.

    :param results: the measured results, keyed by name.
    :returns: the three ratios, ``None`` where a median is missing.
    """

    def median_of(name: str) -> float | None:
        return results[name].median if name in results else None

    jaxl = median_of("jaxl")
    return {
        "jaxl_over_sbx": ratio(jaxl, median_of("sbx")),
        "jaxl_over_sb3": ratio(jaxl, median_of("sb3")),
        "jaxl_over_raw_env": ratio(jaxl, median_of("raw-env")),
    }


def format_table(results: dict[str, FrameworkResult], args: argparse.Namespace) -> str:
    """Render the final results table.

    :param results: the measured results, keyed by name.
    :param args: the parsed command line.
    :returns: the table and the ratios as text.
    """
    header = f"{'':9s} {'median steps/s':>15s}  {'per run (steps/s)':32s} {'env steps/run':>13s}"
    lines = [
        f"PPO on CartPole-v1, {N_ENVS} envs, SB3 default PPO hyperparameters, "
        f"{args.total_steps:,} env steps per run, median of {args.repeats} run(s)",
        "",
        header,
        "-" * len(header),
    ]
    for name, result in results.items():
        label = LABELS[name]
        if not result.runs:
            lines.append(f"{label:9s} {'-':>15s}  {result.error or 'no runs'}")
            continue
        per_run = ", ".join(f"{rate:,.0f}" for rate in result.steps_per_second)
        steps = sorted({int(run["env_steps"]) for run in result.runs})
        steps_text = "/".join(f"{step:,}" for step in steps)
        lines.append(f"{label:9s} {result.median:>15,.0f}  {per_run:32s} {steps_text:>13s}")
        if result.error:
            lines.append(f"{'':9s} (later runs failed: {result.error.splitlines()[0]})")
    ratios = summary_ratios(results)
    lines += [
        "",
        f"JAXL / SBX : {format_ratio(ratios['jaxl_over_sbx'])}",
        f"JAXL / SB3 : {format_ratio(ratios['jaxl_over_sb3'])}",
        f"JAXL / raw-env ceiling: {format_ratio(ratios['jaxl_over_raw_env'], as_percent=True)}",
    ]
    if "raw-env" in results:
        lines.append(f"(raw env: {results['raw-env'].info.get('measured_in', '?')})")
    lines += busy_warning(results)
    return "\n".join(lines)


def busy_warning(results: dict[str, FrameworkResult]) -> list[str]:
    """Warn when other processes competed for the CPUs during a run.

    :param results: the measured results, keyed by name.
    :returns: no lines, or the warning naming the worst run.
    """
    busy = [
        (run["other_cores"], LABELS[result.name], run.get("seed"))
        for result in results.values()
        for run in result.runs
        if run.get("other_cores") is not None
    ]
    if not busy or max(busy)[0] <= BUSY_CORES_THRESHOLD:
        return []
    cores, label, seed = max(busy)
    return [
        f"WARNING: other processes used up to {cores:.2f} of {os.cpu_count()} cores during a "
        f"run ({label}, seed {seed}); the numbers are unreliable. Rerun on an idle machine "
        "(see --wait-idle)."
    ]


def format_versions(info: dict[str, Any]) -> str:
    """Render the package versions of both virtualenvs on one line each.

    :param info: the ``environments`` part of the JSON report.
    :returns: the text.
    """
    lines = []
    for venv, versions in info.items():
        text = ", ".join(f"{name} {version or '-'}" for name, version in versions.items())
        lines.append(f"{venv}: {text}")
    return "\n".join(lines)


def machine_info() -> dict[str, Any]:
    """Describe the machine the benchmark ran on.

    :returns: platform, Python version, CPU count and CPU model (when readable).
    """
    cpu_model = None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
    }


def pick_env_venv(choice: str) -> Path:
    """Choose the virtualenv that measures the raw environment rate.

    :param choice: ``"library"``, ``"bench"`` or ``"auto"`` (the library's when it exists).
    :returns: the chosen virtualenv's root folder.
    """
    if choice == "library" or (choice == "auto" and venv_python(LIBRARY_VENV).exists()):
        return LIBRARY_VENV
    return BENCH_VENV


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    :returns: the parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description="PPO CartPole-v1 speed: JAXL vs SBX vs Stable-Baselines3."
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per framework (median)")
    parser.add_argument(
        "--total-steps",
        type=int,
        default=DEFAULT_TOTAL_STEPS,
        help=f"env steps per run, over all {N_ENVS} envs (default {DEFAULT_TOTAL_STEPS})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the first repeat")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["raw-env", *FRAMEWORKS],
        default=["raw-env", *FRAMEWORKS],
        help="measure only these (default: all)",
    )
    parser.add_argument(
        "--env-venv",
        choices=["auto", "library", "bench"],
        default="auto",
        help="virtualenv for the raw env rate (auto: .venv if it exists, else .venv-bench)",
    )
    parser.add_argument(
        "--skip-setup", action="store_true", help="do not run benchmarks/setup_bench_env.sh"
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for other processes to leave the CPUs idle",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--json-out", type=Path, default=None, help="also write results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table and optionally write the JSON report.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    :returns: the exit code: 0 when every requested measurement has at least one run.
    """
    args = parse_args(argv)
    names = [name for name in ("raw-env", *FRAMEWORKS) if name in args.only]
    if not args.skip_setup and ({"sb3", "sbx"} & set(names)):
        ensure_bench_venv()
    env_venv = pick_env_venv(args.env_venv)
    results = measure(names, args, env_venv)
    if "raw-env" in results:
        results["raw-env"].info["measured_in"] = (
            f"8-env gymnasium.vector.SyncVectorEnv, random actions, in "
            f"{env_venv.relative_to(REPO_ROOT)}"
        )
    environments = {
        ".venv": venv_versions(LIBRARY_VENV, ["jaxl", "jax", "jaxlib", "flax", "gymnasium"]),
        ".venv-bench": venv_versions(
            BENCH_VENV,
            ["torch", "stable-baselines3", "sbx-rl", "jax", "jaxlib", "flax", "gymnasium"],
        ),
    }
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
            "jaxl_command": " ".join(jaxl_command(args.seed, args.total_steps, Path("<DIR>"))),
            "machine": machine_info(),
            "environments": environments,
            "results": {
                name: asdict(result) | {"median": result.median} for name, result in results.items()
            },
            "ratios": summary_ratios(results),
        }
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json_out}")
    return 0 if all(result.runs for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
