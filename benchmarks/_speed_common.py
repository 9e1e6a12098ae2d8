"""Shared machinery of the speed benchmarks (``ppo_cartpole_speed.py``, ``sac_hopper_speed.py``).

Each benchmark runs JAXL through its CLI, SB3 and SBX through ``_baselines_worker.py`` in the
benchmark-only virtualenv ``.venv-bench``, and the raw environment through the same worker, each
run in a fresh process. This module holds what does not depend on the algorithm: running and
timing those processes, measuring how busy the machine was meanwhile, interleaving the repeats,
and rendering the results table and the JSON report.

It only needs the Python standard library.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "benchmarks"
LIBRARY_VENV = REPO_ROOT / ".venv"
BENCH_VENV = REPO_ROOT / ".venv-bench"
WORKER = BENCH_DIR / "_baselines_worker.py"
SETUP_SCRIPT = BENCH_DIR / "setup_bench_env.sh"

FRAMEWORKS = ("jaxl", "jaxl-warm", "sbx", "sb3")
"""``jaxl`` runs with JAX's compilation cache off, so that every run compiles its programs as every
SBX run does; ``jaxl-warm`` runs with a compilation cache that an untimed run filled first, as a
second run of the same config on the same machine (the next seed of a sweep) finds it."""
#: Other processes using more than this many cores during a run make its timing unreliable.
BUSY_CORES_THRESHOLD = 0.25
LABELS = {
    "raw-env": "raw env",
    "jaxl": "JAXL",
    "jaxl-warm": "JAXL warm",
    "jaxl-bf16": "JAXL bf16",
    "sbx": "SBX",
    "sb3": "SB3",
}

#: Distributions whose versions the report records, per virtualenv.
LIBRARY_PACKAGES = ["jaxl", "jax", "jaxlib", "flax", "gymnasium"]
BENCH_PACKAGES = ["torch", "stable-baselines3", "sbx-rl", "jax", "jaxlib", "flax", "gymnasium"]


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


def run_command(
    command: list[str], timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command from the repository root and fail with a short message if it fails.

    :param command: the program and its arguments.
    :param timeout: seconds before the command is killed.
    :param env: environment variables to set on top of :func:`subprocess_env`.
    :returns: the finished process, with its standard output and error as text.
    :raises RunError: when the command exits non-zero or times out.
    """
    try:
        proc = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=subprocess_env() | (env or {}),
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


def run_worker(
    python: Path,
    algo: str,
    seed: int,
    total_steps: int,
    timeout: float,
    extra_args: Sequence[str] = (),
) -> dict:
    """Run one timed job of ``_baselines_worker.py``.

    :param python: the interpreter to run the worker with.
    :param algo: the worker's ``--algo`` (e.g. ``"sb3"``, ``"sac-sbx"`` or ``"raw-env"``).
    :param seed: the run's seed.
    :param total_steps: environment steps for the run.
    :param timeout: seconds before the run is killed.
    :param extra_args: further worker arguments, e.g. ``["--env", "Hopper-v5"]``.
    :returns: the worker's JSON result, plus ``process_seconds`` (whole process wall time).
    :raises RunError: when the interpreter is missing or the run fails.
    """
    if not python.exists():
        raise RunError(f"{python} not found")
    command = [str(python), str(WORKER), "--algo", algo, "--seed", str(seed)]
    command += ["--total-steps", str(total_steps), *extra_args]
    start = time.perf_counter()
    proc = run_command(command, timeout)
    result = last_json_line(proc.stdout)
    result["process_seconds"] = time.perf_counter() - start
    return result


def jaxl_command(
    config: Path, seed: int, total_steps: int, out_dir: Path, overrides: Sequence[str] = ()
) -> list[str]:
    """Build the JAXL CLI command for one run.

    :param config: the JAXL config file.
    :param seed: the run's seed.
    :param total_steps: environment steps for the run.
    :param out_dir: folder in which JAXL creates its run directory.
    :param overrides: further ``KEY=VALUE`` config overrides, each passed with ``--set``.
    :returns: the command line.
    """
    command = [
        str(LIBRARY_VENV / "bin" / "jaxl"),
        "train",
        str(config.relative_to(REPO_ROOT)),
        "--seed",
        str(seed),
        "--out",
        str(out_dir),
        "--set",
        f"train_config.total_env_steps={total_steps}",
    ]
    for override in overrides:
        command += ["--set", override]
    return command


