"""Bad input gets one clear error naming the culprit, creates no run directory and changes no file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from conftest import load_example, tree_files, write_config

from jaxl.cli import main
from jaxl.config import ConfigError, load_config
from jaxl.config.loading import parse_config


def _train_ok(tmp_path, data, capsys) -> Path:
    """Train ``data`` with ``jaxl train`` into ``tmp_path/runs``; the run directory."""
    config = write_config(tmp_path / "train.json", data)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 0
    return Path(capsys.readouterr().out.strip())


def _tiny_bc_run(tmp_path, capsys, metadata=None, **learner_config) -> tuple[Path, Path]:
    """A 4-update BC run on a tiny CartPole dataset; ``(run directory, dataset)``."""
    from conftest import write_cartpole_dataset

    dataset = tmp_path / "expert.npz"
    write_cartpole_dataset(dataset, metadata)
    data = load_example("il/cartpole-bc.json")
    data["learner_config"]["buffer_config"]["load_path"] = str(dataset)
    data["learner_config"].update(learner_config)
    data["train_config"].update(total_updates=4, eval_episodes=1, eval_interval=None)
    return _train_ok(tmp_path, data, capsys), dataset


def _run_train(tmp_path, data, capsys, *extra):
    config = write_config(tmp_path / "config.json", data)
    out = tmp_path / "runs"
    code = main(["train", str(config), "--out", str(out), *extra])
    assert code == 2
    assert not out.exists(), "a config that fails validation must not create a run directory"
    return capsys.readouterr().err


def test_unknown_key(tmp_path, capsys):
    data = load_example("rl/cartpole-ppo.json")
    data["learner_config"]["gama"] = 0.9
    err = _run_train(tmp_path, data, capsys)
    assert "learner_config.gama: unknown key (did you mean 'gamma'?)" in err


@pytest.mark.parametrize(
    ("example", "typo", "hint"),
    [("rl/pendulum-sac.json", "bach_size", "batch_size"), ("il/cartpole-bc.json", "los", "loss")],
)
def test_unknown_key_is_matched_against_its_own_learners_keys(
    example, typo, hint, tmp_path, capsys
):
    # Before, every learner's keys were matched against PPO's: bach_size -> 'minibatch_size'.
    data = load_example(example)
    data["learner_config"][typo] = 1
    err = _run_train(tmp_path, data, capsys)
    assert f"learner_config.{typo}: unknown key (did you mean '{hint}'?)" in err


@pytest.mark.parametrize("example", ["rl/cartpole-a2c.json", "rl/cartpole-reinforce.json"])
def test_rollout_learners_refuse_a_buffer_size_they_would_ignore(example, tmp_path, capsys):
    # Before, only PPO checked it; A2C and REINFORCE took buffer_size 7 and ignored it.
    data = load_example(example)
    data["learner_config"]["buffer_config"] = {"buffer_size": 7}
    err = _run_train(tmp_path, data, capsys)
    assert "learner_config.buffer_config.buffer_size: must equal num_envs * num_steps" in err
    assert "size it with num_envs and num_steps and leave buffer_size null" in err, err


def test_a_typo_inside_a_schedule_is_the_only_problem_reported(tmp_path, capsys):
    # learning_rate is a number or a schedule; before, the typo came with "expected a positive
    # number, got {...}" from the number branch, which the object was never meant for.
    schedule = '{"schedule": "linear", "init_value": 0.001, "end_valu": 0}'
    data = load_example("rl/cartpole-ppo.json")
    err = _run_train(tmp_path, data, capsys, "--set", f"optimizer_config.learning_rate={schedule}")
    assert err.splitlines()[1:] == [
        "  optimizer_config.learning_rate.end_valu: unknown key (did you mean 'end_value'?)"
    ], err
    # A schedule that its own checks refuse: the same (the refusal sits at the schedule's path).
    growing = '{"schedule": "exponential", "init_value": 0.001, "decay_rate": 2}'
    err = _run_train(tmp_path, data, capsys, "--set", f"optimizer_config.learning_rate={growing}")
    assert len(err.splitlines()) == 2, err
    assert "optimizer_config.learning_rate.end_value: a growing exponential schedule" in err, err
    # A value that fits neither member: one line naming both, not one line per member.
    err = _run_train(tmp_path, data, capsys, "--set", 'optimizer_config.learning_rate="fast"')
    assert err.splitlines()[1:] == [
        '  optimizer_config.learning_rate: expected a positive number or an object, got "fast"'
    ], err


def test_wrong_type(tmp_path, capsys):
    data = load_example("rl/cartpole-ppo.json")
    data["learner_config"]["buffer_config"] = {"buffer_size": "1e6"}
    err = _run_train(tmp_path, data, capsys)
    assert 'learner_config.buffer_config.buffer_size: expected a positive integer, got "1e6"' in err


def test_out_of_range_value(tmp_path, capsys):
    data = load_example("rl/cartpole-ppo.json")
    data["learner_config"]["gamma"] = 1.5
    err = _run_train(tmp_path, data, capsys)
    assert "learner_config.gamma: expected a number in [0, 1], got 1.5" in err


def test_override_is_validated_like_the_file(tmp_path, capsys):
    data = load_example("rl/cartpole-ppo.json")
    err = _run_train(tmp_path, data, capsys, "--set", "learner_config.num_envs=-2")
    assert "learner_config.num_envs: expected a positive integer, got -2" in err


def test_missing_dataset_file(tmp_path, capsys):
    data = load_example("il/cartpole-bc.json")
    data["learner_config"]["buffer_config"]["load_path"] = str(tmp_path / "missing.npz")
    err = _run_train(tmp_path, data, capsys)
    assert "learner_config.buffer_config.load_path: file not found:" in err
    assert "missing.npz" in err
    data["learner_config"]["buffer_config"]["load_path"] = str(tmp_path)
    err = _run_train(tmp_path, data, capsys)
    assert f"learner_config.buffer_config.load_path: {tmp_path} is a folder, not a dataset" in err
    from jaxl.buffers import load_buffer

    with pytest.raises(ValueError, match=f"buffer file {tmp_path} is a folder, not a dataset"):
        load_buffer(tmp_path)


def test_unknown_env_id(tmp_path, capsys):
    data = load_example("rl/cartpole-ppo.json")
    data["learner_config"]["env_config"]["env_id"] = "CartPol-v1"
    err = _run_train(tmp_path, data, capsys)
    assert "learner_config.env_config.env_id: unknown environment 'CartPol-v1'" in err
    assert "did you mean 'CartPole-v1'" in err


def test_an_env_kwargs_value_the_env_fails_on_is_named(tmp_path, capsys):
    # Pendulum's constructor takes g="abc"; its first step raised a TypeError from inside
    # Gymnasium, and the run ended in a 55-line traceback.
    from jaxl.config.schema import EnvConfig
    from jaxl.envs import make_env
    from jaxl.envs.make import EnvError

    env = make_env(EnvConfig(env_id="Pendulum-v1", env_kwargs={"g": "abc"}))
    env.reset(seed=0)
    with pytest.raises(EnvError) as error:
        env.step(env.action_space.sample())
    assert str(error.value) == (
        "Pendulum-v1: step() raised TypeError: unsupported operand type(s) for /: 'str' and "
        "'float'; the env was made with learner_config.env_config.env_kwargs {'g': 'abc'}: "
        "check their values"
    )
    env.close()
    data = load_example("rl/pendulum-sac.json")
    data["learner_config"]["env_config"]["env_kwargs"] = {"g": "abc"}
    config = write_config(tmp_path / "c.json", data)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "jaxl: error: Pendulum-v1: step() raised TypeError" in err and "Traceback" not in err
    assert not list((tmp_path / "runs").rglob("config.json"))  # nothing saved, nothing kept


def test_unknown_learner(tmp_path, capsys):
    data = load_example("rl/cartpole-ppo.json")
    data["learner_config"]["learner"] = "ppx"
    err = _run_train(tmp_path, data, capsys)
    assert "learner_config.learner: unknown learner 'ppx'" in err


def test_missing_required_key_and_all_problems_listed(tmp_path):
    data = load_example("rl/cartpole-ppo.json")
    del data["learner_config"]["env_config"]
    data["train_config"]["eval_episodes"] = 0
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path / "c.json", data))
    assert "learner_config.env_config: missing required key" in error.value.problems
    assert "train_config.eval_episodes: expected a positive integer, got 0" in error.value.problems


def test_missing_config_file(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nope.json"), "--out", str(tmp_path / "runs")]) == 2
    assert (
        capsys.readouterr().err == f"jaxl: error: config file not found: {tmp_path / 'nope.json'}\n"
    )
    assert not (tmp_path / "runs").exists()
    # A folder exists but is no config: "not found" sent one looking for a missing file.
    assert main(["train", str(tmp_path), "--out", str(tmp_path / "runs")]) == 2
    assert capsys.readouterr().err == (
        f"jaxl: error: config file {tmp_path} is a folder, not a JSON config\n"
    )
    assert not (tmp_path / "runs").exists()


def test_bad_device(tmp_path, capsys):
    assert main(["train", "x.json", "--device", "tpu"]) == 2
    assert "--device: expected cpu, gpu or gpu:IDS" in capsys.readouterr().err


def test_gpu_asked_for_without_one(tmp_path):
    # A fresh process: JAX picks its backends once per process.
    config = tmp_path / "missing.json"
    command = [sys.executable, "-m", "jaxl.cli", "train", str(config), "--device", "gpu:0"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 2, result.stderr
    if "no usable CUDA GPU" in result.stderr:
        assert result.stderr.startswith("jaxl: error: --device gpu:0: no usable CUDA GPU for JAX")
        assert "jaxl[gpu]" in result.stderr and "Traceback" not in result.stderr
    else:  # a machine with a GPU gets as far as the missing config
        assert result.stderr == f"jaxl: error: config file not found: {config}\n", result.stderr


@pytest.mark.parametrize(
    "example", ["rl/cartpole-reinforce.json", "rl/cartpole-a2c.json", "rl/cartpole-ppo.json"]
)
def test_policy_gradient_learners_refuse_a_deterministic_policy(example, tmp_path, capsys):
    data = load_example(example)
    data["learner_config"]["env_config"] = {"env_id": "Pendulum-v1"}
    data["model_config"]["policy"]["distribution"] = "deterministic"
    err = _run_train(tmp_path, data, capsys)
    learner = data["learner_config"]["learner"]
    assert (
        "model_config.policy.distribution: 'deterministic' has no log-probability, which "
        f"{learner}'s policy gradient needs" in err
    ), err


def test_json_that_python_would_read_wrongly_or_not_at_all(tmp_path, capsys):
    data = load_example("rl/cartpole-ppo.json")
    # A key named twice: json keeps the last silently, so an edit above it did not apply.
    config = tmp_path / "twice.json"
    config.write_text(json.dumps(data).replace('"gamma": 0.99', '"gamma": 0.9, "gamma": 0.99'))
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    assert "not valid JSON (an object names 'gamma' more than once)" in capsys.readouterr().err
    # Nesting deeper than Python's recursion limit: a RecursionError traceback.
    config.write_text("[" * 100_000)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    assert "not valid JSON (nested too deeply to read)" in capsys.readouterr().err
    # An object given with --set that is not JSON was taken as a string ("expected an object").
    schedule = '{"schedule": "linear", "init_value": Infinity}'
    err = _run_train(tmp_path, data, capsys, "--set", f"optimizer_config.learning_rate={schedule}")
    assert "--set optimizer_config.learning_rate: not valid JSON (Infinity is not a JSON" in err
    assert """needs JSON quotes: optimizer_config.learning_rate='"..."'""" in err, err
    assert not (tmp_path / "runs").exists()


def test_physics_that_overflow_stop_the_run_with_the_env_named(tmp_path, capsys):
    # The infinite observations made the policy NaN, and the run failed later with Gymnasium's
    # "AssertionError: np.int32(-1) invalid" traceback.
    data = load_example("rl/cartpole-ppo.json")
    data["learner_config"]["env_config"] = {
        "env_id": "jaxl/CartPole-v1",
        "task_seed": 1,
        "parameter_overrides": {"force": {"range": [1e30, 1e31]}},
    }
    config = write_config(tmp_path / "c.json", data)
    with pytest.warns(RuntimeWarning, match="overflow"):  # NumPy's, inside CartPole
        assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "jaxl: error: jaxl/CartPole-v1: step returned a non-finite observation (NaN or infinity) "
        "with the physics {"
    ), err
    assert "'force': 7.38" in err and "check the parameter ranges" in err, err
    # Before, the run directory stayed behind with no checkpoint: resume could not continue it
    # ("has no checkpoints yet") and `jaxl plot runs/cartpole-ppo/*` stopped at it.
    assert "jaxl: nothing had been saved, so " in err and err.endswith(" was removed\n")
    assert list((tmp_path / "runs" / "cartpole-ppo").iterdir()) == []


def test_only_a_run_directory_with_nothing_saved_is_removed(finished_run, tmp_path):
    from jaxl.training.run_dir import RunDirectory, remove_if_nothing_saved

    kept = tmp_path / "kept"
    shutil.copytree(finished_run, kept)
    before = tree_files(kept)
    assert not remove_if_nothing_saved(RunDirectory(kept))  # it has checkpoints
    assert tree_files(kept) == before

    for name in os.listdir(kept / "checkpoints"):
        shutil.rmtree(kept / "checkpoints" / name)
    (kept / "notes.txt").write_text("mine")
    assert not remove_if_nothing_saved(RunDirectory(kept))  # a file training did not write
    (kept / "notes.txt").unlink()
    assert not remove_if_nothing_saved(RunDirectory(kept))  # an evaluation.json
    (kept / "evaluation.json").unlink()
    # Rows of metrics show how a run failed: they are kept, with or without a checkpoint.
    assert not remove_if_nothing_saved(RunDirectory(kept)) and (kept / "metrics.csv").exists()
    header = (kept / "metrics.csv").read_text().splitlines()[0]
    (kept / "metrics.csv").write_text(header + "\n")
    assert remove_if_nothing_saved(RunDirectory(kept)) and not kept.exists()


def test_only_jaxl_notes_on_an_error_are_printed(capsys):
    from jaxl.cli import _print_notes

    error = RuntimeError("out of memory")
    error.add_note("For simplicity, JAX has removed its internal frames from the traceback")
    error.add_note("jaxl: nothing had been saved, so /runs/x was removed")
    _print_notes(error)
    assert capsys.readouterr().err == "jaxl: nothing had been saved, so /runs/x was removed\n"


def test_demo_checks_where_its_dataset_goes_before_training(tmp_path, capsys):
    # It trained PPO for about 20 s, then failed with gather's message, which suggested a
    # dataset path inside the folder in the way.
    (tmp_path / "cartpole-expert.npz").mkdir()
    assert main(["demo", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"jaxl: error: --out: {tmp_path / 'cartpole-expert.npz'} is a directory; the demo writes "
        "its expert data there; name another --out folder\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cartpole-expert.npz"]


def test_nan_and_infinity_are_refused(tmp_path, capsys):
    data = load_example("rl/cartpole-ppo.json")
    err = _run_train(tmp_path, data, capsys, "--set", "learner_config.gamma=NaN")
    assert 'learner_config.gamma: expected a number in [0, 1], got "NaN"' in err, err
    err = _run_train(tmp_path, data, capsys, "--set", "learner_config.clip_eps=-Infinity")
    assert 'learner_config.clip_eps: expected a positive number, got "-Infinity"' in err, err
    # Python's json writes NaN for float("nan"); such a file is not JSON and is refused as such.
    config = tmp_path / "nan.json"
    config.write_text(json.dumps(data).replace('"gamma": 0.99', '"gamma": NaN'))
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "not valid JSON (NaN is not a JSON number)" in err, err
    assert not (tmp_path / "runs").exists()
    config.write_text(json.dumps(data).replace('"gamma": 0.99', '"gamma": 1e400'))
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    assert "not valid JSON (1e400 is too large for a number)" in capsys.readouterr().err
    err = _run_train(tmp_path, data, capsys, "--set", "train_config.total_env_steps=3000000000")
    assert "train_config.total_env_steps: expected an integer from 1 to 2**31 - 1" in err, err
    # Configs built in Python are checked too (an integer too large for a float is no crash).
    data["seed"] = 10**400
    with pytest.raises(ConfigError, match="seed: expected an integer from 0 to 2"):
        parse_config(data)
    data["seed"] = None
    data["learner_config"]["gamma"] = float("nan")
    with pytest.raises(ConfigError, match="learner_config.gamma: expected a number in"):
        parse_config(data)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ('model_config.q={"layers": [64]}', "model_config.q: only sac has Q networks"),
        ("model_config.num_q=3", "model_config.num_q: only sac has Q networks"),
        (
            "optimizer_config.weight_decay=0.5",
            "weight_decay: read by optimizer adamw only, and optimizer is 'adam'",
        ),
        ("optimizer_config.rmsprop_decay=0.9", "rmsprop_decay: read by optimizer rmsprop only"),
        (
            "optimizer_config.learning_rate.decay_rate=0.5",
            "decay_rate: read by schedule exponential only, and schedule is 'linear'",
        ),
        ("learner_config.obs_clip=5", "obs_clip: clips normalised observations, and normalize_obs"),
        ("learner_config.reward_clip=5", "reward_clip: clips scaled rewards, and normalize_reward"),
        (
            "learner_config.buffer_config.buffer_type=trajectory",
            "buffer_type: ppo learns from transitions",
        ),
    ],
)
def test_keys_the_learner_would_ignore_are_refused(override, message, tmp_path, capsys):
    # Each was accepted and had no effect (weight_decay with adam trained exactly as without).
    err = _run_train(tmp_path, load_example("rl/cartpole-ppo.json"), capsys, "--set", override)
    assert message in err, err


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            ["model_config.policy.init_std=10"],
            "init_std: expected a number from e**-20 to e**2 (= 7.389), the range Gaussian heads "
            "clip their std to, got 10.0",
        ),
        (
            ["optimizer_config.optimizer=rmsprop", "optimizer_config.rmsprop_decay=1.0"],
            "rmsprop_decay: expected a number in [0, 1), got 1.0",
        ),
        (
            [
                'optimizer_config.learning_rate={"schedule": "exponential", "init_value": 1e-3, '
                '"end_value": 1e-2, "decay_rate": 0.5}'
            ],
            "end_value: a decaying exponential schedule (decay_rate 0.5 < 1) floors at end_value, "
            "which must be at most init_value (0.001), got 0.01",
        ),
        (
            [
                'optimizer_config.learning_rate={"schedule": "exponential", "init_value": 1e-3, '
                '"decay_rate": 2.0}'
            ],
            "end_value: a growing exponential schedule (decay_rate 2 > 1) needs a cap",
        ),
        (
            ["learner_config.minibatch_size=1"],
            "normalize_advantage: normalising advantages over a batch of one makes each 0",
        ),
        (
            ["train_config.total_env_steps=null", "train_config.total_updates=10000000"],
            "train_config.total_updates: 10000000 updates of 256 env steps are 2560000000 env "
            "steps, more than the 2**31 - 1",
        ),
        (  # hung building 8e22 envs; num_steps=1e12 aborted inside XLA without a message
            ["learner_config.num_envs=80000000000000000000000"],
            "learner_config: one update takes 2560000000000000000000000 env steps",
        ),
        (
            ["learner_config.num_steps=1000000000000"],
            "learner_config: one update takes 8000000000000 env steps",
        ),
    ],
)
def test_values_that_would_silently_do_nothing_or_overflow_are_refused(
    overrides, message, tmp_path, capsys
):
    # Each was accepted: a std held at its clip with no gradient, RMSprop stepping lr * g / eps,
    # a learning rate constant at end_value (or growing without end), a policy gradient of 0,
    # an env-step counter that wraps.
    sets = [arg for override in overrides for arg in ("--set", override)]
    err = _run_train(tmp_path, load_example("rl/cartpole-ppo.json"), capsys, *sets)
    assert message in err, err


@pytest.mark.parametrize(
    ("example", "keys", "message"),
    [
        (
            "rl/cartpole-reinforce.json",
            {"baseline": False, "vf_coef": 0.25},
            "learner_config.vf_coef: weights the baseline's value loss, and baseline is false",
        ),
        (
            "rl/pendulum-sac.json",
            {"autotune_alpha": False, "target_entropy": -2.0},
            "learner_config.target_entropy: the temperature is learned towards it",
        ),
        (
            "rl/param_pendulum-ppo.json",
            {"env_config": {"env_id": "jaxl/Pendulum-v1", "task_seed": 0, "discrete_bins": 5}},
            "discrete_bins: levels of control_mode 'discrete', and control_mode is 'continuous'",
        ),
    ],
)
def test_other_learners_keys_that_would_be_ignored_are_refused(
    example, keys, message, tmp_path, capsys
):
    data = load_example(example)
    data["learner_config"].update(keys)
    err = _run_train(tmp_path, data, capsys)
    assert message in err, err


@pytest.mark.parametrize(
    ("example", "distribution", "key", "value"),
    [
        ("rl/cartpole-ppo.json", "auto", "init_std", 0.5),
        ("rl/cartpole-a2c.json", "categorical", "min_std", 0.1),
        ("rl/cartpole-reinforce.json", "auto", "std", "state_dependent"),
    ],
)
def test_gaussian_head_keys_on_a_head_without_a_std_are_refused(
    example, distribution, key, value, tmp_path, capsys
):
    # Accepted and ignored before: a categorical head has no standard deviation.
    data = load_example(example)
    data["model_config"]["policy"].update({"distribution": distribution, key: value})
    err = _run_train(tmp_path, data, capsys)
    kind = "deterministic" if distribution == "deterministic" else "categorical"
    assert (
        f"model_config.policy.{key}: read by Gaussian heads only, and this policy's head is {kind}"
        in err
    ), err


def test_a_run_made_before_a_key_was_refused_stays_readable(tmp_path, capsys):
    """A run whose config.json holds a key that is refused today because the learner never
    read it (made before the check existed) can still be evaluated; a new run from it cannot."""
    data = load_example("rl/cartpole-ppo.json")
    data["train_config"].update(total_env_steps=256, eval_episodes=1)
    run = _train_ok(tmp_path, data, capsys)
    recorded = json.loads((run / "config.json").read_text())
    recorded["model_config"]["q"] = {"layers": [64, 64], "activation": "relu"}
    recorded["optimizer_config"]["weight_decay"] = 0.5
    recorded["model_config"]["policy"]["init_std"] = 0.5
    recorded["train_config"].update(total_env_steps=None, total_updates=10_000_000)
    (run / "config.json").write_text(json.dumps(recorded))
    assert main(["eval", str(run), "--episodes", "1"]) == 0
    capsys.readouterr()
    assert main(["train", str(run / "config.json"), "--out", str(tmp_path / "again")]) == 2
    assert "optimizer_config.weight_decay: read by optimizer adamw only" in (
        capsys.readouterr().err
    )


def test_runs_and_datasets_with_a_task_seed_and_per_episode_physics_stay_readable(tmp_path, capsys):
    # Refused in new configs since the held-out fix; runs, and datasets gathered from such runs
    # with --task-seed, recorded the pair before.
    data = load_example("rl/cartpole-ppo.json")
    data["learner_config"]["env_config"] = {"env_id": "jaxl/CartPole-v1", "resample": "episode"}
    data["train_config"].update(total_env_steps=256, eval_episodes=1)
    run = _train_ok(tmp_path, data, capsys)
    recorded = json.loads((run / "config.json").read_text())
    # Physics redrawn at every episode have no one set of values. Before, the run recorded the
    # defaults, which were never simulated, as its drawn physics (datasets did too).
    assert recorded["task_params"] is None
    recorded["learner_config"]["env_config"]["task_seed"] = 3
    (run / "config.json").write_text(json.dumps(recorded))
    assert main(["eval", str(run), "--episodes", "1"]) == 0
    assert main(["eval", str(run), "--episodes", "1", "--task-seed", "4"]) == 0
    capsys.readouterr()

    env = {"env_id": "jaxl/CartPole-v1", "task_seed": 3, "resample": "episode"}
    bc_run, _ = _tiny_bc_run(tmp_path / "bc", capsys, metadata={"env": env}, env_config=None)
    assert (bc_run / "evaluation.json").is_file()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny finished PPO run with three checkpoints and a metrics row per update."""
    root = tmp_path_factory.mktemp("corrupt")
    data = load_example("rl/cartpole-ppo.json")
    data["logging_config"].update(log_interval=1, checkpoint_interval=2, keep_checkpoints=3)
    data["train_config"].update(total_env_steps=256 * 6, eval_interval=None, eval_episodes=1)
    from jaxl.training.session import start_training

    result = start_training(write_config(root / "c.json", data), seed=0, out=str(root / "runs"))
    return result.run.path


