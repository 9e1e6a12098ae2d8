#!/usr/bin/env python3
"""What parameterization costs: building a variant, and stepping a variant against the base env.

1. **Building a variant** of ``jaxl/Hopper-v5``: ``ParameterizedEnv.set_params`` with values drawn
   for task seed ``k`` (write them into the XML spec, compile a new ``MjModel``, install it in the
   env), for ``--variants`` seeds; and the whole ``gym.make("jaxl/Hopper-v5", task_seed=k)``.
   Median and 95th percentile in milliseconds.
2. **Stepping**: env steps per second with uniformly random actions (resetting at episode ends)
   of the base env, the parameterized env left unmodified (``task_seed`` null) and a variant
   (``task_seed`` 3), for each env of ``--envs``. The three are interleaved ``--repeats`` times
   and the median is reported, with the ratio variant / base.

Run it in the library's virtualenv on an otherwise idle machine::

    .venv/bin/python benchmarks/param_env_cost.py --json-out benchmarks/results/param_env_cost.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _baselines_worker import random_actions, time_single_env  # noqa: E402
from _speed_common import machine_info, write_json  # noqa: E402

import jaxl.envs  # noqa: E402, F401  (registers the jaxl/ envs)
from jaxl.envs.parameterized import PARAMETERIZED_ENVS, draw  # noqa: E402

DEFAULT_ENVS = ("jaxl/Hopper-v5", "jaxl/DMC-cheetah-run-v0", "jaxl/Pendulum-v1")


def build_times(env_id: str, variants: int) -> dict[str, float]:
    env = gym.make(env_id)
    unwrapped = env.unwrapped
    parameters = unwrapped.spec_params.parameters
    unwrapped.set_params(draw(parameters, 0))  # warm-up: parses the XML once
    rebuild = []
    for seed in range(1, variants + 1):
        values = draw(parameters, seed)
        start = time.perf_counter()
        unwrapped.set_params(values)
        rebuild.append(time.perf_counter() - start)
    make = []
    for seed in range(1, min(variants, 50) + 1):
        start = time.perf_counter()
        gym.make(env_id, task_seed=seed).close()
        make.append(time.perf_counter() - start)
    ms = 1e3
    return {
        "set_params_median_ms": statistics.median(rebuild) * ms,
        "set_params_p95_ms": float(np.percentile(rebuild, 95)) * ms,
        "make_with_task_seed_median_ms": statistics.median(make) * ms,
        "variants": variants,
    }


def steps_per_second(env: gym.Env, steps: int, seed: int) -> float:
    actions = random_actions(env.action_space, (steps,), seed)
    return steps / time_single_env(env, actions, seed)


def stepping(env_id: str, steps: int, repeats: int) -> dict[str, float]:
    base_id = PARAMETERIZED_ENVS[env_id].base
    if PARAMETERIZED_ENVS[env_id].physics.__name__ == "DMCPhysics":
        from jaxl.envs.dmc import DMCEnv

        domain, task = base_id.split("-", 1)
        make_base = lambda: DMCEnv(domain, task)  # noqa: E731
    else:
        make_base = lambda: gym.make(base_id)  # noqa: E731
    makers = {
        "base": make_base,
        "unmodified": lambda: gym.make(env_id),
        "variant": lambda: gym.make(env_id, task_seed=3),
    }
    rates: dict[str, list[float]] = {name: [] for name in makers}
    envs = {name: make() for name, make in makers.items()}
    for env in envs.values():
        steps_per_second(env, min(steps, 1000), 0)  # warm-up
    for repeat in range(repeats):
        for name, env in envs.items():
            rates[name].append(steps_per_second(env, steps, repeat))
    result = {f"{name}_steps_per_s": statistics.median(r) for name, r in rates.items()}
    result["variant_over_base"] = result["variant_steps_per_s"] / result["base_steps_per_s"]
    result["unmodified_over_base"] = result["unmodified_steps_per_s"] / result["base_steps_per_s"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envs", nargs="+", default=list(DEFAULT_ENVS))
    parser.add_argument("--variants", type=int, default=200, help="variants built (default 200)")
    parser.add_argument("--steps", type=int, default=20000, help="steps per timing (default 20000)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args(argv)

    report = {
        "benchmark": "param_env_cost",
        "machine": machine_info(),
        "build": {"jaxl/Hopper-v5": build_times("jaxl/Hopper-v5", args.variants)},
        "stepping": {},
    }
    build = report["build"]["jaxl/Hopper-v5"]
    print(
        f"jaxl/Hopper-v5 variant build (XML edit + compile + install), {args.variants} variants: "
        f"median {build['set_params_median_ms']:.2f} ms, p95 {build['set_params_p95_ms']:.2f} ms; "
        f"gym.make with task_seed: median {build['make_with_task_seed_median_ms']:.2f} ms"
    )
    print(f"\n{'env':28s} {'base':>10s} {'unmodified':>11s} {'variant':>10s} {'variant/base':>13s}")
    for env_id in args.envs:
        row = stepping(env_id, args.steps, args.repeats)
        report["stepping"][env_id] = row
        print(
            f"{env_id:28s} {row['base_steps_per_s']:10.0f} {row['unmodified_steps_per_s']:11.0f} "
            f"{row['variant_steps_per_s']:10.0f} {row['variant_over_base']:13.3f}"
        )
    print(
        f"\nsteps/s: median of {args.repeats} interleaved runs of {args.steps} random-action steps"
    )
    if args.json_out:
        write_json(Path(args.json_out), report)
        print(args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
