"""The configs the project ships validate, and the SAC speed benchmark trains with the
hyperparameters of the Hopper SAC config it is quoted beside."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import CONFIGS, REPO, write_cartpole_dataset

from jaxl.config import load_config

SHIPPED = sorted(CONFIGS.rglob("*.json")) + sorted((REPO / "benchmarks" / "configs").glob("*.json"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_config_validates(path: Path, tmp_path: Path) -> None:
    data = json.loads(path.read_text())
    overrides = []
    if data["learner_config"].get("buffer_config", {}).get("load_path"):
        dataset = tmp_path / "expert.npz"
        write_cartpole_dataset(dataset)
        overrides.append(f"learner_config.buffer_config.load_path={dataset}")
    config = load_config(path, overrides)
    assert config.learner_config.learner == data["learner_config"]["learner"]


def test_sac_speed_benchmark_uses_the_hopper_sac_hyperparameters() -> None:
    """``benchmarks/configs/hopper-sac-speed.json`` differs from ``configs/rl/hopper-sac.json``
    only where its description says: the temperature, the buffer, the warm-up, the budget and the
    evaluation."""
    learning = json.loads((CONFIGS / "rl" / "hopper-sac.json").read_text())
    speed = json.loads((REPO / "benchmarks" / "configs" / "hopper-sac-speed.json").read_text())
    assert speed["model_config"] == learning["model_config"]
    assert speed["optimizer_config"] == learning["optimizer_config"]
    documented = {"buffer_config", "learning_starts", "init_alpha", "autotune_alpha"}

    def shared(learner: dict) -> dict:
        return {key: value for key, value in learner.items() if key not in documented}

    assert shared(speed["learner_config"]) == shared(learning["learner_config"])


def test_baselines_train_sac_with_the_jaxl_speed_config_hyperparameters() -> None:
    """SBX and SB3 in ``benchmarks/sac_hopper_speed.py`` get the hyperparameters the JAXL speed
    config trains with ("identical hyperparameters" is what the speed ratio rests on)."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import _baselines_worker as worker
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    speed = json.loads(worker.JAXL_SAC_CONFIG.read_text())
    learner, model = speed["learner_config"], speed["model_config"]
    baseline = worker.SAC_HYPERPARAMETERS
    assert baseline["learning_rate"] == speed["optimizer_config"]["learning_rate"]
    assert baseline["buffer_size"] == learner["buffer_config"]["buffer_size"]
    for key in ("batch_size", "tau", "gamma", "train_freq", "gradient_steps"):
        assert baseline[key] == learner[key], key
    assert baseline["target_entropy"] == learner["target_entropy"] == "auto"
    assert worker.SAC_NET_ARCH == {
        "pi": model["policy"]["network"]["layers"],
        "qf": model["q"]["layers"],
    }
    assert worker.SAC_N_CRITICS == model["num_q"]


def test_reference_sac_returns_use_the_hopper_config_temperature() -> None:
    """``benchmarks/sac_reference_returns.py`` trains SBX/SB3 with the temperature
    ``configs/rl/hopper-sac.json`` uses, so that its returns compare with JAXL's on that config."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import sac_reference_returns as reference
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    learner = reference.jaxl_learner_config()
    assert learner["autotune_alpha"] is False
    assert reference.fixed_temperature(learner) == learner["init_alpha"] == 0.2
    assert reference.fixed_temperature({**learner, "autotune_alpha": True}) is None
    assert reference.fixed_temperature({"init_alpha": 1.0}) is None
