"""What replaces the keys and values of the original JAXL's configs, for the errors such a config
gets: a researcher who brings one learns what to write instead of only "unknown key".

The table in ``docs/configs.rst`` ("Configs of the original JAXL") lists the same entries.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

#: An original key (its path, ``*`` for any one section) and what to write instead.
ORIGINAL_KEYS: dict[str, str] = {
    "train_config.num_epochs": (
        "online learners: use train_config.total_env_steps = num_epochs * num_steps_per_epoch; "
        "bc: use train_config.total_updates = num_epochs, with gradient_steps_per_update = "
        "num_updates_per_epoch"
    ),
    "logging_config.image_data": "remove it; no learner logs images",
    "model_config.architecture": (
        "use model_config.policy.network {layers, activation}; networks are MLPs"
    ),
    "model_config.layers": "use model_config.policy.network.layers",
    "model_config.activation": "use model_config.policy.network.activation",
    "model_config.*.architecture": "remove it; networks are MLPs {layers, activation}",
    "model_config.policy.layers": "use model_config.policy.network.layers",
    "model_config.policy.activation": "use model_config.policy.network.activation",
    "model_config.vf": "use model_config.value",
    "model_config.qf": "use model_config.q (and model_config.num_q for the ensemble's size)",
    "model_config.qf_encoding": "remove it; Q networks take the observation and action joined",
    "model_config.h_state_dim": "remove it; no network is recurrent",
    "optimizer_config.policy": (
        "one optimizer_config serves every network: move this block's keys up into it"
    ),
    "optimizer_config.vf": "one optimizer_config serves every network; remove the block",
    "optimizer_config.qf": "one optimizer_config serves every network; remove the block",
    "optimizer_config.temp": "one optimizer_config serves every network; remove the block",
    "optimizer_config.lr": (
        "use optimizer_config.learning_rate: a number, or {schedule, init_value, end_value, ...}"
    ),
    "optimizer_config.mask_names": "remove it; no parameters are frozen by name",
    "learner_config.seeds": (
        "remove it; every random stream derives from the run seed (--seed), and a "
        "parameterized env's variant is env_config.task_seed"
    ),
    "learner_config.env_config.env_name": "use learner_config.env_config.env_id",
    "learner_config.env_config.env_type": (
        "remove it; env_id names Gymnasium and dm_control envs alike "
        "(jaxl/DMC-<domain>-<task>-v0; `jaxl envs list`)"
    ),
    "learner_config.buffer_config.load_buffer": "use learner_config.buffer_config.load_path",
    "learner_config.buffer_config.set_size": (
        "remove it; behaviour cloning learns from the whole dataset "
        "(gather a smaller one with `jaxl gather --episodes N`)"
    ),
    "learner_config.num_steps_per_epoch": (
        "remove it; the budget is train_config.total_env_steps = num_epochs * "
        "num_steps_per_epoch (sac: steps_per_update is the env steps of one update, between "
        "logs)"
    ),
    "learner_config.buffer_warmup": "use learner_config.learning_starts",
    "learner_config.update_frequency": (
        "sac: use learner_config.train_freq; ppo, a2c, reinforce: the rollout is "
        "num_envs * num_steps (the original's buffer_size)"
    ),
    "learner_config.initial_temperature": "use learner_config.init_alpha",
    "learner_config.exploration_policy": (
        "remove it; before learning_starts, actions are uniform over the action space"
    ),
    "learner_config.actor_update_frequency": (
        "remove it; the policy and temperature take a step at every gradient step"
    ),
    "learner_config.target_update_frequency": (
        "remove it; the target networks move (by tau) at every gradient step"
    ),
    "learner_config.opt_batch_size": "use learner_config.minibatch_size",
    "learner_config.opt_epochs": (
        "use learner_config.num_epochs, which counts passes over the rollout where the "
        "original counted minibatch steps: num_epochs = opt_epochs * opt_batch_size / rollout"
    ),
    "learner_config.kl_threshold": "remove it; PPO has no early stop on the KL divergence here",
    "learner_config.update_before_early_stopping": (
        "remove it; PPO has no early stop on the KL divergence here"
    ),
    "learner_config.obs_rms": "use learner_config.normalize_obs (ppo)",
    "learner_config.value_rms": (
        "the nearest is learner_config.normalize_reward (ppo): rewards scaled by the running "
        "std of returns"
    ),
    "learner_config.policy_distribution": "use model_config.policy.distribution",
    "learner_config.min_std": "use model_config.policy.min_std",
    "learner_config.std_transform": (
        "remove it; Gaussian heads clip a log-std (model_config.policy.std, init_std, min_std)"
    ),
    "learner_config.num_updates_per_epoch": "use learner_config.gradient_steps_per_update (bc)",
    "learner_config.losses": "use learner_config.loss (bc): auto, nll or mse",
    "learner_config.loss_settings": (
        "remove it; weight decay is optimizer_config.weight_decay (with optimizer adamw)"
    ),
    "learner_config.ent_loss_setting": "use learner_config.ent_coef (a constant)",
    "learner_config.vf_loss_setting": (
        "ppo, a2c, reinforce: use learner_config.vf_coef (its coefficient; ppo: clip_value for "
        "its clip_param)"
    ),
    "learner_config.pi_loss_setting": (
        "ppo: use learner_config.clip_eps (its clip_param); other learners: remove it"
    ),
    "learner_config.qf_loss_setting": "remove it; SAC's Q loss is the squared TD error",
    "learner_config.temp_loss_setting": (
        "remove it; the temperature follows learner_config.target_entropy"
    ),
}

#: Original values of keys that exist here: (path, value) and what to write instead.
ORIGINAL_VALUES: dict[tuple[str, Any], str] = {
    ("learner_config.task", "reinforcement_learning"): '"reinforcement"',
    ("learner_config.task", "imitation_learning"): '"imitation"',
    ("learner_config.buffer_config.buffer_type", "default"): '"transition"',
    ("learner_config.buffer_config.buffer_type", "memory_efficient"): '"transition"',
    ("learner_config.target_entropy", None): (
        '"auto" or a number, and learner_config.autotune_alpha: false for a fixed temperature'
    ),
    ("learner_config.env_config.control_mode", "default"): '"continuous"',
    ("model_config.policy.distribution", "softmax"): '"categorical"',
    ("logging_config.experiment_name", ""): (
        'a folder name, e.g. "hopper-sac" (runs go to <save_path>/<experiment_name>/)'
    ),
    ("logging_config.checkpoint_interval", False): "null (checkpoint only at the end)",
    ("optimizer_config.max_grad_norm", False): "null (no clipping)",
}

#: The original JAXL's env ids and the ids of the same tasks here (``None``: none yet).
ORIGINAL_ENV_IDS: dict[str, str | None] = {
    "ParameterizedHopper-v0": "jaxl/Hopper-v5",
    "ParameterizedHalfCheetah-v0": "jaxl/HalfCheetah-v5",
    "ParameterizedAnt-v0": "jaxl/Ant-v5",
    "ParameterizedSwimmer-v0": "jaxl/Swimmer-v5",
    "ParameterizedInvertedDoublePendulum-v0": "jaxl/InvertedDoublePendulum-v5",
    "ParameterizedPendulum-v0": "jaxl/Pendulum-v1",
    "ParameterizedAcrobot-v0": "jaxl/Acrobot-v1",
    "ParameterizedFrozenLake-v0": "jaxl/FrozenLake8x8-v1",
    "DMCAcrobot-v0": "jaxl/DMC-acrobot-swingup-v0",
    "DMCCartpole-v0": "jaxl/DMC-cartpole-swingup-v0",
    "DMCCheetah-v0": "jaxl/DMC-cheetah-run-v0",
    "DMCFingerTurn-v0": "jaxl/DMC-finger-turn_easy-v0",
    "DMCHopper-v0": "jaxl/DMC-hopper-hop-v0",
    "DMCWalker-v0": "jaxl/DMC-walker-walk-v0",
    "DMCBringBall-v0": "jaxl/DMC-manipulator-bring_ball-v0",
    "ParameterizedCarRacing-v0": None,
}

#: Keys of the original JAXL's ``env_kwargs`` and what replaces each in ``env_config``.
ORIGINAL_ENV_KWARGS: dict[str, str] = {
    "seed": (
        "use env_config.task_seed (the variant's seed); with use_default true the original "
        "ignored it: leave task_seed null"
    ),
    "use_default": "remove it; env_config.task_seed null (the default) is the unmodified env",
    "control_mode": "use env_config.control_mode",
    "parameter_config_path": (
        "use env_config.parameter_spec (a spec file) or parameter_overrides (ranges by name)"
    ),
}


def original_env_id_hint(env_id: str) -> str | None:
    """The id here of the original JAXL's env ``env_id``, as a message, or ``None``."""
    if env_id not in ORIGINAL_ENV_IDS:
        return None
    here = ORIGINAL_ENV_IDS[env_id]
    if here is None:
        return f"the original JAXL's {env_id} has no counterpart here yet (`jaxl envs list`)"
    return f"the original JAXL's {env_id} is {here!r} here"


def original_key_hint(path: str) -> str | None:
    """What replaces the original JAXL's key at ``path`` (dotted), or ``None`` for another key."""
    for pattern, hint in ORIGINAL_KEYS.items():
        if fnmatchcase(path, pattern) and path.count(".") == pattern.count("."):
            return hint
    return None


def original_value_hint(path: str, value: Any) -> str | None:
    """What replaces the original JAXL's ``value`` at ``path``, or ``None``."""
    for (known_path, known_value), hint in ORIGINAL_VALUES.items():
        if path == known_path and type(value) is type(known_value) and value == known_value:
            return hint
    return None