def jaxl_missing_reason(config: Path) -> str | None:
    """Say why JAXL cannot be run yet, or return ``None`` when it can.

    :param config: the JAXL config file the benchmark trains with.
    :returns: a message naming the missing CLI or config file, or ``None``.
    """
    cli = LIBRARY_VENV / "bin" / "jaxl"
    if not cli.exists():
        return f"not run: {cli.relative_to(REPO_ROOT)} not found (install JAXL into .venv first)"
    if not config.exists():
        return f"not run: config {config.relative_to(REPO_ROOT)} not found"
    return None


def read_jaxl_metrics(run_dir: Path) -> dict[str, Any]:
    """Read the last row of a JAXL run's ``metrics.csv``.

    :param run_dir: the run directory that ``jaxl train`` printed last.
    :returns: ``env_steps``, ``seconds`` (the row's ``wall_time``), ``steps_per_second``
        (``env_steps / wall_time``), ``updates``, the row's own ``steps_per_second`` column as
        ``metrics_steps_per_second``, and ``progress``: ``[env_steps, wall_time]`` of every row
        (see :func:`steady_rate`).
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
        "progress": [[int(float(row["env_steps"])), float(row["wall_time"])] for row in rows],
    }


def steady_rate(progress: Sequence[Sequence[float]], from_steps: int) -> float | None:
    """Steps per second of a run after its first ``from_steps`` env steps.

    The rate leaves out what a run does once at its start (JIT compilation, warm-up), which a
    long run amortises: it is what a run of 100k or 1M steps runs at most of the time.

    :param progress: ``[env_steps, seconds]`` points of one run, in order, with ``seconds``
        counted from one start (``metrics.csv``'s ``wall_time``, or the worker's clock).
    :param from_steps: where the steady part begins; the first point at or after it counts.
    :returns: ``(last steps - first steps) / (last seconds - first seconds)``, or ``None`` when
        fewer than two points lie at or after ``from_steps``.
    """
    points = [(steps, seconds) for steps, seconds in progress if steps >= from_steps]
    if len(points) < 2 or points[-1][1] <= points[0][1]:
        return None
    return (points[-1][0] - points[0][0]) / (points[-1][1] - points[0][1])


def run_jaxl(
    config: Path,
    seed: int,
    total_steps: int,
    timeout: float,
    overrides: Sequence[str] = (),
    compilation_cache: Path | None = None,
) -> dict[str, Any]:
    """Train with JAXL once through its CLI and read its speed from ``metrics.csv``.

    :param config: the JAXL config file.
    :param seed: the run's seed.
    :param total_steps: environment steps for the run.
    :param timeout: seconds before the run is killed.
    :param overrides: further ``KEY=VALUE`` config overrides.
    :param compilation_cache: the folder of JAX's compilation cache for the run; ``None`` runs
        with the cache off, so the run compiles everything.
    :returns: the run's metrics, plus ``process_seconds`` (whole CLI wall time).
    :raises RunError: when JAXL is not installed yet or the run fails.
    """
    reason = jaxl_missing_reason(config)
    if reason is not None:
        raise RunError(reason)
    cache = {"JAXL_COMPILATION_CACHE": str(compilation_cache) if compilation_cache else "off"}
    with tempfile.TemporaryDirectory(prefix="jaxl-bench-") as out_dir:
        command = jaxl_command(config, seed, total_steps, Path(out_dir), overrides)
        start = time.perf_counter()
        proc = run_command(command, timeout, cache)
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


_WARM_CACHE: dict[str, Path] = {}
"""The warm compilation cache of each (config, overrides) this process has benchmarked."""


def run_jaxl_framework(
    name: str,
    config: Path,
    seed: int,
    total_steps: int,
    timeout: float,
    overrides: Sequence[str] = (),
) -> dict[str, Any]:
    """Run ``jaxl`` (compilation cache off) or ``jaxl-warm`` (a warm compilation cache) once.

    The first ``jaxl-warm`` run of a config fills a fresh cache in a temporary folder with one
    untimed run of the same command first; later runs reuse that cache.

    :param name: ``"jaxl"`` or ``"jaxl-warm"``.
    :param config: the JAXL config file.
    :param seed: the run's seed.
    :param total_steps: environment steps for the run.
    :param timeout: seconds before the run is killed.
    :param overrides: further ``KEY=VALUE`` config overrides.
    :returns: the run's metrics (:func:`run_jaxl`), with ``compilation_cache`` saying which.
    """
    if name == "jaxl":
        return run_jaxl(config, seed, total_steps, timeout, overrides) | {
            "compilation_cache": "off"
        }
    key = json.dumps([str(config), list(overrides)])
    if key not in _WARM_CACHE:
        cache = Path(tempfile.mkdtemp(prefix="jaxl-bench-xla-cache-"))
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
        print(f"  (filling the compilation cache {cache} with one untimed run)", flush=True)
        run_jaxl(config, seed, total_steps, timeout, overrides, cache)
        _WARM_CACHE[key] = cache
    run = run_jaxl(config, seed, total_steps, timeout, overrides, _WARM_CACHE[key])
    return run | {"compilation_cache": "warm"}


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


def environment_versions(extra: Sequence[str] = ()) -> dict[str, dict[str, str | None]]:
    """Return the versions of the packages that matter in both virtualenvs.

    :param extra: further distributions to record in both, e.g. ``["mujoco"]``.
    :returns: ``{".venv": {...}, ".venv-bench": {...}}``.
    """
    return {
        ".venv": venv_versions(LIBRARY_VENV, [*LIBRARY_PACKAGES, *extra]),
        ".venv-bench": venv_versions(BENCH_VENV, [*BENCH_PACKAGES, *extra]),
    }


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


def own_cpu_seconds() -> float:
    """Return the CPU time this process has used so far, all threads included.

    :returns: user plus system CPU seconds.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


