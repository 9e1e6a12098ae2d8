"""JAX's persistent compilation cache, as the ``jaxl`` commands turn it on."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from conftest import write_config

from jaxl.compilation_cache import ENV_VAR, cache_dir, enable_compilation_cache

LOGGERS = "jax._src.compiler,jax._src.compilation_cache"
TIMING_COLUMNS = {"wall_time", "steps_per_second", "updates_per_second"}


def test_cache_dir_follows_the_environment(tmp_path: Path):
    assert cache_dir({ENV_VAR: str(tmp_path / "xla")}) == tmp_path / "xla"
    assert cache_dir({ENV_VAR: "~/xla"}) == Path.home() / "xla"
    for value in ("off", "OFF", "0", "false", ""):
        assert cache_dir({ENV_VAR: value}) is None
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "jaxl" / "xla"
    assert cache_dir({}) == Path.home() / ".cache" / "jaxl" / "xla"


def test_off_turns_the_cache_off(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "off")
    assert enable_compilation_cache() is None


def test_an_uncreatable_cache_folder_leaves_the_run_uncached(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert enable_compilation_cache(blocker / "xla") is None


def _train(config: Path, cache: Path) -> tuple[subprocess.CompletedProcess, list[dict]]:
    env = os.environ | {ENV_VAR: str(cache), "JAX_DEBUG_LOG_MODULES": LOGGERS}
    process = subprocess.run(
        [sys.executable, "-m", "jaxl.cli", "train", str(config), "--seed", "3"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    run_dir = Path(process.stdout.strip().splitlines()[-1])
    with open(run_dir / "metrics.csv", newline="") as handle:
        rows = [
            {k: v for k, v in row.items() if k not in TIMING_COLUMNS}
            for row in csv.DictReader(handle)
        ]
    return process, rows


def test_a_second_run_loads_its_update_from_the_cache_and_learns_the_same(
    tmp_path: Path, small_sac_config: dict
):
    small_sac_config["train_config"].update(total_env_steps=600, eval_interval=None)
    config = write_config(tmp_path / "sac.json", small_sac_config)
    cache = tmp_path / "xla-cache"

    first, first_rows = _train(config, cache)
    assert "Writing jit_step to persistent compilation cache" in first.stderr
    assert any(path.name.startswith("jit_step-") for path in cache.iterdir())

    second, second_rows = _train(config, cache)
    assert "Persistent compilation cache hit for 'jit_step'" in second.stderr
    assert "Writing jit_step" not in second.stderr
    assert second_rows == first_rows
