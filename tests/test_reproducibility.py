"""Determinism of a run, and resume after SIGKILL equal to an uninterrupted run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np
import pytest
from conftest import REPO, tree_files, write_config

from jaxl.cli import main
from jaxl.training.metrics import TIMING_COLUMNS, read_metrics
from jaxl.training.session import restore_learner, start_training


def _deterministic_columns(run_dir: Path) -> list[dict[str, str]]:
    rows = read_metrics(run_dir / "metrics.csv")
    return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in rows]


def _final_state(run_dir: Path):
    """Every array of the final checkpoint: learner state, collector and (SAC) replay buffer."""
    _, learner, _, _ = restore_learner(run_dir)
    return jax.tree.leaves(jax.device_get(learner.checkpoint()))


def test_same_seed_same_metrics(tmp_path, small_ppo_config):
    config = write_config(tmp_path / "c.json", small_ppo_config)
    first = start_training(config, seed=3).run.path
    second = start_training(config, seed=3).run.path
    assert first != second
    rows = _deterministic_columns(first)
    assert len(rows) == 30 and rows[-1]["eval_return_mean"]
    assert rows == _deterministic_columns(second)
    third = start_training(config, seed=4).run.path
    assert _deterministic_columns(third) != rows


def _checkpoints(run_dir: Path) -> list[int]:
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit())


def _train_in_a_subprocess(
    config: Path, stderr: int, read_run_dir: bool = True
) -> tuple[subprocess.Popen, Path | None]:
    """``jaxl train CONFIG --seed 5`` in its own process, and its run directory (once it
    prints it; ``None`` without ``read_run_dir``).

    The child gets the default SIGINT disposition, as in a terminal, however the tests were
    started: a process started as a background job without job control ignores SIGINT, its
    children inherit that, and jaxl leaves an ignored SIGINT ignored (as ``nohup`` expects). A
    handled signal, unlike an ignored one, is reset to the default in the child.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "jaxl.cli", "train", str(config), "--seed", "5"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=REPO,
            env={**os.environ, "JAX_PLATFORMS": "cpu"},
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    return process, Path(process.stdout.readline().strip()) if read_run_dir else None


def _wait_while_training(process: subprocess.Popen, ready: Callable[[], bool]) -> None:
    deadline = time.time() + 300
    while not ready():
        assert process.poll() is None, "training ended before it could be interrupted"
        assert time.time() < deadline
        time.sleep(0.01)


def test_ctrl_c_while_the_command_starts_stops_it(tmp_path, small_ppo_config):
    """Ctrl-C during the imports of JAX and its libraries was swallowed inside an XLA callback
    ("Exception ignored"), after which the run trained to the end with status 0, or broke an
    import with a traceback."""
    config = write_config(tmp_path / "c.json", small_ppo_config)
    for delay in (0.3, 0.6):
        process, _ = _train_in_a_subprocess(config, subprocess.PIPE, read_run_dir=False)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 130, err
        assert len(err.splitlines()) == 1 and err.startswith("jaxl: interrupted"), err


