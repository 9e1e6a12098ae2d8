"""Interleaved steady-state speed: warmed-up learners trained block by block, in turns.

A whole-run comparison on a shared machine is at the mercy of its slow and fast phases: two
runs of the same framework minutes apart can differ by 20%. This measurement keeps one
process per framework alive (``_baselines_worker.py --serve-blocks``), each warmed up first
(its random-action steps and first learning steps, JIT compilation included, are not timed),
and then has them train ``block_steps`` env steps each in turn, round after round; only one
trains at a time while the others wait on their input. The frameworks of a round run within
a minute of each other, so the per-round ratio of their speeds is a paired measurement that a
slow phase of the machine affects on both sides. The first framework of each round rotates,
so none always follows the same other one.

It only needs the Python standard library.
"""

from __future__ import annotations

import json
import queue
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from _speed_common import (
    LABELS,
    REPO_ROOT,
    RunError,
    format_cores,
    subprocess_env,
    system_busy_seconds,
    wait_for_idle_cpu,
)

RATIOS = (("jaxl", "sbx"), ("jaxl", "sb3"), ("jaxl-bf16", "sbx"), ("jaxl-bf16", "jaxl"))
"""The per-round ratios reported, ``(top, bottom)`` (empty where either was not measured)."""


class BlockWorker:
    """One ``_baselines_worker.py --serve-blocks`` process and its line protocol.

    :param name: the framework's name (``"jaxl"``, ``"sbx"`` or ``"sb3"``).
    :param command: the worker's command line.
    :param timeout: seconds to wait for the worker's answer to one request.
    """

    def __init__(self, name: str, command: Sequence[str], timeout: float) -> None:
        self.name = name
        self.timeout = timeout
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._process = subprocess.Popen(
            list(command),
            cwd=REPO_ROOT,
            env=subprocess_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_lines, daemon=True).start()

    def _read_lines(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _answer(self, key: str) -> dict[str, Any]:
        """Wait for the next JSON line that has ``key`` (other output is skipped)."""
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(left, 0.0))
            except queue.Empty:
                self.close()
                raise RunError(
                    f"{LABELS[self.name]} did not answer within {self.timeout:.0f} s"
                ) from None
            if line is None:
                raise RunError(f"{LABELS[self.name]} worker exited:\n{self._stderr_tail()}")
            line = line.strip()
            if line.startswith("{"):
                try:
                    message = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if message.get(key):
                    return message

    def _stderr_tail(self, lines: int = 15) -> str:
        self._process.wait(timeout=10)
        self._stderr.seek(0)
        return "\n".join(self._stderr.read().strip().splitlines()[-lines:])

    def wait_ready(self) -> dict[str, Any]:
        """Wait until the worker has warmed up; returns its ``ready`` message."""
        return self._answer("ready")

    def run_block(self, steps: int) -> dict[str, Any]:
        """Train ``steps`` env steps; returns the worker's ``block`` message (``seconds``,
        ``cpu_seconds``), plus ``other_cores``: cores that processes other than this worker
        kept busy meanwhile (``None`` where ``/proc/stat`` cannot be read)."""
        assert self._process.stdin is not None
        busy_before = system_busy_seconds()
        self._process.stdin.write(f"run {steps}\n")
        self._process.stdin.flush()
        block = self._answer("block")
        busy_after = system_busy_seconds()
        block["other_cores"] = None
        if busy_before is not None and busy_after is not None and block["seconds"] > 0:
            others = (busy_after - busy_before) - block["cpu_seconds"]
            block["other_cores"] = max(others, 0.0) / block["seconds"]
        block["steps_per_second"] = block["env_steps"] / block["seconds"]
        return block

    def close(self) -> None:
        """Ask the worker to quit, and kill it if it does not."""
        if self._process.poll() is None:
            try:
                assert self._process.stdin is not None
                self._process.stdin.write("quit\n")
                self._process.stdin.close()
                self._process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        self._stderr.close()


@dataclass
class InterleavedResult:
    """Every block of one framework.

    :param name: the framework's name.
    :param blocks: one ``block`` message per round, in round order.
    :param ready: the worker's ``ready`` message (warm-up time, package versions).
    :param error: why the framework was not (fully) measured, or ``None``.
    """

    name: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ready: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def rates(self) -> list[float]:
        """Steps per second of each block, in round order."""
        return [float(block["steps_per_second"]) for block in self.blocks]