def test_a_task_seed_for_a_run_without_variants_names_the_runs_env(finished_run, tmp_path, capsys):
    # Before, "task_seed only applies to parameterized envs ... (did you mean
    # 'jaxl/CartPole-v1'?)": a config key, and a change the run cannot make.
    expected = (
        "jaxl: error: task seed 2: the run's env 'CartPole-v1' has no variants; only the "
        "parameterized envs (jaxl/...; see `jaxl envs list`) have\n"
    )
    assert main(["eval", str(finished_run), "--task-seed", "2"]) == 2
    assert capsys.readouterr().err == expected
    out = tmp_path / "expert.npz"
    assert (
        main(
            ["gather", str(finished_run), "--episodes", "1", "--out", str(out), "--task-seed", "2"]
        )
        == 2
    )
    assert capsys.readouterr().err == expected and not out.exists()


def _break_metrics_cell(run: Path) -> str:
    lines = (run / "metrics.csv").read_text().splitlines()
    cells = lines[1].split(",")
    cells[2] = "abc"  # wall_time of update 1
    lines[1] = ",".join(cells)
    (run / "metrics.csv").write_text("\n".join(lines) + "\n")
    return "update 1 has 'abc' in column wall_time, not a number"


def _drop_env_steps_column(run: Path) -> str:
    lines = (run / "metrics.csv").read_text().splitlines()
    lines[0] = lines[0].replace("env_steps", "steps")
    (run / "metrics.csv").write_text("\n".join(lines) + "\n")
    return "its header has no env_steps column"