@pytest.mark.parametrize(
    ("config_fixture", "total_env_steps", "total_updates"),
    [("small_ppo_config", 256 * 60, 60), ("small_sac_config", 100 * 30, 30)],
)
def test_resume_after_sigkill_equals_uninterrupted(
    tmp_path, request, config_fixture, total_env_steps, total_updates
):
    """PPO and SAC (whose checkpoint includes the replay buffer) resume to the same final state."""
    data = request.getfixturevalue(config_fixture)
    data["train_config"]["total_env_steps"] = total_env_steps
    config = write_config(tmp_path / "c.json", data)
    process, run_dir = _train_in_a_subprocess(config, subprocess.DEVNULL)
    _wait_while_training(process, lambda: len(_checkpoints(run_dir)) >= 2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted_at = _checkpoints(run_dir)[-1]
    assert interrupted_at < total_updates, "the kill must land before the end of the run"

    resumed = subprocess.run(
        [sys.executable, "-m", "jaxl.cli", "resume", str(run_dir)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    assert resumed.returncode == 0, resumed.stderr
    uninterrupted = start_training(config, seed=5).run.path

    assert _checkpoints(run_dir)[-1] == total_updates
    for a, b in zip(_final_state(run_dir), _final_state(uninterrupted), strict=True):
        np.testing.assert_array_equal(a, b)
    assert _deterministic_columns(run_dir) == _deterministic_columns(uninterrupted)


def test_resume_from_a_checkpoint_between_rows_keeps_the_episodes_since_the_last_row(
    tmp_path, small_ppo_config
):
    """A checkpoint taken between two rows of ``metrics.csv`` (update 9 of rows every 4) carries
    the training episodes completed since the last row, so that the resumed run's next row (12)
    averages the same episodes as the uninterrupted run's. Before, a resume dropped them and
    ``train_return`` differed."""
    small_ppo_config["logging_config"].update(
        log_interval=4, checkpoint_interval=3, keep_checkpoints=10
    )
    small_ppo_config["train_config"].update(total_env_steps=256 * 16, eval_interval=8)
    config = write_config(tmp_path / "c.json", small_ppo_config)
    uninterrupted = start_training(config, seed=5).run.path
    assert _checkpoints(uninterrupted) == [3, 6, 9, 12, 15, 16]

    # A run killed after its checkpoint at update 9: the newer checkpoints never happened.
    interrupted = tmp_path / "interrupted"
    shutil.copytree(uninterrupted, interrupted)
    for step in (12, 15, 16):
        shutil.rmtree(interrupted / "checkpoints" / str(step))
    assert main(["resume", str(interrupted)]) == 0

    rows = _deterministic_columns(uninterrupted)
    assert [row["update"] for row in rows] == ["4", "8", "12", "16"]
    assert int(rows[2]["train_episodes"]) > 0
    assert _deterministic_columns(interrupted) == rows


def test_sac_resumed_at_the_end_of_its_warm_up_equals_uninterrupted(tmp_path, small_sac_config):
    """The checkpoint at the end of the warm-up (update 3), after which the first gradient step
    is taken, and a later one, with two envs and a replay that wraps around: the restored learner
    takes the last env step's transitions back out of the replay as pending ones, so its first
    step is the one the uninterrupted run took. Before, that step ran without pending
    transitions, compiled differently, and the optimiser state differed in its last bits."""
    small = {"layers": [32, 32], "activation": "relu"}
    small_sac_config["model_config"]["policy"]["network"] = small
    small_sac_config["model_config"]["q"] = small
    small_sac_config["logging_config"].update(checkpoint_interval=1, keep_checkpoints=10)
    small_sac_config["learner_config"].update(
        num_envs=2,
        learning_starts=300,
        steps_per_update=50,
        batch_size=32,
        train_freq=3,
        gradient_steps=2,
    )
    small_sac_config["learner_config"]["buffer_config"]["buffer_size"] = 150
    small_sac_config["train_config"].update(total_env_steps=100 * 6, eval_interval=None)
    config = write_config(tmp_path / "c.json", small_sac_config)
    uninterrupted = start_training(config, seed=2).run.path
    assert _checkpoints(uninterrupted) == [1, 2, 3, 4, 5, 6]
    final = _final_state(uninterrupted)
    for step in (3, 4):
        interrupted = tmp_path / f"interrupted-at-{step}"
        shutil.copytree(uninterrupted, interrupted)
        for later in range(step + 1, 7):
            shutil.rmtree(interrupted / "checkpoints" / str(later))
        assert main(["resume", str(interrupted)]) == 0
        for a, b in zip(_final_state(interrupted), final, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"resumed from checkpoint {step}")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_checkpoints_the_update_and_resume_equals_uninterrupted(
    stop, tmp_path, small_ppo_config
):
    """Ctrl-C (SIGINT) lets the update in progress finish and checkpoints it, even when the
    config asks for no checkpoint before the end; resuming from it gives the uninterrupted run.
    SIGTERM (what SLURM's time limit, ``timeout`` and preemption send) does the same; it killed
    the run and its progress since the last checkpoint."""
    total_updates = 60
    small_ppo_config["logging_config"]["checkpoint_interval"] = None
    small_ppo_config["train_config"]["total_env_steps"] = 256 * total_updates
    config = write_config(tmp_path / "c.json", small_ppo_config)
    process, run_dir = _train_in_a_subprocess(config, subprocess.PIPE)
    metrics = run_dir / "metrics.csv"
    _wait_while_training(process, lambda: metrics.is_file() and len(read_metrics(metrics)) >= 3)
    process.send_signal(stop)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + stop, err
    (stopped_at,) = _checkpoints(run_dir)
    assert 3 <= stopped_at < total_updates
    assert (
        f"jaxl: interrupted; {run_dir} has a checkpoint at update {stopped_at}: continue it "
        f"with 'jaxl resume {run_dir}'" in err
    ), err
    assert "Traceback" not in err

    assert main(["resume", str(run_dir)]) == 0
    uninterrupted = start_training(config, seed=5).run.path
    for a, b in zip(_final_state(run_dir), _final_state(uninterrupted), strict=True):
        np.testing.assert_array_equal(a, b)
    assert _deterministic_columns(run_dir) == _deterministic_columns(uninterrupted)


def test_a_second_sigterm_stops_at_once_with_sigterms_status(tmp_path, small_ppo_config):
    """Two SIGTERMs (a scheduler that repeats its signal, or ``kill`` typed twice) stop the run
    at once with status 143, as one does. Before, the second one ended it with 130, Ctrl-C's
    status."""
    small_ppo_config["logging_config"]["checkpoint_interval"] = None
    small_ppo_config["train_config"]["total_env_steps"] = 256 * 400
    config = write_config(tmp_path / "c.json", small_ppo_config)
    process, run_dir = _train_in_a_subprocess(config, subprocess.PIPE)
    metrics = run_dir / "metrics.csv"
    _wait_while_training(process, lambda: metrics.is_file() and len(read_metrics(metrics)) >= 3)
    process.send_signal(signal.SIGTERM)
    # The second is sent once the first has been handled (two pending signals are one), while
    # the update in progress finishes and is checkpointed.
    before = []
    while "SIGTERM: stopping after this update" not in (before or [""])[-1]:
        before.append(process.stderr.readline())
        assert before[-1], before  # not the end of its output
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and err.rstrip().splitlines()[-1].startswith(
        "jaxl: interrupted"
    ), err


def test_the_seed_comes_from_seed_then_the_config_then_zero(tmp_path, small_ppo_config, capsys):
    """Training from a run's config.json repeats its seed; --seed replaces it. Before, --set
    seed=5 was accepted and the run trained with seed 0."""
    small_ppo_config["train_config"].update(total_env_steps=256, eval_episodes=1)
    config = write_config(tmp_path / "c.json", small_ppo_config)

    def train(*extra: str) -> Path:
        assert main(["train", str(config), *extra]) == 0
        return Path(capsys.readouterr().out.strip())

    assert "-seed0-" in train().name
    run = train("--set", "seed=5")
    assert "-seed5-" in run.name
    assert main(["train", str(run / "config.json")]) == 0
    again = Path(capsys.readouterr().out.strip())
    assert "-seed5-" in again.name
    assert _deterministic_columns(again) == _deterministic_columns(run)
    assert "-seed7-" in train("--set", "seed=5", "--seed", "7").name


def test_deferred_interrupt_asks_first_stops_second_and_respects_an_ignored_sigint():
    from jaxl.training.interrupts import StopNow, deferred_interrupt

    previous = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with deferred_interrupt() as stop_requested:
            os.kill(os.getpid(), signal.SIGINT)
            assert stop_requested()
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)  # the handler runs at the next bytecode
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        # A second SIGTERM stops at once too, naming itself: jaxl exits with 143 for it, not 130.
        with deferred_interrupt() as stop_requested:
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop_requested() == signal.SIGTERM
            with pytest.raises(StopNow) as stopped:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
        assert stopped.value.signal_number == signal.SIGTERM
        # While a checkpoint is written (held), a second signal waits for it to be complete,
        # then stops: one that broke off orbax's write left the process hanging at its exit.
        # A third does not wait.
        with deferred_interrupt() as stop_requested:
            os.kill(os.getpid(), signal.SIGINT)
            with pytest.raises(StopNow) as stopped:
                with stop_requested.held():
                    os.kill(os.getpid(), signal.SIGTERM)
                    time.sleep(0.2)
                    finished_the_write = True
            assert finished_the_write and stopped.value.signal_number == signal.SIGTERM
            with pytest.raises(StopNow), stop_requested.held():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.2)
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(1)
                raise AssertionError("the third signal did not stop it")
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as under nohup
        with deferred_interrupt() as stop_requested:
            os.kill(os.getpid(), signal.SIGINT)
            assert not stop_requested()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_train_and_resume_say_where_they_start_and_what_they_reached(
    tmp_path, small_ppo_config, capsys
):
    # Without a terminal, the run's result was only in evaluation.json, and resume began
    # without saying from where.
    small_ppo_config["train_config"].update(total_env_steps=256 * 10, eval_episodes=2)
    config = write_config(tmp_path / "c.json", small_ppo_config)
    assert main(["train", str(config)]) == 0
    out, err = capsys.readouterr()
    run_dir = Path(out.strip())
    final = json.loads((run_dir / "evaluation.json").read_text())
    assert (
        f"jaxl: final evaluation at update 10 (2,560 env steps): mean return "
        f"{final['mean_return']:.2f} (std {final['std_return']:.2f}) over 2 episodes; "
        f"{run_dir / 'evaluation.json'}"
    ) in err.splitlines(), err
    shutil.rmtree(run_dir / "checkpoints" / "10")
    (run_dir / "evaluation.json").unlink()
    assert main(["resume", str(run_dir)]) == 0
    err = capsys.readouterr().err
    assert f"jaxl: resuming {run_dir} from update 5 of 10 (1,280 env steps)" in err, err
    assert "jaxl: final evaluation at update 10" in err, err


def test_resuming_a_finished_run_changes_nothing(tmp_path, small_ppo_config, capsys):
    small_ppo_config["train_config"].update(total_env_steps=256 * 2, eval_episodes=1)
    run_dir = start_training(write_config(tmp_path / "c.json", small_ppo_config), seed=0).run.path
    before = tree_files(run_dir)
    assert main(["resume", str(run_dir)]) == 0
    out, err = capsys.readouterr()
    assert out == f"{run_dir}\n"
    assert "already reached its budget; nothing to resume" in err
    assert tree_files(run_dir) == before

    # Stopped between its final checkpoint and evaluation.json: resume writes the same file
    # from the final checkpoint. Before, it pointed to the missing file.
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    (run_dir / "evaluation.json").unlink()
    assert main(["resume", str(run_dir)]) == 0
    assert "evaluation.json was missing or unreadable; wrote it from the final checkpoint" in (
        capsys.readouterr().err
    )
    assert json.loads((run_dir / "evaluation.json").read_text()) == evaluation
    # A damaged one too: resume said the final evaluation was in it.
    (run_dir / "evaluation.json").write_text('{"mean_ret')
    assert main(["resume", str(run_dir)]) == 0
    assert "evaluation.json was missing or unreadable" in capsys.readouterr().err
    assert json.loads((run_dir / "evaluation.json").read_text()) == evaluation


def test_evaluating_the_final_checkpoint_reproduces_evaluation_json(
    tmp_path, small_ppo_config, capsys
):
    from jaxl.training.session import evaluate_run

    small_ppo_config["train_config"].update(total_env_steps=256 * 2, eval_episodes=3)
    run_dir = start_training(write_config(tmp_path / "c.json", small_ppo_config), seed=4).run.path
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    # Before, evaluation.json lacked the env, the evaluation seed and the extremes that
    # `jaxl eval --json` gives.
    assert evaluation["env_id"] == "CartPole-v1" and evaluation["seed"] == 4 + 1_000_003
    assert evaluation["min_return"] == min(evaluation["returns"])
    assert evaluation["max_return"] == max(evaluation["returns"])
    assert evaluate_run(run_dir, episodes=3) == {"run_dir": str(run_dir), **evaluation}
    # So does `jaxl eval RUN_DIR` with no options: its episodes default to the config's
    # eval_episodes (before, to 10).
    assert main(["eval", str(run_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"run_dir": str(run_dir), **evaluation}


def test_original_main_py_interface(tmp_path, small_ppo_config):
    small_ppo_config["train_config"].update(total_env_steps=256 * 2, eval_episodes=1)
    config = write_config(tmp_path / "c.json", small_ppo_config)
    result = subprocess.run(
        [sys.executable, "jaxl/main.py", f"--config_path={config}", "--run_seed=1", "--device=cpu"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert (run_dir / "metrics.csv").is_file() and (run_dir / "checkpoints" / "2").is_dir()
    assert '"seed": 1' in (run_dir / "config.json").read_text()