#: Runs one timed job: ``(name, seed) -> result`` (raises :class:`RunError` on failure).
RunOne = Callable[[str, int], dict[str, Any]]


def timed_run(run_one: RunOne, name: str, seed: int, wait_idle: float) -> dict[str, Any]:
    """Run one job and measure how much CPU other processes used meanwhile.

    :param run_one: runs the job.
    :param name: ``"raw-env"``, ``"jaxl"``, ``"sbx"`` or ``"sb3"``.
    :param seed: the run's seed.
    :param wait_idle: first wait up to this many seconds for an idle CPU.
    :returns: the run's result plus ``other_cores``: the average number of cores that
        processes other than this benchmark kept busy during the run (``None`` where
        ``/proc/stat`` cannot be read).
    :raises RunError: when the run fails.
    """
    wait_for_idle_cpu(wait_idle)
    busy_before, children_before = system_busy_seconds(), children_cpu_seconds()
    start = time.perf_counter()
    run = run_one(name, seed)
    elapsed = time.perf_counter() - start
    busy_after, children_after = system_busy_seconds(), children_cpu_seconds()
    run["other_cores"] = None
    if busy_before is not None and busy_after is not None:
        others = (busy_after - busy_before) - (children_after - children_before)
        run["other_cores"] = max(others, 0.0) / elapsed
    return run


