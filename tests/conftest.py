"""Shared fixtures: repository paths and small, fast configs built from the shipped examples."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("JAX_PLATFORMS", "cpu")
if "JAXL_COMPILATION_CACHE" not in os.environ:
    # One compilation cache for the whole session (the CLI turns it on; subprocesses and
    # pytest-xdist's workers, started after this runs, inherit it), instead of the user's
    # ~/.cache/jaxl/xla; the process that made it removes it.
    _cache = tempfile.mkdtemp(prefix="jaxl-test-xla-cache-")
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
    os.environ["JAXL_COMPILATION_CACHE"] = _cache

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"


def load_example(name: str) -> dict:
    """Raw JSON of a shipped example config, e.g. ``rl/cartpole-ppo.json``."""
    return json.loads((CONFIGS / name).read_text())


def write_config(path: Path, data: dict) -> Path:
    """Write config data as JSON and return the path."""
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def small_ppo_config(tmp_path: Path) -> dict:
    """CartPole PPO with a small budget and frequent checkpoints, writing under ``tmp_path``."""
    data = load_example("rl/cartpole-ppo.json")
    data["logging_config"].update(
        save_path=str(tmp_path / "runs"), log_interval=1, checkpoint_interval=5
    )
    data["train_config"].update(total_env_steps=256 * 30, eval_interval=10, eval_episodes=3)
    return data


@pytest.fixture
def small_sac_config(tmp_path: Path) -> dict:
    """Pendulum SAC with small networks, a short warm-up and frequent checkpoints."""
    data = load_example("rl/pendulum-sac.json")
    data["logging_config"].update(
        save_path=str(tmp_path / "runs"), log_interval=1, checkpoint_interval=5
    )
    small = {"layers": [64, 64], "activation": "relu"}
    data["model_config"]["policy"]["network"] = small
    data["model_config"]["q"] = small
    data["learner_config"].update(learning_starts=200, steps_per_update=100, batch_size=64)
    data["learner_config"]["buffer_config"]["buffer_size"] = 2000
    data["train_config"].update(total_env_steps=100 * 30, eval_interval=10, eval_episodes=2)
    return data


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes, to check that nothing was changed."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def write_cartpole_dataset(path: Path, metadata: dict | None = None) -> None:
    """A real (tiny) CartPole-shaped dataset file, for configs that load one."""
    import numpy as np

    from jaxl.buffers import TransitionNumPyBuffer, Transitions

    buffer = TransitionNumPyBuffer(3, (4,), (), np.float32, np.int64)
    buffer.add(
        Transitions(
            obs=np.zeros((3, 4), np.float32),
            action=np.array([0, 1, 0]),
            reward=np.ones(3, np.float32),
            next_obs=np.zeros((3, 4), np.float32),
            terminated=np.array([False, False, True]),
            truncated=np.zeros(3, bool),
        )
    )
    buffer.save(path, metadata)