def _tensorboard_as_a_file(run: Path) -> str:
    shutil.rmtree(run / "tensorboard", ignore_errors=True)
    (run / "tensorboard").write_text("")
    return "tensorboard is a file, where the run keeps its TensorBoard events in a folder"


def _record(text: str):
    def damage(run: Path) -> str:
        (run / "checkpoints" / "4" / "record" / "metadata").write_text(text)
        return "checkpoints/4"

    return damage


@pytest.mark.parametrize(
    "damage",
    [
        _break_metrics_cell,
        _drop_env_steps_column,
        _tensorboard_as_a_file,
        _record("[]"),
        _record('{"update": 4, "env_steps": 1024, "wall_time": 1.0, "episodes_since_row": 5}'),
        _record('{"update": 4, "env_steps": 1024}'),
    ],
)
def test_resume_refuses_damaged_run_files_before_changing_anything(
    damage, finished_run, tmp_path, capsys
):
    # Each gave a traceback, the first three after metrics.csv had been rewritten.
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    shutil.rmtree(run / "checkpoints" / "6")
    (run / "evaluation.json").unlink()
    expected = damage(run)
    before = tree_files(run)
    assert main(["resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxl: error: ") and len(err.splitlines()) == 1, err
    assert expected in err, err
    assert tree_files(run) == before


class _RaisesOnDelete:
    def __del__(self) -> None:
        raise ValueError("unrelated")


def test_corrupt_checkpoint(finished_run, capsys, monkeypatch):
    # Whatever Python would print as "Exception ignored" (e.g. orbax's reads still in flight
    # when the restore fails, reporting to its closed event loop) must not reach the user.
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    latest = finished_run / "checkpoints" / "6"
    damaged = [p for p in latest.rglob("*") if p.is_file() and p.parent.name == "d"]
    assert damaged, "expected orbax data files to corrupt"
    for path in damaged:
        path.write_bytes(b"\x00corrupt\x00")
    before = tree_files(finished_run)
    for command in (
        ["eval", str(finished_run)],
        ["resume", str(finished_run)],
        ["gather", str(finished_run), "--episodes", "1", "--out", str(finished_run / "x.npz")],
    ):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "checkpoints/6 is corrupt or unreadable" in err, err
        assert "older checkpoints: 4, 2 (--checkpoint N reads one;" in err, err
    time.sleep(0.5)  # the other reads of the failed restore finish meanwhile
    assert not unraisable, [repr(u.exc_value) for u in unraisable]
    _RaisesOnDelete()  # any other unraisable exception still reaches the hook
    assert [repr(u.exc_value) for u in unraisable] == ["ValueError('unrelated')"]
    assert tree_files(finished_run) == before, "a corrupt checkpoint must not change any file"
    # An older, intact checkpoint still evaluates.
    assert main(["eval", str(finished_run), "--checkpoint", "4", "--json", "--episodes", "1"]) == 0


def test_a_truncated_array_file_is_one_line_of_error(finished_run, tmp_path):
    """orbax's message spanned five lines, and the reads the failed restore left behind printed
    thousands more ("Exception ignored in: <coroutine ...>", "Task exception was never
    retrieved"), each with a dump of TensorStore's spec. A fresh process sees all of stderr."""
    run = tmp_path / "run"
    shutil.copytree(finished_run, run, ignore=shutil.ignore_patterns("6"))
    data = sorted(p for p in (run / "checkpoints" / "4").rglob("*") if p.parent.name == "d")
    for path in data:
        path.write_bytes(path.read_bytes()[:20])
    command = [sys.executable, "-m", "jaxl.cli", "eval", str(run), "--episodes", "1"]
    for _ in range(3):  # how many reads are still in flight varies from run to run
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr[:3000]
        assert "checkpoints/4 is corrupt or unreadable" in result.stderr


@pytest.mark.parametrize("layers", [[32], [64, 64, 64]])  # other shapes; only new arrays
def test_a_checkpoint_that_does_not_fit_an_edited_config_says_so(
    layers, finished_run, tmp_path, capsys
):
    # It was called corrupt, with the advice to move it out of checkpoints/, which would have
    # moved every intact checkpoint away one by one.
    run = tmp_path / "run"
    shutil.copytree(finished_run, run, ignore=shutil.ignore_patterns("6"))
    config = json.loads((run / "config.json").read_text())
    config["model_config"]["policy"]["network"]["layers"] = layers
    (run / "config.json").write_text(json.dumps(config))
    before = tree_files(run)
    for command in (["eval", str(run)], ["resume", str(run)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"jaxl: error: checkpoint {run / 'checkpoints' / '4'} does not fit ")
        assert "was config.json edited after the run started?" in err and "move" not in err, err
        assert len(err.splitlines()) == 1, err
    assert tree_files(run) == before


_FULL_DISK_SCRIPT = """
set -e
mount -t tmpfs -o size=3m tmpfs "$1"
cp -a "$2" "$1/run"
free=$(df -k "$1" | tail -1 | awk '{print $4}')
dd if=/dev/zero of="$1/fill" bs=1k count=$((free - 28)) 2>/dev/null || true
set +e
eval "\\"\\$3\\" -m jaxl.cli $5" 2>"$1/err1"; echo "rc1=$?"
cp "$1/err1" "$4"
rm "$1/fill"
[ "$6" = resume-again ] || exit 0
"$3" -m jaxl.cli resume "$1/run" 2>/dev/null >/dev/null; echo "rc2=$?"
ls "$1/run/checkpoints"
"""


def _on_a_full_disk(tmp_path: Path, run: Path, command: str, then: str = "") -> tuple[str, list]:
    """Run ``jaxl COMMAND`` (a shell command line; ``$1`` in it is the disk's mount point) with
    ``run`` copied onto a 3 MB disk of its own that has 28 kB left; with ``then="resume-again"``, resume the run once
    the disk has room again. Needs a private mount namespace (``unshare -m``).

    :return: the script's stdout (``rc1=``, ``rc2=`` and the checkpoints after the resume) and
        the first command's stderr lines, less the progress lines.
    """
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace here (unshare -m) to fill a disk in")
    (tmp_path / "mnt").mkdir()
    err = tmp_path / "err"
    script = [
        "unshare", "-m", "sh", "-c", _FULL_DISK_SCRIPT, "sh",
        str(tmp_path / "mnt"), str(run), sys.executable, str(err), command, then,
    ]  # fmt: skip
    result = subprocess.run(script, capture_output=True, text=True, check=False)
    if "mount:" in result.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    assert "rc1=2" in result.stdout, (result.stdout, result.stderr)
    lines = [line for line in err.read_text().splitlines() if not line.startswith("update ")]
    return result.stdout, lines


def test_a_full_disk_while_checkpointing_is_one_line_and_loses_nothing(finished_run, tmp_path):
    """orbax's writer threads printed about 370 lines of tracebacks."""
    run = tmp_path / "run"
    shutil.copytree(finished_run, run, ignore=shutil.ignore_patterns("6", "evaluation.json"))
    stdout, lines = _on_a_full_disk(tmp_path, run, 'resume "$1/run"', then="resume-again")
    assert lines == [
        f"jaxl: resuming {tmp_path / 'mnt' / 'run'} from update 4 of 6 (1,024 env steps)",
        f"jaxl: error: cannot write checkpoint 6 in {tmp_path / 'mnt' / 'run' / 'checkpoints'}: "
        "the disk is full; checkpoint 4 and those before it are intact, so `jaxl resume` "
        "continues from it once there is room",
    ], lines
    # With room again, the run resumes from checkpoint 4 and finishes.
    assert "rc2=0" in stdout and stdout.split()[-3:] == ["2", "4", "6"], stdout


def test_a_full_disk_at_a_new_runs_first_checkpoint_is_one_line(finished_run, tmp_path):
    """A new run (no restore before its first save) printed dozens of "RuntimeError: Event loop
    is closed" tracebacks and asyncio's "Task exception was never retrieved" reports of the
    writes that failed beside the one the error names."""
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(finished_run / "config.json", run)  # the config alone
    command = 'train "$1/run/config.json" --out "$1/runs"'
    _, lines = _on_a_full_disk(tmp_path, run, command)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"jaxl: error: cannot write checkpoint 2 in {tmp_path / 'mnt'}")
    assert lines[0].endswith("the disk is full; the run has no earlier checkpoint to resume from")


def test_quieting_a_failed_checkpoints_io_leaves_other_codes_reports_alone():
    """What a failed save or restore leaves behind is kept off stderr; the same reports of the
    user's own tasks and coroutines are not (they were, for any file-system error)."""
    import gc
    import logging
    import warnings

    from jaxl.training.checkpoints import (
        _drop_unretrieved_checkpoint_io_errors,
        _ignore_unawaited_checkpoint_io,
    )

    def report(future: str, error: BaseException) -> logging.LogRecord:
        message = f"Task exception was never retrieved\nfuture: <Task finished {future}>"
        info = (type(error), error, error.__traceback__)
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, info)

    orbax_write = "coro=<write_fragment() defined at /v/lib/site-packages/orbax/checkpoint/s.py:1>"
    full = ValueError("RESOURCE_EXHAUSTED: ... No space left on device")
    assert not _drop_unretrieved_checkpoint_io_errors(report(orbax_write, full))
    own = "coro=<upload() defined at /home/me/sync.py:3>"
    assert _drop_unretrieved_checkpoint_io_errors(report(own, PermissionError(13, "denied")))
    assert _drop_unretrieved_checkpoint_io_errors(report(own, full))

    async def upload() -> None:
        pass

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _ignore_unawaited_checkpoint_io()
        warnings.warn(
            "coroutine 'async_serialize_from_host.<locals>.write_fragment' was never awaited",
            RuntimeWarning,
            stacklevel=1,
        )
        never_started = upload()
        del never_started
        gc.collect()
    assert [str(w.message) for w in caught] == [
        f"coroutine '{upload.__qualname__}' was never awaited"
    ]


