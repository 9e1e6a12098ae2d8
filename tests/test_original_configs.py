"""Configs written for the original JAXL get errors that say what replaces each of their keys,
and docs/configs.rst maps them all."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from conftest import load_example, write_config

from jaxl.cli import main
from jaxl.config.original_keys import (
    ORIGINAL_ENV_IDS,
    ORIGINAL_ENV_KWARGS,
    ORIGINAL_KEYS,
    ORIGINAL_VALUES,
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "configs.rst"

#: The original's SAC config for Hopper (the inventory's example, abridged).
ORIGINAL_SAC = {
    "logging_config": {
        "save_path": "runs",
        "experiment_name": "",
        "log_interval": 1,
        "checkpoint_interval": False,
    },
    "model_config": {
        "policy": {"architecture": "mlp", "layers": [256, 256], "activation": "tanh"},
        "qf": {"architecture": "ensemble", "layers": [256, 256]},
    },
    "optimizer_config": {"policy": {"optimizer": "adam", "lr": 3e-4, "max_grad_norm": False}},
    "learner_config": {
        "task": "reinforcement_learning",
        "learner": "sac",
        "seeds": {"model_seed": 42, "buffer_seed": 42, "env_seed": 42},
        "env_config": {"env_type": "gym", "env_name": "Hopper-v3", "env_kwargs": {}},
        "buffer_config": {"buffer_type": "default", "buffer_size": 1000000},
        "buffer_warmup": 1000,
        "num_steps_per_epoch": 5000,
        "actor_update_frequency": 1,
        "target_entropy": None,
    },
    "train_config": {"num_epochs": 200},
}


def test_an_original_config_is_told_what_replaces_each_key(tmp_path, capsys):
    config = write_config(tmp_path / "sac.json", ORIGINAL_SAC)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    # Before, 15 lines of "unknown key (allowed: ...)" and type errors, with nothing saying
    # where the keys had gone.
    assert "this looks like a config of the original JAXL" in err.splitlines()[1], err
    for line in (
        "train_config.num_epochs: original JAXL key; online learners: use "
        "train_config.total_env_steps = num_epochs * num_steps_per_epoch",
        "learner_config.env_config.env_name: original JAXL key; use "
        "learner_config.env_config.env_id",
        "learner_config.buffer_warmup: original JAXL key; use learner_config.learning_starts",
        "model_config.qf: original JAXL key; use model_config.q",
        "model_config.policy.layers: original JAXL key; use model_config.policy.network.layers",
        'learner_config.task: got "reinforcement_learning"; write "reinforcement"',
        "logging_config.checkpoint_interval: got false; write null",
        'learner_config.buffer_config.buffer_type: got "default"; write "transition"',
        "learner_config.actor_update_frequency: original JAXL key; remove it",
        'learner_config.target_entropy: got null; write "auto" or a number, and '
        "learner_config.autotune_alpha: false",
    ):
        assert f"  {line}" in err, (line, err)
    assert not (tmp_path / "runs").exists()
    # Checked once the section's other keys are valid.
    data = copy.deepcopy(ORIGINAL_SAC)
    data["logging_config"]["checkpoint_interval"] = None
    config = write_config(tmp_path / "sac.json", data)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    assert (
        '  logging_config.experiment_name: got ""; write a folder name'
    ) in capsys.readouterr().err


def test_a_value_alone_gets_its_hint_without_calling_the_config_original(tmp_path, capsys):
    # An empty experiment name is a slip in any config; only original keys bring the header.
    data = load_example("rl/cartpole-ppo.json")
    data["logging_config"]["experiment_name"] = ""
    config = write_config(tmp_path / "c.json", data)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "original JAXL" not in err, err
    assert '  logging_config.experiment_name: got ""; write a folder name' in err, err


def test_original_env_ids_and_env_kwargs_name_their_replacements(
    tmp_path, capsys, small_ppo_config
):
    small_ppo_config["learner_config"]["env_config"] = {"env_id": "ParameterizedHopper-v0"}
    config = write_config(tmp_path / "c.json", small_ppo_config)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    assert (
        "unknown environment 'ParameterizedHopper-v0'; the original JAXL's "
        "ParameterizedHopper-v0 is 'jaxl/Hopper-v5' here"
    ) in capsys.readouterr().err

    small_ppo_config["learner_config"]["env_config"] = {
        "env_id": "jaxl/CartPole-v1",
        "env_kwargs": {"use_default": True, "seed": 3},
    }
    config = write_config(tmp_path / "c.json", small_ppo_config)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "env_config.env_kwargs.seed: original JAXL key; use env_config.task_seed" in err, err
    assert "env_config.env_kwargs.use_default: original JAXL key; remove it" in err, err
    # A key a parameterized env takes from env_kwargs today is not mistaken for an original one.
    small_ppo_config["learner_config"]["env_config"] = {
        "env_id": "jaxl/CartPole-v1",
        "env_kwargs": {"render_mode": "rgb_array"},
    }
    small_ppo_config["train_config"].update(total_env_steps=256, eval_episodes=1)
    config = write_config(tmp_path / "c.json", small_ppo_config)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 0


def _code(text: str) -> str:
    """A hint as the docs write it: `command` becomes ``command``."""
    return text.replace("`", "``")


def mapping_tables() -> str:
    """The docs' tables of the original keys, values, env ids and env_kwargs, from the code."""
    lines = [".. list-table:: Keys", "   :header-rows: 1", "", "   * - original key", "     - here"]
    for path, hint in ORIGINAL_KEYS.items():
        lines += [f"   * - ``{path}``", f"     - {_code(hint)}"]
    lines += ["", ".. list-table:: Values", "   :header-rows: 1", ""]
    lines += ["   * - original key and value", "     - here"]
    for (path, value), hint in ORIGINAL_VALUES.items():
        lines += [f"   * - ``{path}: {json.dumps(value)}``", f"     - {_code(hint)}"]
    lines += ["", ".. list-table:: Environments", "   :header-rows: 1", ""]
    lines += ["   * - original env id", "     - here"]
    for env_id, here in ORIGINAL_ENV_IDS.items():
        lines += [f"   * - ``{env_id}``", f"     - ``{here}``" if here else "     - none yet"]
    lines += ["", ".. list-table:: env_kwargs of parameterized envs", "   :header-rows: 1", ""]
    lines += ["   * - original ``env_kwargs`` key", "     - here"]
    for key, hint in ORIGINAL_ENV_KWARGS.items():
        lines += [f"   * - ``{key}``", f"     - {_code(hint)}"]
    return "\n".join(lines) + "\n"


def test_the_docs_map_every_original_key_the_errors_know():
    assert mapping_tables() in DOCS.read_text(), (
        "docs/configs.rst's tables under 'Configs of the original JAXL' differ from "
        "jaxl/config/original_keys.py; paste in tests/test_original_configs.py's mapping_tables()"
    )
