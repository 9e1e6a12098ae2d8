"""Training, evaluating and gathering on parameterized env variants from configs alone."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
from conftest import load_example, write_config

from jaxl.buffers import load_buffer
from jaxl.cli import main
from jaxl.training import session


def _eval_returns(run: Path) -> list[float]:
    with open(run / "metrics.csv") as file:
        return [float(r["eval_return_mean"]) for r in csv.DictReader(file) if r["eval_return_mean"]]


def test_ppo_learns_on_a_pendulum_variant_and_records_it(tmp_path, capsys):
    """configs/rl/param_pendulum-ppo.json on a 60k-step budget: the return rises; the run's
    resolved config records the drawn physics; eval and gather work on another variant."""
    data = load_example("rl/param_pendulum-ppo.json")
    data["logging_config"]["save_path"] = str(tmp_path / "runs")
    data["train_config"].update(total_env_steps=4 * 1024 * 15, eval_interval=5)
    result = session.start_training(write_config(tmp_path / "c.json", data), seed=0)
    run = result.run.path

    returns = _eval_returns(run)
    assert len(returns) == 3
    assert returns[-1] > returns[0] + 150, returns  # seed 0 measured: -815, -528, -455

    resolved = json.loads((run / "config.json").read_text())
    variant = gym.make("jaxl/Pendulum-v1", task_seed=3).unwrapped.task_params
    assert resolved["task_params"] == variant
    assert resolved["learner_config"]["env_config"]["task_seed"] == 3

    held_out = session.evaluate_run(run, episodes=2, task_seed=4)
    assert held_out["task_seed"] == 4
    assert (
        held_out["task_params"] == gym.make("jaxl/Pendulum-v1", task_seed=4).unwrapped.task_params
    )
    assert held_out["task_params"] != variant
    # Several variants in one call, the checkpoint restored once: each record is the one a call
    # for that variant alone gives.
    other = session.evaluate_run(run, episodes=2, task_seed=5)
    assert session.evaluate_variants(run, 2, [4, 5]) == [held_out, other]
    # A repeated task seed counts once (before, "2 variants", both task seed 4).
    assert main(["eval", str(run), "--episodes", "2", "--task-seed", "4", "5", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "task seed 4 " in lines[0] and "task seed 5 " in lines[1], lines
    means = sorted([(held_out["mean_return"], 4), (other["mean_return"], 5)])
    assert lines[2] == (
        f"2 variants: mean of their means {(means[0][0] + means[1][0]) / 2:.2f} "
        f"(lowest {means[0][0]:.2f} on task seed {means[0][1]}, "
        f"highest {means[1][0]:.2f} on task seed {means[1][1]})"
    ), lines

    dataset = tmp_path / "expert.npz"
    session.gather_dataset(run, episodes=2, out=dataset, task_seed=5)
    metadata = load_buffer(dataset).metadata
    assert metadata["env"]["task_seed"] == 5
    assert (
        metadata["task_params"] == gym.make("jaxl/Pendulum-v1", task_seed=5).unwrapped.task_params
    )
    assert metadata["episode_task_params"] is None


def test_hopper_variant_trains_from_its_config(tmp_path):
    """configs/rl/param_hopper-ppo.json runs as shipped (budget cut to two rollouts)."""
    data = load_example("rl/param_hopper-ppo.json")
    data["logging_config"].update(save_path=str(tmp_path / "runs"), log_interval=1)
    data["train_config"].update(total_env_steps=2 * 2048, eval_interval=None, eval_episodes=1)
    result = session.start_training(write_config(tmp_path / "c.json", data), seed=0)
    # The variant is in the run's name, as the seed is (before, only inside config.json).
    assert "-task7-seed0-" in result.run.path.name, result.run.path
    resolved = json.loads((result.run.path / "config.json").read_text())
    expected = gym.make("jaxl/Hopper-v5", task_seed=7).unwrapped.task_params
    assert resolved["task_params"] == expected
    assert np.isfinite(result.evaluation["mean_return"])


def test_domain_randomized_dataset_records_each_episodes_physics(tmp_path, small_ppo_config):
    data = small_ppo_config
    data["learner_config"]["env_config"] = {"env_id": "jaxl/CartPole-v1", "resample": "episode"}
    data["train_config"].update(total_env_steps=256 * 4, eval_interval=None, eval_episodes=1)
    result = session.start_training(write_config(tmp_path / "c.json", data), seed=0)
    assert "task" not in result.run.path.name
    # The physics of its episodes differ: the record names none of them.
    final = json.loads(result.run.evaluation_path.read_text())
    assert final["task_seed"] is None and final["task_params"] is None
    dataset = tmp_path / "randomized.npz"
    session.gather_dataset(result.run.path, episodes=3, out=dataset)
    per_episode = load_buffer(dataset).metadata["episode_task_params"]
    assert len(per_episode) == 3
    assert len({json.dumps(params, sort_keys=True) for params in per_episode}) == 3

    # --task-seed on a domain-randomized run gathers (and evaluates) that one variant. Before,
    # the physics were still redrawn at every reset while the metadata named variant 4.
    held_out = tmp_path / "variant4.npz"
    session.gather_dataset(result.run.path, episodes=2, out=held_out, task_seed=4)
    metadata = load_buffer(held_out).metadata
    variant = gym.make("jaxl/CartPole-v1", task_seed=4).unwrapped.task_params
    assert metadata["env"]["resample"] == "never" and metadata["episode_task_params"] is None
    assert metadata["task_params"] == variant
    evaluation = session.evaluate_run(result.run.path, episodes=1, task_seed=4)
    assert evaluation["task_params"] == variant