def test_missing_checkpoint_step_and_run_dir(finished_run, tmp_path, capsys):
    assert main(["eval", str(finished_run), "--checkpoint", "99"]) == 2
    assert "no checkpoint 99" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "nowhere")]) == 2
    assert (
        capsys.readouterr().err == f"jaxl: error: run directory not found: {tmp_path / 'nowhere'}\n"
    )
    # A file where a run directory is expected, such as its config, is named as a file.
    config = finished_run / "config.json"
    assert main(["resume", str(config)]) == 2
    assert capsys.readouterr().err == (
        f"jaxl: error: {config} is a file, not a run directory ('jaxl train {config}' starts a "
        "run from a config)\n"
    )
    # A run directory where a config is expected says how to continue it.
    assert main(["train", str(finished_run), "--out", str(tmp_path / "runs")]) == 2
    assert f"(a run directory: 'jaxl resume {finished_run}' continues it" in (
        capsys.readouterr().err
    )
    assert main(["eval", str(tmp_path)]) == 2
    assert (
        capsys.readouterr().err
        == f"jaxl: error: {tmp_path} is not a run directory (no config.json)\n"
    )


def test_resume_of_a_run_another_process_trains_is_refused(finished_run, capsys):
    # A second process holds the run's lock, as a `jaxl train` or `jaxl resume` still running does.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, filelock; lock = filelock.FileLock(sys.argv[1], timeout=5); "
            "lock.acquire(); print('held', flush=True); sys.stdin.read()",
            str(finished_run / ".lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        before = tree_files(finished_run)
        assert main(["resume", str(finished_run)]) == 2
        err = capsys.readouterr().err
        assert f"{finished_run} is being trained by another process" in err, err
        assert str(finished_run / ".lock") in err and "Traceback" not in err
        assert tree_files(finished_run) == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    # Once that process has ended, the run is free again (here: nothing left to resume).
    assert main(["resume", str(finished_run)]) in (0, 2)
    assert "being trained by another process" not in capsys.readouterr().err
    # A lock that cannot be taken at all (here a folder in its place; a read-only copy of the
    # run, for example) is one clear line too.
    lock = finished_run / ".lock"
    lock.unlink()
    lock.mkdir()
    try:
        assert main(["resume", str(finished_run)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"jaxl: error: cannot lock {finished_run} for training"), err
    finally:
        lock.rmdir()
        lock.touch()


def test_gather_into_a_directory(finished_run, tmp_path, capsys):
    assert main(["gather", str(finished_run), "--episodes", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jaxl: error: --out: {tmp_path} is a directory"), err
    assert list(tmp_path.iterdir()) == []


def test_gather_does_not_replace_a_file_that_is_not_a_dataset(finished_run, tmp_path, capsys):
    # It replaced anything, the run's own config.json included, which left the run unreadable.
    config = finished_run / "config.json"
    before = config.read_bytes()
    command = ["gather", str(finished_run), "--episodes", "1", "--out", str(config)]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err == (
        f"jaxl: error: --out: {config} exists and is not a JAXL dataset, so it is not replaced; "
        "remove it or name another file\n"
    )
    assert config.read_bytes() == before
    # A dataset is replaced, as before: gathering again into the same file is a normal thing to do.
    dataset = tmp_path / "expert.npz"
    command = ["gather", str(finished_run), "--episodes", "1", "--checkpoint", "4"]
    for _ in range(2):  # (test_corrupt_checkpoint damages checkpoint 6 of this module's run)
        assert main([*command, "--out", str(dataset)]) == 0


def test_outputs_under_a_file_are_refused_before_any_work(finished_run, tmp_path, capsys):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    for command in (
        ["gather", str(finished_run), "--episodes", "1", "--out", str(blocker / "x.npz")],
        ["plot", str(finished_run), "--out", str(blocker / "curve.png")],
        ["envs", "render", "jaxl/Hopper-v5", "--out", str(blocker / "hopper.png")],
    ):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err == (
            f"jaxl: error: --out: cannot write {blocker / command[-1].rsplit('/', 1)[-1]}: "
            f"{blocker} is a file, not a folder\n"
        ), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_save_path_expands_home_and_experiment_name_stays_inside(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    data = load_example("rl/cartpole-ppo.json")
    data["train_config"].update(total_env_steps=256, eval_episodes=1)
    data["logging_config"].update(save_path="~/runs", experiment_name="..")
    config = write_config(tmp_path / "c.json", data)
    assert main(["train", str(config)]) == 2
    assert 'logging_config.experiment_name: expected a plain folder name, got ".."' in (
        capsys.readouterr().err
    )
    data["logging_config"]["experiment_name"] = "exp"
    config = write_config(tmp_path / "c.json", data)
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(config)]) == 0
    run = Path(capsys.readouterr().out.strip())
    assert run.parent == tmp_path / "home" / "runs" / "exp"
    assert not (tmp_path / "~").exists()


def test_plot_out_must_name_an_image(finished_run, tmp_path, capsys):
    assert main(["plot", str(finished_run), "--out", str(tmp_path)]) == 2
    assert f"--out: {tmp_path} is a directory" in capsys.readouterr().err
    assert main(["plot", str(finished_run), "--out", str(tmp_path / "curve")]) == 2
    assert "has no image suffix; use e.g." in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert main(["plot", str(finished_run), "--out", str(tmp_path / "curve.svg")]) == 0
    assert (tmp_path / "curve.svg").read_text().lstrip().startswith("<?xml")


def test_train_out_is_a_file(tmp_path, capsys):
    config = write_config(tmp_path / "c.json", load_example("rl/cartpole-ppo.json"))
    blocker = tmp_path / "runs"
    blocker.write_text("not a folder")
    assert main(["train", str(config), "--out", str(blocker)]) == 2
    assert f"{blocker} is a file, not a folder" in capsys.readouterr().err
    assert blocker.read_text() == "not a folder"


def test_train_out_where_no_folder_can_be_made(tmp_path, capsys):
    # /proc takes no new folders, even for root. Before: a FileNotFoundError traceback, exit 1.
    data = load_example("rl/cartpole-ppo.json")
    config = write_config(tmp_path / "c.json", data)
    assert main(["train", str(config), "--out", "/proc/jaxl-runs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxl: error: cannot write /proc/jaxl-runs/"), err
    assert len(err.strip().splitlines()) == 1, err


def test_sac_on_discrete_actions_and_without_q_networks(tmp_path, capsys):
    data = load_example("rl/pendulum-sac.json")
    data["learner_config"]["env_config"]["env_id"] = "CartPole-v1"
    err = _run_train(tmp_path, data, capsys)
    assert "sac needs continuous (Box) actions; CartPole-v1 has Discrete(2)" in err
    data = load_example("rl/pendulum-sac.json")
    data["model_config"]["q"] = None
    err = _run_train(tmp_path, data, capsys)
    assert "model_config.q: sac needs Q networks, got null" in err


def test_envs_subcommands_take_device_after_the_subcommand(capsys):
    assert main(["envs", "list", "--device", "cpu"]) == 0
    assert "jaxl/Hopper-v5" in capsys.readouterr().out
    # Without --task-seed, show lists defaults once (no second column of the same values).
    assert main(["envs", "show", "jaxl/Hopper-v5", "--device", "cpu"]) == 0
    assert capsys.readouterr().out.count("default") == 1


def test_seeds_outside_zero_to_two_to_the_63_are_refused(finished_run, tmp_path, capsys):
    # A negative run seed used to train (named "seed-1", which reads as seed 1) or fail deep in
    # NumPy after minutes of work; one beyond 64 bits failed with an OverflowError traceback.
    config = write_config(tmp_path / "c.json", load_example("rl/cartpole-ppo.json"))
    out = tmp_path / "runs"
    for seed in ("-1", str(2**63), "1.5"):
        with pytest.raises(SystemExit) as exit_info:
            main(["train", str(config), "--seed", seed, "--out", str(out)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert f"argument --seed: expected an integer from 0 to 2**63 - 1, got '{seed}'" in err
    dataset = tmp_path / "d.npz"
    for command in (
        ["gather", str(finished_run), "--episodes", "1", "--env-seed", "-2", "--out", str(dataset)],
        ["eval", str(finished_run), "--seed", "-2"],
        ["eval", str(finished_run), "--task-seed", "-2"],
        ["gather", str(finished_run), "--episodes", "1", "--task-seed", "-2", "--out", "x.npz"],
        ["envs", "show", "jaxl/Hopper-v5", "--task-seed", "-2"],
        ["envs", "render", "jaxl/Hopper-v5", "--task-seeds", "0", "-2"],
        ["demo", "--seed", "-2", "--out", str(out)],
    ):
        with pytest.raises(SystemExit):
            main(command)
        assert "expected an integer from 0 to 2**63 - 1, got '-2'" in capsys.readouterr().err
    assert not out.exists() and not dataset.exists()

    from jaxl.main import main as original_main

    with pytest.raises(SystemExit):
        original_main(["--config_path", str(config), "--run_seed", "-3"])
    assert "argument --run_seed: expected an integer" in capsys.readouterr().err

    # The Python API says the same before it creates anything.
    from jaxl.training.session import evaluate_run, gather_dataset, start_training

    with pytest.raises(ValueError, match=r"^seed: expected an integer from 0 to 2\*\*63 - 1"):
        start_training(config, seed=-1, out=str(out))
    with pytest.raises(ValueError, match=r"^seed: expected an integer seed, got 2\.0"):
        start_training(config, seed=2.0, out=str(out))
    with pytest.raises(ValueError, match=r"^seed: expected an integer from 0"):
        evaluate_run(finished_run, 1, seed=2**63)
    with pytest.raises(ValueError, match=r"^env_seed: expected an integer from 0"):
        gather_dataset(finished_run, 1, dataset, env_seed=-1)
    assert not out.exists() and not dataset.exists()


def test_the_largest_seed_trains_and_evaluates(tmp_path):
    from jaxl.seeds import MAX_SEED
    from jaxl.training.loop import eval_seed
    from jaxl.training.session import start_training

    assert eval_seed(0) == 1_000_003 and 0 <= eval_seed(MAX_SEED) < 1_000_003
    data = load_example("rl/cartpole-reinforce.json")
    data["train_config"].update(total_env_steps=8000, eval_episodes=2)
    result = start_training(
        write_config(tmp_path / "c.json", data), seed=MAX_SEED, out=str(tmp_path / "runs")
    )
    assert result.run.path.name.split("-")[2] == f"seed{MAX_SEED}"
    assert result.evaluation["episodes"] == 2
    assert json.loads((result.run.path / "config.json").read_text())["seed"] == MAX_SEED


def test_render_checks_its_arguments_before_rendering(capsys, tmp_path):
    from jaxl.envs.catalog import render_variants

    for width in ("-5", "100000"):
        with pytest.raises(SystemExit):
            main(["envs", "render", "jaxl/Hopper-v5", "--width", width])
        assert f"argument --width: expected a number of pixels from 1 to 4096, got '{width}'" in (
            capsys.readouterr().err
        )
    with pytest.raises(ValueError, match=r"^--height: expected a number of pixels from 1 to 4096"):
        render_variants("jaxl/Hopper-v5", [0], tmp_path / "grid.png", height=0)
    with pytest.raises(ValueError, match=r"^--task-seeds: expected an integer from 0 to"):
        render_variants("jaxl/Hopper-v5", [0, -1], tmp_path / "grid.png")
    assert main(["envs", "render", "jaxl/Hopper-v5", "--out", str(tmp_path / "grid.txt")]) == 2
    err = capsys.readouterr().err
    assert "--out: " in err and "matplotlib cannot write .txt images; use one of" in err
    assert ".png" in err and "cannot render" not in err  # refused before any frame was drawn
    assert list(tmp_path.iterdir()) == []


def test_resume_refuses_a_dataset_that_changed_since_the_run_started(tmp_path, capsys):
    # Before, overwriting expert.npz (the README reuses the name) silently changed what the rest
    # of a resumed BC run trained on.
    run, dataset = _tiny_bc_run(tmp_path, capsys)
    recorded = json.loads((run / "config.json").read_text())["dataset_sha256"]
    assert len(recorded) == 64

    original = dataset.read_bytes()
    dataset.write_bytes(original[:-1] + b"\x01")  # other bytes under the same name
    before = tree_files(run)
    assert main(["resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"learner_config.buffer_config.load_path: {dataset} has changed since the run" in err
    assert tree_files(run) == before
    dataset.write_bytes(original)
    assert main(["resume", str(run)]) == 0
    assert "nothing to resume" in capsys.readouterr().err


def test_a_bc_run_evaluates_gathers_and_plots_without_its_dataset(tmp_path, capsys):
    # Before, moving the dataset away made eval, gather and plot of the run fail with
    # "load_path: file not found", although none of them reads it.
    # env_config null: the env recorded in the dataset.
    run, dataset = _tiny_bc_run(
        tmp_path, capsys, {"env": {"env_id": "CartPole-v1"}}, env_config=None
    )
    resolved = json.loads((run / "config.json").read_text())
    assert resolved["learner_config"]["env_config"]["env_id"] == "CartPole-v1"

    dataset.unlink()
    assert main(["eval", str(run), "--episodes", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["env_id"] == "CartPole-v1"
    gathered = tmp_path / "again.npz"
    assert main(["gather", str(run), "--episodes", "1", "--out", str(gathered)]) == 0
    assert gathered.is_file()
    assert main(["plot", str(run), "--out", str(tmp_path / "curve.png")]) == 0
    capsys.readouterr()
    # Resuming trains on, so it still needs the file.
    assert main(["resume", str(run)]) == 2
    assert f"load_path: file not found: {dataset}" in capsys.readouterr().err


def test_bc_dataset_gathered_on_other_physics_warns(tmp_path, capsys):
    # Same shapes, other task: deliberate for held-out evaluation, a mistake otherwise. Before,
    # nothing said so.
    from jaxl.learners import make_learner

    recorded = {"env_id": "jaxl/CartPole-v1", "task_seed": 3, "max_episode_steps": None}
    with pytest.warns(UserWarning, match="gathered on other physics"):
        run, dataset = _tiny_bc_run(tmp_path, capsys, metadata={"env": recorded})
    config = load_config(run / "config.json")
    with pytest.warns(UserWarning) as caught:
        make_learner(config, 0)
    (warning,) = [w for w in caught if "gathered on other physics" in str(w.message)]
    message = str(warning.message)
    assert f"load_path: {dataset} was gathered on other physics" in message
    assert (
        "env_id 'jaxl/CartPole-v1' (dataset) vs 'CartPole-v1'; task_seed 3 (dataset) vs None"
        in (message)
    )


def test_bc_dataset_whose_recorded_env_is_not_an_env_config(tmp_path, capsys):
    # Read back with the dataset's env (env_config null), a malformed record gave a pydantic
    # traceback.
    from conftest import write_cartpole_dataset

    dataset = tmp_path / "expert.npz"
    write_cartpole_dataset(dataset, {"env": {"env_id": 5}})
    data = load_example("il/cartpole-bc.json")
    data["learner_config"].update(env_config=None)
    data["learner_config"]["buffer_config"]["load_path"] = str(dataset)
    err = _run_train(tmp_path, data, capsys)
    assert f"{dataset} (metadata.env)" in err and "env_id" in err, err


def _bc_on_a_cartpole_shaped_dataset(
    tmp_path, action: np.ndarray, obs: np.ndarray | None = None
) -> tuple[dict, Path]:
    """The BC example config reading a 16-transition dataset of CartPole-shaped observations
    (zeros unless given) with the given actions (and their dtype); ``(config data, path)``."""
    from jaxl.buffers import TransitionNumPyBuffer, Transitions

    dataset = TransitionNumPyBuffer(16, (4,), (), np.float32, action.dtype)
    dataset.add(
        Transitions(
            obs=np.zeros((16, 4), np.float32) if obs is None else obs,
            action=action,
            reward=np.ones(16, np.float32),
            next_obs=np.zeros((16, 4), np.float32),
            terminated=np.zeros(16, bool),
            truncated=np.zeros(16, bool),
        )
    )
    path = tmp_path / "cartpole.npz"
    dataset.save(path)
    data = load_example("il/cartpole-bc.json")
    data["learner_config"]["buffer_config"]["load_path"] = str(path)
    return data, path


def test_bc_dataset_that_does_not_fit_the_env(tmp_path, capsys):
    # Before, a CartPole dataset with an Acrobot env created the run directory and then failed
    # in Flax with a ScopeParamShapeError traceback.
    data, path = _bc_on_a_cartpole_shaped_dataset(tmp_path, np.arange(16) % 3)  # 2: no action
    err = _run_train(tmp_path, data, capsys)
    assert (
        f"learner_config.buffer_config.load_path: {path} holds actions from 0 to 2, "
        "but CartPole-v1 has Discrete(2) (actions 0 to 1)"
    ) in err
    data["learner_config"]["env_config"]["env_id"] = "Acrobot-v1"
    err = _run_train(tmp_path, data, capsys)
    assert (
        f"learner_config.buffer_config.load_path: {path} holds observations of shape (4,), "
        "but Acrobot-v1 observes shape (6,)"
    ) in err


def test_bc_dataset_with_fractional_actions_for_discrete_ones(tmp_path, capsys):
    # A float action of 0.5 for CartPole was accepted and truncated to 0 silently.
    actions = np.tile(np.array([0, 1, 0.5, 1], np.float32), 4)
    data, path = _bc_on_a_cartpole_shaped_dataset(tmp_path, actions)
    err = _run_train(tmp_path, data, capsys)
    assert (
        f"{path} holds actions that are not whole numbers (e.g. 0.5), but CartPole-v1 has "
        "Discrete(2)"
    ) in err, err


def test_bc_dataset_with_non_finite_values(tmp_path, capsys):
    # A NaN observation trained the policy into NaN (loss nan) and the run reported success.
    obs = np.zeros((16, 4), np.float32)
    obs[5, 2] = np.nan
    data, path = _bc_on_a_cartpole_shaped_dataset(tmp_path, np.arange(16) % 2, obs)
    err = _run_train(tmp_path, data, capsys)
    assert (
        f"{path} holds non-finite obs values (NaN or infinity) in 1 transition, the first at "
        "index 5: [ 0.  0. nan  0.]"
    ) in err, err
    actions = np.zeros(16, np.float32)
    actions[[3, 9]] = np.inf
    data, path = _bc_on_a_cartpole_shaped_dataset(tmp_path, actions)
    err = _run_train(tmp_path, data, capsys)
    assert (
        "non-finite action values (NaN or infinity) in 2 transitions, the first at index 3" in err
    )


def test_a_replay_larger_than_memory_is_named(tmp_path, capsys):
    # JAX's "RESOURCE_EXHAUSTED: Out of memory" traceback.
    data = load_example("rl/pendulum-sac.json")
    data["learner_config"]["buffer_config"]["buffer_size"] = 10**12
    err = _run_train(tmp_path, data, capsys)
    assert err.startswith(
        "jaxl: error: learner_config.buffer_config.buffer_size: a replay of 1000000000000 "
        "transitions does not fit in the device's memory (RESOURCE_EXHAUSTED"
    ), err


def test_running_out_of_memory_is_one_line_and_a_note(tmp_path, capsys):
    # A BC batch of 1e12 gave JAX's RESOURCE_EXHAUSTED traceback in the first update.
    from conftest import write_cartpole_dataset

    dataset = tmp_path / "expert.npz"
    write_cartpole_dataset(dataset)
    data = load_example("il/cartpole-bc.json")
    data["learner_config"]["buffer_config"]["load_path"] = str(dataset)
    data["learner_config"]["batch_size"] = 10**12
    config = write_config(tmp_path / "c.json", data)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("update ")]
    assert len(lines) == 2 and lines[0].startswith("jaxl: error: out of memory ("), err
    assert "is too large for this machine" in lines[0]
    # The run failed in its first update and saved nothing: its directory is removed.
    assert lines[1].startswith("jaxl: nothing had been saved, so "), err
    assert list((tmp_path / "runs" / "cartpole-bc").iterdir()) == []


def test_sac_replay_smaller_than_one_env_step(tmp_path, capsys):
    # Before, this failed only when learning started, with a Chex assertion from Flashbax.
    data = load_example("rl/pendulum-sac.json")
    data["learner_config"].update(num_envs=4, batch_size=2, buffer_config={"buffer_size": 3})
    err = _run_train(tmp_path, data, capsys)
    assert "learner_config.buffer_config.buffer_size: must be at least num_envs (= 4), got 3" in err


def test_task_seed_with_physics_redrawn_every_episode(tmp_path, capsys):
    data = load_example("rl/cartpole-ppo.json")
    data["learner_config"]["env_config"] = {
        "env_id": "jaxl/CartPole-v1",
        "task_seed": 7,
        "resample": "episode",
    }
    err = _run_train(tmp_path, data, capsys)
    assert (
        'learner_config.env_config.task_seed: 7 names one variant, but resample: "episode"' in err
    )


def test_squashed_actions_need_finite_bounds():
    # Before, the rescaling to the bounds made every env action NaN.
    from jaxl.config.schema import ModelConfig
    from jaxl.models.factory import make_networks

    model = ModelConfig(policy={"distribution": "squashed_gaussian"})
    space = gym.spaces.Box(np.float32([-1.0, -np.inf]), np.float32([1.0, np.inf]))
    with pytest.raises(ValueError, match=r"must be finite; got low=\[-1.0, -inf\]"):
        make_networks(model, space)


def test_sac_whose_warm_up_fills_the_whole_budget(tmp_path, capsys):
    # Before, such a run acted at random to the end and reported it as a trained policy.
    data = load_example("rl/pendulum-sac.json")
    data["learner_config"]["learning_starts"] = 3000
    data["train_config"]["total_env_steps"] = 3000
    err = _run_train(tmp_path, data, capsys)
    assert (
        "learner_config.learning_starts: 3000 random env steps leave no gradient step in the "
        "budget of 3000 env steps (3 updates of 1000)"
    ) in err


def test_plot_x_column_a_run_does_not_have(finished_run, tmp_path, capsys):
    assert main(["plot", str(finished_run), "--x", "step", "--out", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"jaxl: error: {finished_run / 'metrics.csv'}: no column 'step' ("), err
    assert list(tmp_path.iterdir()) == []


def test_an_error_that_is_not_about_the_input_keeps_its_traceback(tmp_path, monkeypatch, capsys):
    """Only :class:`~jaxl.errors.InputError` becomes one ``jaxl: error:`` line; a ValueError from
    a defect inside the library (here, one raised by the training session itself) propagates
    with its traceback instead of posing as bad input."""
    from jaxl.training import session

    def defect(*args, **kwargs):
        raise ValueError("operands could not be broadcast together with shapes (256,) (256,1)")

    monkeypatch.setattr(session, "start_training", defect)
    config = write_config(tmp_path / "c.json", load_example("rl/cartpole-ppo.json"))
    with pytest.raises(ValueError, match="could not be broadcast"):
        main(["train", str(config), "--out", str(tmp_path / "runs")])
    assert "jaxl: error:" not in capsys.readouterr().err
