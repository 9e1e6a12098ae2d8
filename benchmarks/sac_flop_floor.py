#!/usr/bin/env python3
"""How far is one JAXL SAC gradient step from this machine's matmul floor?

The script builds JAXL's SAC learner from ``configs/rl/hopper-sac.json`` (Hopper-v5: 11
observations, 3 actions, a 256x256 ReLU actor and twin 256x256 ReLU critics, batch 256), fills
its device replay buffer with random transitions, and then:

1. counts the floating-point operations of one training call of the jitted per-env-step
   function (``SACLearner._step`` with ``learn=True``: one gradient step on a
   batch of 256, plus picking the next action) with XLA's cost analysis of the compiled
   executable, and of the call without learning (``learn=False``), whose difference is the
   gradient step alone;
2. counts the matrix-multiply FLOPs of one gradient step by hand from the layer sizes, as a
   cross-check of XLA's count (XLA also counts elementwise work: activations, the squashed
   Gaussian's log-probabilities, Adam and the Polyak update);
3. measures the machine's float32 matmul rate with jitted chains of ``[256,256] x [256,256]``
   and ``[512,256] x [256,256]`` matmuls (best of ``--repeats``), with XLA's default threading,
   i.e. the rate XLA itself reaches on these shapes, and the same chains with bfloat16 inputs
   and float32 accumulation (the products of ``--matmul-dtype bfloat16``);
4. times the jitted training call in steady state (after compilation and warm-up), once
   waiting for each call's action as the training loop does (it copies the action to the host
   every step) and once back to back; and the same for the no-learn call, to separate the fixed
   per-call overhead (dispatch, action sampling, host round trip) from the gradient step;
5. prints FLOPs per gradient step, matmul GFLOP/s, the floor time (FLOPs / best rate; with
   ``--matmul-dtype bfloat16``, the products between hidden layers at the bfloat16 rate and
   the rest at the float32 rate), the measured time and measured / floor.

``--one-core`` pins the process to one CPU before JAX creates its thread pool; comparing the two
runs gives the step's parallel efficiency on this machine (how much the second core buys).

Run it in the library's virtualenv, on an otherwise idle machine (it says how many cores other
processes kept busy while it measured)::

    .venv/bin/python benchmarks/sac_flop_floor.py --json-out benchmarks/results/sac_floor.json
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _speed_common import (  # noqa: E402
    BUSY_CORES_THRESHOLD,
    REPO_ROOT,
    machine_info,
    own_cpu_seconds,
    system_busy_seconds,
    write_json,
)

from jaxl.buffers import Transitions  # noqa: E402
from jaxl.config import load_config  # noqa: E402
from jaxl.learners import make_learner  # noqa: E402
from jaxl.learners.sac.learner import SACLearner  # noqa: E402

DEFAULT_CONFIG = REPO_ROOT / "configs" / "rl" / "hopper-sac.json"
MATMUL_SHAPES = ((256, 256, 256), (512, 256, 256))
"""``(m, k, n)``: ``[m, k] x [k, n]`` matmuls whose rate is measured."""


# --- FLOP counts ----------------------------------------------------------------------------

#: Elementwise FLOPs of one Adam update per parameter (moments, bias correction, sqrt, divide,
#: scale, apply), a round estimate.
ADAM_FLOPS_PER_PARAM = 12.0


def xla_flops(compiled: Any) -> float:
    """Return the FLOPs XLA's cost analysis gives a compiled executable.

    :param compiled: the result of ``jitted.lower(...).compile()``.
    :returns: the ``flops`` entry (summed over entries when JAX returns a list of dicts, as
        older versions do).
    """
    analysis = compiled.cost_analysis()
    if isinstance(analysis, dict):
        analysis = [analysis]
    return float(sum(entry.get("flops", 0.0) for entry in analysis or []))


def dense_sizes(n_in: int, hidden: list[int], outputs: list[int]) -> list[tuple[int, int]]:
    """Return the ``(in, out)`` sizes of an MLP's dense layers.

    :param n_in: input width.
    :param hidden: hidden layer widths.
    :param outputs: widths of the output heads, each a dense layer on the last hidden layer.
    :returns: one ``(in, out)`` per dense layer, the input layer first.
    """
    widths = [n_in, *hidden]
    layers = list(zip(widths[:-1], widths[1:], strict=True))
    return layers + [(widths[-1], out) for out in outputs]


def analytic_flops(
    obs_dim: int,
    action_dim: int,
    policy_hidden: list[int],
    q_hidden: list[int],
    num_q: int,
    batch: int,
) -> dict[str, float]:
    """Count the matmul FLOPs of one SAC gradient step by hand (2 FLOPs per multiply-add).

    A dense layer ``[B, i] x [i, o]`` costs ``2 B i o`` forward. Its backward pass costs the
    same for the weight gradient and the same again for the input gradient; the input gradient
    of a network's first layer is only needed when something upstream is differentiated. The
    gradient step (see ``jaxl/learners/sac/losses.py``) runs:

    * critic loss: policy forward on ``next_obs`` (no gradient); target Q ensemble forward on
      ``(next_obs, next_action)``; online Q ensemble forward on ``(obs, action)`` and its
      backward for the weight gradients (no input gradient of the first layer);
    * actor loss: policy forward on ``obs``; Q ensemble forward on ``(obs, new action)`` and
      its backward for the input gradient only (the Q weights are not differentiated here, so
      their gradients are dead code); policy backward for the weight gradients;
    * temperature loss: a few scalars per sample (not counted).

    The parameter updates (three Adams, one Polyak average) are elementwise; they are estimated
    separately as ``ADAM_FLOPS_PER_PARAM`` per policy/Q parameter and 3 per target-Q parameter.

    :param obs_dim: observation size.
    :param action_dim: action size.
    :param policy_hidden: the actor's hidden widths.
    :param q_hidden: each critic's hidden widths.
    :param num_q: critics in the ensemble.
    :param batch: batch size.
    :returns: ``critic_matmul``, ``actor_matmul``, ``matmul`` (their sum),
        ``hidden_matmul`` (the forward and input-gradient products between hidden layers: the
        part that ``matmul_dtype: bfloat16`` rounds; first and output layers and weight
        gradients stay float32), ``param_updates`` (estimate), ``total`` and the
        parameter counts ``policy_params`` and ``q_params``.
    """
    policy = dense_sizes(obs_dim, policy_hidden, [action_dim, action_dim])  # mean, log-std
    q = dense_sizes(obs_dim + action_dim, q_hidden, [1])

    def forward(layers: list[tuple[int, int]]) -> float:
        return sum(2.0 * batch * i * o for i, o in layers)

    def first(layers: list[tuple[int, int]]) -> float:
        i, o = layers[0]
        return 2.0 * batch * i * o

    def between_hidden(hidden: list[int]) -> float:
        return forward(list(zip(hidden[:-1], hidden[1:], strict=True)))

    policy_fwd, q_fwd = forward(policy), num_q * forward(q)
    # Each forward pass and each input gradient multiplies between hidden layers once: the
    # critic loss runs 1 policy and 3 Q passes of them, the actor loss 2 of each.
    hidden_policy, hidden_q = between_hidden(policy_hidden), num_q * between_hidden(q_hidden)
    weight_grads_q = q_fwd
    input_grads_q = q_fwd  # all layers, down to the action input
    critic = policy_fwd + q_fwd + q_fwd + weight_grads_q + (input_grads_q - num_q * first(q))
    actor = policy_fwd + q_fwd + input_grads_q + policy_fwd + (policy_fwd - first(policy))
    policy_params = sum(i * o + o for i, o in policy)
    q_params = num_q * sum(i * o + o for i, o in q)
    updates = ADAM_FLOPS_PER_PARAM * (policy_params + q_params) + 3.0 * q_params
    return {
        "critic_matmul": critic,
        "actor_matmul": actor,
        "matmul": critic + actor,
        "hidden_matmul": 3 * hidden_policy + 5 * hidden_q,
        "param_updates": updates,
        "total": critic + actor + updates,
        "policy_params": float(policy_params),
        "q_params": float(q_params),
    }


# --- Timing ---------------------------------------------------------------------------------


class BusyMeter:
    """Measures how many cores other processes keep busy while a block of code runs."""

    def __enter__(self) -> BusyMeter:
        self._busy, self._own = system_busy_seconds(), own_cpu_seconds()
        self._start = time.perf_counter()
        self.other_cores: float | None = None
        return self

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self._start
        busy, own = system_busy_seconds(), own_cpu_seconds()
        if self._busy is not None and busy is not None and elapsed > 0:
            others = (busy - self._busy) - (own - self._own)
            self.other_cores = max(others, 0.0) / elapsed


def matmul_rate(
    m: int, k: int, n: int, chain: int, repeats: int, dtype: Any = jnp.float32
) -> dict[str, float]:
    """Measure GFLOP/s of a jitted chain of ``[m, k] x [k, n]`` matmuls.

    The chain is ``x <- x @ w`` (``k == n``) unrolled ``chain`` times in one jitted function,
    with ``w`` scaled so the values stay finite. Each repeat times one call. The inputs are of
    ``dtype``; products are accumulated in float32 and each result is cast back to ``dtype``.

    :param m: rows of ``x``.
    :param k: columns of ``x`` and rows of ``w``.
    :param n: columns of ``w``.
    :param chain: matmuls per call.
    :param repeats: timed calls; the best counts.
    :param dtype: the inputs' dtype (float32, or bfloat16 for the mixed-precision reference).
    :returns: ``gflops_best``, ``gflops_median`` and the ``flops`` of one call.
    """
    if k != n:
        raise ValueError("a chain needs square w")
    key_x, key_w = jax.random.split(jax.random.PRNGKey(0))
    x = jax.random.normal(key_x, (m, k), jnp.float32).astype(dtype)
    w = (jax.random.normal(key_w, (k, n), jnp.float32) / np.sqrt(k)).astype(dtype)

    @jax.jit
    def run(x: jax.Array, w: jax.Array) -> jax.Array:
        for _ in range(chain):
            x = jnp.dot(x, w, preferred_element_type=jnp.float32).astype(dtype)
        return x

    run(x, w).block_until_ready()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(x, w).block_until_ready()
        times.append(time.perf_counter() - start)
    flops = 2.0 * m * k * n * chain
    return {
        "flops": flops,
        "gflops_best": flops / min(times) / 1e9,
        "gflops_median": flops / float(np.median(times)) / 1e9,
    }


def fill_replay(learner: SACLearner, count: int, seed: int) -> None:
    """Add ``count`` random transitions of the right shapes to the learner's replay buffer.

    :param learner: the SAC learner.
    :param count: transitions to add.
    :param seed: seed of the random values.
    """
    rng = np.random.default_rng(seed)
    obs_shape = learner.collector.observation_space.shape
    action_size = learner.networks.action.size
    learner.replay.add(
        Transitions(
            obs=rng.normal(size=(count, *obs_shape)).astype(np.float32),
            action=rng.uniform(-1.0, 1.0, size=(count, action_size)).astype(np.float32),
            reward=rng.normal(size=count).astype(np.float32),
            next_obs=rng.normal(size=(count, *obs_shape)).astype(np.float32),
            terminated=rng.random(count) < 0.01,
            truncated=np.zeros(count, bool),
        )
    )


class StepRunner:
    """Calls the learner's jitted step repeatedly, threading the donated state and replay buffer
    through. Each call stores one transition, as in training (the buffer's last one again)."""

    def __init__(self, learner: SACLearner) -> None:
        self.step = learner._step
        self.carry = learner._layout.pack_on_host((learner.state, learner.replay.state))
        self.pending = jax.tree.map(lambda field: np.asarray(field[-1:]), learner.replay.contents())
        self.obs = np.asarray(learner.collector.obs, np.float32)

    def lower(self, learn: bool) -> Any:
        """Lower and compile the step for the current arguments."""
        return self.step.lower(self.carry, self.pending, self.obs, learn=learn).compile()

    def call(self, learn: bool) -> jax.Array:
        """One call; returns the env action (not waited for)."""
        self.carry, _, env_action, _ = self.step(self.carry, self.pending, self.obs, learn=learn)
        return env_action

    def time_calls(self, learn: bool, calls: int, warmup: int) -> dict[str, float]:
        """Time ``calls`` steady-state calls after ``warmup`` untimed ones.

        :returns: ``synced_s`` (mean seconds per call when each call's action is copied to the
            host before the next call, as the training loop does), ``synced_best_s`` (the
            fastest such call), ``pipelined_s`` (mean seconds per call back to back, one wait
            at the end), ``own_cpu_per_call_s`` (this process's CPU time per synced call, all
            threads: with ``synced_s`` it says how many cores a call keeps busy) and
            ``other_cores`` (cores other processes kept busy meanwhile).
        """
        for _ in range(warmup):
            np.asarray(self.call(learn))
        with BusyMeter() as meter:
            own_before = own_cpu_seconds()
            each = []
            for _ in range(calls):
                start = time.perf_counter()
                np.asarray(self.call(learn))
                each.append(time.perf_counter() - start)
            own_cpu = own_cpu_seconds() - own_before
            start = time.perf_counter()
            action = None
            for _ in range(calls):
                action = self.call(learn)
            np.asarray(action)
            pipelined = (time.perf_counter() - start) / calls
        return {
            "synced_s": float(np.mean(each)),
            "synced_median_s": float(np.median(each)),
            "synced_best_s": float(np.min(each)),
            "pipelined_s": pipelined,
            "own_cpu_per_call_s": own_cpu / calls,
            "other_cores": meter.other_cores,
        }


# --- Report ---------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement.

    :param args: the parsed command line.
    :returns: the report.
    """
    overrides = [
        f"learner_config.buffer_config.buffer_size={args.buffer_size}",
        f"model_config.matmul_dtype={args.matmul_dtype}",
    ]
    config = load_config(args.config, overrides)
    learner = make_learner(config, args.seed)
    if not isinstance(learner, SACLearner):
        raise SystemExit(f"{args.config}: not a SAC config")
    hp = learner.hp
    if hp.gradient_steps != 1:
        raise SystemExit(f"{args.config}: expected one gradient step per call")
    fill_replay(learner, args.fill, args.seed)

    obs_dim = int(np.prod(learner.collector.observation_space.shape))
    action_dim = int(learner.networks.action.size)
    model = config.model
    analytic = analytic_flops(
        obs_dim,
        action_dim,
        list(model.policy.network.layers),
        list(model.q.layers),
        model.num_q,
        hp.batch_size,
    )
    params = learner.state.params
    actual_params = {
        name: float(sum(leaf.size for leaf in jax.tree.leaves(params[name])))
        for name in ("policy", "q")
    }

    runner = StepRunner(learner)
    compiled_learn, compiled_act = runner.lower(learn=True), runner.lower(learn=False)
    flops_learn, flops_act = xla_flops(compiled_learn), xla_flops(compiled_act)

    print(f"timing the matmul rate ({args.chain}-matmul chains, best of {args.repeats}) ...")
    with BusyMeter() as matmul_meter:
        rates = {
            f"{m}x{k}@{k}x{n}": matmul_rate(m, k, n, args.chain, args.repeats)
            for m, k, n in MATMUL_SHAPES
        }
        # The floor of a bfloat16 step (--matmul-dtype bfloat16) counts these; for a float32
        # step, as SBX's, they are for reference only.
        rates_bf16 = {
            f"{m}x{k}@{k}x{n}": matmul_rate(m, k, n, args.chain, args.repeats, jnp.bfloat16)
            for m, k, n in MATMUL_SHAPES
        }
    best_rate = max(rate["gflops_best"] for rate in rates.values()) * 1e9
    best_rate_bf16 = max(rate["gflops_best"] for rate in rates_bf16.values()) * 1e9
    # In bfloat16, the products between hidden layers run at the bfloat16 rate, the rest at the
    # float32 rate.
    bfloat16 = args.matmul_dtype == "bfloat16"
    bfloat16_flops = analytic["hidden_matmul"] if bfloat16 else 0.0

    def floor(flops: float) -> float:
        return bfloat16_flops / best_rate_bf16 + max(flops - bfloat16_flops, 0.0) / best_rate

    print(f"timing the SAC step ({args.warmup} warm-up + {args.calls} calls, each way) ...")
    timing_learn = runner.time_calls(True, args.calls, args.warmup)
    timing_act = runner.time_calls(False, args.calls, args.warmup)
    gradient_step_s = timing_learn["synced_s"] - timing_act["synced_s"]
    return {
        "benchmark": "sac_flop_floor",
        "config": str(Path(args.config)),
        "overrides": overrides,
        "matmul_dtype": args.matmul_dtype,
        "shapes": {
            "obs": obs_dim,
            "action": action_dim,
            "policy_hidden": list(model.policy.network.layers),
            "q_hidden": list(model.q.layers),
            "num_q": model.num_q,
            "batch": hp.batch_size,
        },
        "params": {"analytic": analytic, "actual": actual_params},
        "flops": {
            "xla_learn_call": flops_learn,
            "xla_no_learn_call": flops_act,
            "xla_gradient_step": flops_learn - flops_act,
            "analytic_matmul": analytic["matmul"],
            "analytic_total": analytic["total"],
        },
        "matmul": rates,
        "matmul_bfloat16_inputs": rates_bf16,
        "matmul_other_cores": matmul_meter.other_cores,
        "best_rate_flops_per_s": best_rate,
        "best_bfloat16_rate_flops_per_s": best_rate_bf16,
        "timing": {"learn": timing_learn, "no_learn": timing_act},
        "floor_s": floor(flops_learn),
        "gradient_step_floor_s": floor(flops_learn - flops_act),
        "measured_s": timing_learn["synced_s"],
        "measured_over_floor": timing_learn["synced_s"] / floor(flops_learn),
        "gradient_step_measured_s": gradient_step_s,
        "gradient_step_measured_over_floor": gradient_step_s / floor(flops_learn - flops_act),
        "jax": {"version": jax.__version__, "devices": [str(d) for d in jax.devices()]},
        "cpus_used": len(os.sched_getaffinity(0)),
        "machine": machine_info(),
    }


def format_report(report: dict[str, Any]) -> str:
    """Render the report as text.

    :param report: what :func:`measure` returned.
    :returns: the text.
    """
    shapes, flops, timing = report["shapes"], report["flops"], report["timing"]
    analytic, actual = report["params"]["analytic"], report["params"]["actual"]
    mflop = 1e6
    ms = 1e3
    learn, act = timing["learn"], timing["no_learn"]
    lines = [
        f"SAC gradient step vs matmul floor: obs {shapes['obs']}, action {shapes['action']}, "
        f"actor {shapes['policy_hidden']}, {shapes['num_q']} critics {shapes['q_hidden']}, "
        f"batch {shapes['batch']} ({report['config']}; {report['jax']['devices']}; "
        f"{report['cpus_used']} usable core(s))",
        "",
        f"parameters: actor {actual['policy']:,.0f} (by hand {analytic['policy_params']:,.0f}), "
        f"critics {actual['q']:,.0f} (by hand {analytic['q_params']:,.0f})",
        "",
        "FLOPs per call",
        f"  XLA, training call (learn=True)        {flops['xla_learn_call'] / mflop:9.1f} MFLOP",
        f"  XLA, no-learn call (learn=False)       {flops['xla_no_learn_call'] / mflop:9.3f} MFLOP",
        f"  XLA, gradient step (difference)        {flops['xla_gradient_step'] / mflop:9.1f} MFLOP",
        f"  by hand, matmuls of one gradient step  {flops['analytic_matmul'] / mflop:9.1f} MFLOP "
        f"(critic {analytic['critic_matmul'] / mflop:.1f}, actor "
        f"{analytic['actor_matmul'] / mflop:.1f})",
        f"  by hand, + parameter updates (approx.) {flops['analytic_total'] / mflop:9.1f} MFLOP",
        f"  XLA gradient step / by hand            {flops['xla_gradient_step'] / flops['analytic_matmul']:9.3f} "
        f"(matmuls only), {flops['xla_gradient_step'] / flops['analytic_total']:.3f} (with updates)",
        "",
    ]
    bfloat16 = report.get("matmul_dtype") == "bfloat16"
    titles = {
        "matmul": "float32 matmul rate (jitted chains, XLA's default threading)",
        "matmul_bfloat16_inputs": "bfloat16 inputs, float32 accumulation"
        + ("" if bfloat16 else " (for reference, not in the floor)"),
    }
    for field, title in titles.items():
        lines.append(title)
        for shape, rate in report.get(field, {}).items():
            lines.append(
                f"  {shape:18s} best {rate['gflops_best']:7.1f} GFLOP/s, "
                f"median {rate['gflops_median']:7.1f} GFLOP/s"
            )
    lines += [
        "",
        "time per call, steady state (synced: the action copied to the host after each call)",
        f"  training call   synced mean {learn['synced_s'] * ms:7.3f} ms, median "
        f"{learn['synced_median_s'] * ms:7.3f} ms, best {learn['synced_best_s'] * ms:7.3f} ms; "
        f"back to back {learn['pipelined_s'] * ms:7.3f} ms",
        f"  training call   CPU time {learn['own_cpu_per_call_s'] * ms:7.3f} ms per call, all "
        f"threads: {learn['own_cpu_per_call_s'] / learn['synced_s']:.2f} of "
        f"{report['cpus_used']} usable core(s) busy on average",
        f"  no-learn call   synced mean {act['synced_s'] * ms:7.3f} ms, median "
        f"{act['synced_median_s'] * ms:7.3f} ms, best {act['synced_best_s'] * ms:7.3f} ms; "
        f"back to back {act['pipelined_s'] * ms:7.3f} ms",
        "",
        (
            f"floor = FLOPs between hidden layers (by hand) / best bfloat16 rate "
            f"({report['best_bfloat16_rate_flops_per_s'] / 1e9:.1f} GFLOP/s) + the other XLA "
            f"FLOPs / best float32 rate ({report['best_rate_flops_per_s'] / 1e9:.1f} GFLOP/s)"
            if bfloat16
            else f"floor = XLA FLOPs / best matmul rate "
            f"({report['best_rate_flops_per_s'] / 1e9:.1f} GFLOP/s)"
        ),
        f"  training call:  floor {report['floor_s'] * ms:7.3f} ms, measured "
        f"{report['measured_s'] * ms:7.3f} ms, measured / floor "
        f"{report['measured_over_floor']:6.2f}",
        f"  gradient step:  floor {report['gradient_step_floor_s'] * ms:7.3f} ms, measured "
        f"{report['gradient_step_measured_s'] * ms:7.3f} ms (training - no-learn call), "
        f"measured / floor {report['gradient_step_measured_over_floor']:6.2f}",
        f"  => at most {1 / report['floor_s']:,.0f} training calls/s from compute alone; "
        f"measured {1 / report['measured_s']:,.0f}/s (before env stepping)",
    ]
    busy = [
        report["matmul_other_cores"],
        learn["other_cores"],
        act["other_cores"],
    ]
    worst = max((b for b in busy if b is not None), default=None)
    machine = report["machine"]
    lines += [
        "",
        f"machine: {machine['cpu_count']} CPUs ({machine['cpu_model']}), load average "
        f"{machine['load_average_1_5_15min']}; other processes kept "
        f"{'?' if worst is None else f'{worst:.2f}'} cores busy at worst while timing",
    ]
    if worst is not None and worst > BUSY_CORES_THRESHOLD:
        lines.append("WARNING: the machine was busy; the timings are unreliable.")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    :returns: the parsed arguments.
    """
    parser = argparse.ArgumentParser(description="JAXL SAC gradient step vs matmul FLOP floor.")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="a SAC config")
    parser.add_argument(
        "--buffer-size",
        type=int,
        default=100_000,
        help="replay capacity (does not change the step's work; default 100000)",
    )
    parser.add_argument("--fill", type=int, default=4096, help="random transitions to store")
    parser.add_argument("--calls", type=int, default=500, help="timed calls of the step")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls first")
    parser.add_argument("--chain", type=int, default=64, help="matmuls per timed matmul call")
    parser.add_argument("--repeats", type=int, default=10, help="timed matmul calls (best)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--matmul-dtype",
        choices=["float32", "bfloat16"],
        default="float32",
        help="model_config.matmul_dtype of the timed step (default float32, as SBX); the "
        "floor of a bfloat16 step takes the products between hidden layers at the bfloat16 rate "
        "and the rest at the float32 rate",
    )
    parser.add_argument(
        "--one-core",
        action="store_true",
        help="pin this process to one CPU before JAX starts its thread pool, to measure the "
        "parallel efficiency of the step (compare with a run without it)",
    )
    parser.add_argument("--json-out", type=Path, default=None, help="also write results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure, print the report and optionally write it as JSON.

    :param argv: arguments without the program name; ``None`` means ``sys.argv[1:]``.
    :returns: the exit code.
    """
    args = parse_args(argv)
    if args.one_core:
        # Before the first JAX computation: XLA sizes its CPU thread pool from the affinity.
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    report = measure(args)
    print()
    print(format_report(report))
    if args.json_out is not None:
        write_json(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