def measure_interleaved(
    commands: dict[str, list[str]],
    rounds: int,
    block_steps: int,
    wait_idle: float,
    timeout: float,
) -> dict[str, InterleavedResult]:
    """Warm up one worker per framework, then train them ``block_steps`` each, in turns.

    The workers are started and warmed up one after another (so that their JIT compilations
    do not compete), and all stay alive until the last round. A framework whose worker fails
    is reported with the error and leaves the later rounds.

    :param commands: the worker command line of each framework, in round order.
    :param rounds: rounds of one block per framework.
    :param block_steps: env steps per block.
    :param wait_idle: before each block, wait up to this many seconds for an idle CPU.
    :param timeout: seconds a worker may take to warm up or to train one block.
    :returns: the blocks of each framework, keyed by name.
    """
    results = {name: InterleavedResult(name) for name in commands}
    workers: dict[str, BlockWorker] = {}
    try:
        for name, command in commands.items():
            print(f"  warming up {LABELS[name]} ...", flush=True)
            worker = BlockWorker(name, command, timeout)
            try:
                results[name].ready = worker.wait_ready()
            except RunError as exc:
                results[name].error = str(exc)
                print(f"  {LABELS[name]:8s} FAILED: {exc}", flush=True)
                worker.close()
                continue
            workers[name] = worker
        names = list(workers)
        for index in range(rounds):
            order = names[index % len(names) :] + names[: index % len(names)] if names else []
            print(f"[round {index + 1}/{rounds}]", flush=True)
            for name in order:
                if results[name].error is not None:
                    continue
                wait_for_idle_cpu(wait_idle)
                try:
                    block = workers[name].run_block(block_steps)
                except RunError as exc:
                    results[name].error = str(exc)
                    print(f"  {LABELS[name]:8s} FAILED: {exc}", flush=True)
                    continue
                block["round"] = index
                results[name].blocks.append(block)
                print(
                    f"  {LABELS[name]:8s} {block['steps_per_second']:8,.1f} steps/s "
                    f"({block['env_steps']:,} steps in {block['seconds']:.2f} s; other processes "
                    f"used {format_cores(block['other_cores'])} cores)",
                    flush=True,
                )
    finally:
        for worker in workers.values():
            worker.close()
    return results


def own_cores(block: dict[str, Any]) -> float:
    """Cores a worker kept busy on average while it trained one block (its CPU time, all
    threads, over the block's wall time)."""
    return block["cpu_seconds"] / block["seconds"]


def round_ratios(results: dict[str, InterleavedResult], top: str, bottom: str) -> list[float]:
    """``top / bottom`` speed of every round in which both trained a block.

    :param results: the blocks, keyed by name.
    :param top: the framework on top.
    :param bottom: the framework below.
    :returns: one ratio per such round, in round order.
    """
    if top not in results or bottom not in results:
        return []
    tops = {block["round"]: block["steps_per_second"] for block in results[top].blocks}
    bottoms = {block["round"]: block["steps_per_second"] for block in results[bottom].blocks}
    return [tops[r] / bottoms[r] for r in sorted(tops.keys() & bottoms.keys()) if bottoms[r] > 0]


def describe_spread(values: list[float]) -> str:
    """Median with the lower and upper quartiles and the extremes, e.g. for per-round ratios."""
    if not values:
        return "n/a"
    if len(values) < 4:
        return (
            f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"
        )
    low, _, high = statistics.quantiles(values, n=4)
    return (
        f"median {statistics.median(values):.2f}, quartiles {low:.2f}-{high:.2f}, "
        f"min {min(values):.2f}, max {max(values):.2f}"
    )


def interleaved_summary(results: dict[str, InterleavedResult]) -> dict[str, Any]:
    """Median rate of each framework and the per-round ratios of :data:`RATIOS`.

    :param results: the blocks, keyed by name.
    :returns: the JSON-ready summary.
    """
    summary: dict[str, Any] = {
        "median_steps_per_second": {
            name: statistics.median(result.rates) if result.rates else None
            for name, result in results.items()
        },
        "median_own_cores": {
            name: statistics.median(map(own_cores, result.blocks)) if result.blocks else None
            for name, result in results.items()
        },
    }
    for top, bottom in RATIOS:
        ratios = round_ratios(results, top, bottom)
        prefix = f"{top.replace('-', '_')}_over_{bottom}"
        summary[f"{prefix}_per_round"] = ratios
        summary[f"{prefix}_median"] = statistics.median(ratios) if ratios else None
        summary[f"{prefix}_min"] = min(ratios) if ratios else None
    return summary


def format_interleaved(results: dict[str, InterleavedResult], title: str) -> str:
    """Render the interleaved measurement as a table with the per-round ratios.

    :param results: the blocks, keyed by name.
    :param title: the first line, saying what was measured.
    :returns: the text.
    """
    header = f"{'':9s} {'median steps/s':>15s} {'own cores':>10s}  per round (steps/s)"
    lines = [title, "", header, "-" * 80]
    for name, result in results.items():
        label = LABELS[name]
        if not result.blocks:
            lines.append(f"{label:9s} {'-':>15s}  {result.error or 'no blocks'}")
            continue
        rates = ", ".join(f"{rate:.0f}" for rate in result.rates)
        cores = statistics.median(own_cores(block) for block in result.blocks)
        lines.append(
            f"{label:9s} {statistics.median(result.rates):>15,.1f} {cores:>10.2f}  {rates}"
        )
        if result.error:
            lines.append(f"{'':9s} (later blocks failed: {result.error.splitlines()[0]})")
    lines.append("(own cores: the worker's CPU time, all threads, over the block's wall time)")
    lines.append("")
    for top, bottom in RATIOS:
        ratios = round_ratios(results, top, bottom)
        if ratios:
            each = ", ".join(f"{value:.2f}" for value in ratios)
            lines.append(f"{LABELS[top]} / {LABELS[bottom]} per round: {each}")
            lines.append(f"  {describe_spread(ratios)}")
    busy = [
        (block["other_cores"], LABELS[result.name])
        for result in results.values()
        for block in result.blocks
        if block.get("other_cores") is not None
    ]
    if busy and max(busy)[0] > 0.25:
        cores, label = max(busy)
        lines.append(
            f"WARNING: other processes used up to {cores:.2f} cores during a block ({label}); "
            "rerun on an idle machine (see --wait-idle)."
        )
    return "\n".join(lines)