def measure(
    names: list[str], run_one: RunOne, args: argparse.Namespace
) -> dict[str, FrameworkResult]:
    """Run every requested framework ``args.repeats`` times, interleaving the frameworks.

    A framework whose run fails is reported with the error and not run again.

    :param names: names to measure, in the order they run within a repeat.
    :param run_one: runs one job of a framework.
    :param args: the parsed command line (``repeats``, ``seed``, ``wait_idle``).
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
                run = timed_run(run_one, name, seed, args.wait_idle)
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


def paired_ratios(results: dict[str, FrameworkResult], top: str, bottom: str) -> list[float]:
    """The ratio ``top / bottom`` of each repeat's runs (runs of one repeat ran back to back,
    so a slow phase of the machine affects both), where both frameworks finished every repeat.

    :param results: the measured results, keyed by name.
    :param top: the framework on top.
    :param bottom: the framework below.
    :returns: one ratio per repeat, or no ratios.
    """
    if top not in results or bottom not in results:
        return []
    tops, bottoms = results[top].steps_per_second, results[bottom].steps_per_second
    if len(tops) != len(bottoms):
        return []
    return [a / b for a, b in zip(tops, bottoms, strict=True) if b > 0]


def format_paired(ratios: list[float]) -> str:
    """Format per-repeat ratios and their median, or nothing when there are fewer than two."""
    if len(ratios) < 2:
        return ""
    each = ", ".join(f"{value:.2f}" for value in ratios)
    return f"  (per repeat {each}; median {statistics.median(ratios):.2f}x)"


def summary_ratios(results: dict[str, FrameworkResult]) -> dict[str, float | None]:
    """Compute JAXL/SBX, JAXL/SB3, JAXL/raw-env and warm JAXL/SBX and /SB3 from the medians.

    :param results: the measured results, keyed by name.
    :returns: the ratios (JAXL with a warm compilation cache too), ``None`` where a median is
        missing.
    """

    def median_of(name: str) -> float | None:
        return results[name].median if name in results else None

    def paired_median(top: str, bottom: str) -> float | None:
        ratios = paired_ratios(results, top, bottom)
        return statistics.median(ratios) if ratios else None

    jaxl, warm = median_of("jaxl"), median_of("jaxl-warm")
    return {
        "jaxl_over_sbx_per_repeat_median": paired_median("jaxl", "sbx"),
        "jaxl_over_sb3_per_repeat_median": paired_median("jaxl", "sb3"),
        "jaxl_over_sbx": ratio(jaxl, median_of("sbx")),
        "jaxl_over_sb3": ratio(jaxl, median_of("sb3")),
        "jaxl_over_raw_env": ratio(jaxl, median_of("raw-env")),
        "jaxl_warm_over_sbx": ratio(warm, median_of("sbx")),
        "jaxl_warm_over_sb3": ratio(warm, median_of("sb3")),
    }


def format_table(results: dict[str, FrameworkResult], title: str) -> str:
    """Render the final results table.

    :param results: the measured results, keyed by name.
    :param title: the first line, saying what was measured.
    :returns: the table and the ratios as text.
    """
    header = f"{'':9s} {'median steps/s':>15s}  {'per run (steps/s)':32s} {'env steps/run':>13s}"
    lines = [title, "", header, "-" * len(header)]
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
        f"JAXL / SBX : {format_ratio(ratios['jaxl_over_sbx'])}"
        + format_paired(paired_ratios(results, "jaxl", "sbx")),
        f"JAXL / SB3 : {format_ratio(ratios['jaxl_over_sb3'])}"
        + format_paired(paired_ratios(results, "jaxl", "sb3")),
        f"JAXL / raw-env ceiling: {format_ratio(ratios['jaxl_over_raw_env'], as_percent=True)}",
    ]
    if "jaxl-warm" in results:
        lines += [
            f"JAXL warm / SBX : {format_ratio(ratios['jaxl_warm_over_sbx'])}",
            f"JAXL warm / SB3 : {format_ratio(ratios['jaxl_warm_over_sb3'])}",
            "(JAXL: compilation cache off, every run compiles as SBX's do; JAXL warm: the cache "
            "filled by an earlier run of the same config)",
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

    :returns: platform, Python version, CPU count, CPU model (when readable) and the load
        averages over 1, 5 and 15 minutes (when readable) at the time of the call.
    """
    cpu_model = None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    try:
        load_average: list[float] | None = [round(load, 2) for load in os.getloadavg()]
    except OSError:
        load_average = None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "load_average_1_5_15min": load_average,
    }


def pick_env_venv(choice: str) -> Path:
    """Choose the virtualenv that measures the raw environment rate.

    :param choice: ``"library"``, ``"bench"`` or ``"auto"`` (the library's when it exists).
    :returns: the chosen virtualenv's root folder.
    """
    if choice == "library" or (choice == "auto" and venv_python(LIBRARY_VENV).exists()):
        return LIBRARY_VENV
    return BENCH_VENV


def add_common_arguments(
    parser: argparse.ArgumentParser, default_total_steps: int, total_steps_help: str
) -> None:
    """Add the options every speed benchmark has.

    :param parser: the benchmark's parser.
    :param default_total_steps: the default of ``--total-steps``.
    :param total_steps_help: the help text of ``--total-steps``.
    """
    parser.add_argument("--repeats", type=int, default=3, help="runs per framework (median)")
    parser.add_argument(
        "--total-steps", type=int, default=default_total_steps, help=total_steps_help
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


def requested_names(args: argparse.Namespace) -> list[str]:
    """Return what to measure, in run order, and set up ``.venv-bench`` when it is needed.

    :param args: the parsed command line (``only``, ``skip_setup``).
    :returns: names among ``"raw-env"`` and :data:`FRAMEWORKS`.
    :raises RunError: when the setup script fails.
    """
    names = [name for name in ("raw-env", *FRAMEWORKS) if name in args.only]
    if not args.skip_setup and ({"sb3", "sbx"} & set(names)):
        ensure_bench_venv()
    return names


def results_report(results: dict[str, FrameworkResult]) -> dict[str, Any]:
    """Return the ``results`` and ``ratios`` parts of the JSON report.

    :param results: the measured results, keyed by name.
    :returns: the two parts.
    """
    return {
        "results": {
            name: asdict(result) | {"median": result.median} for name, result in results.items()
        },
        "ratios": summary_ratios(results),
    }


def write_json(path: Path, report: dict[str, Any]) -> None:
    """Write the JSON report and say where.

    :param path: the file to write (its folder is created).
    :param report: the report.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")
