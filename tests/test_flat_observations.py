"""Envs that observe a Discrete state, a Tuple or a Dict: their observations reach the networks
as flat float32 vectors (one-hot for a Discrete state), and PPO learns from them."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from conftest import load_example, write_config

from jaxl.cli import main
from jaxl.config.schema import EnvConfig
from jaxl.envs import make_env
from jaxl.training.session import start_training


def test_a_discrete_state_is_observed_one_hot():
    env = make_env(EnvConfig(env_id="FrozenLake-v1"))
    assert env.observation_space == gym.spaces.Box(0.0, 1.0, (16,), np.float32)
    observation, _ = env.reset(seed=0)
    np.testing.assert_array_equal(observation, np.eye(16, dtype=np.float32)[0])
    observation, *_ = env.step(2)  # right, or a slip: either way the state the env reports
    np.testing.assert_array_equal(observation, np.eye(16)[env.unwrapped.s])


def test_a_parameterized_lake_observes_its_state_one_hot_then_its_parameters():
    # observe_params refused the lake ("needs a flat Box observation space, got Discrete(64)").
    config = EnvConfig(env_id="jaxl/FrozenLake8x8-v1", task_seed=3, observe_params=True)
    env = make_env(config)
    observation, _ = env.reset(seed=0)
    count = len(env.unwrapped.spec_params.parameters)
    assert observation.shape == (64 + count,) and observation.dtype == np.float32
    np.testing.assert_array_equal(observation[:64], np.eye(64)[env.unwrapped.base_env.unwrapped.s])
    np.testing.assert_allclose(observation[64:], env.unwrapped.param_vector(), rtol=1e-6)


def test_a_tuple_of_discrete_parts_is_observed_as_their_one_hots(tmp_path):
    # Blackjack failed with a TypeError traceback; later such envs were refused.
    env = make_env(EnvConfig(env_id="Blackjack-v1"))
    assert env.observation_space == gym.spaces.Box(0.0, 1.0, (32 + 11 + 2,), np.float32)
    observation, _ = env.reset(seed=0)
    assert observation.sum() == 3.0  # one 1 per part of the tuple
    data = load_example("rl/cartpole-ppo.json")
    data["learner_config"]["env_config"]["env_id"] = "Blackjack-v1"
    data["train_config"].update(total_env_steps=256 * 2, eval_interval=None, eval_episodes=2)
    data["logging_config"]["save_path"] = str(tmp_path / "runs")
    assert main(["train", str(write_config(tmp_path / "c.json", data)), "--seed", "0"]) == 0


@pytest.mark.slow
def test_ppo_learns_a_non_slippery_frozen_lake_from_one_hot_states(tmp_path):
    """The reward is 1 at the goal only; seeds 0 to 3 all reached it every evaluation episode
    within 10k steps."""
    data = load_example("rl/cartpole-ppo.json")
    env_config = {"env_id": "FrozenLake-v1", "env_kwargs": {"is_slippery": False}}
    data["learner_config"].update(
        env_config=env_config, num_steps=128, gae_lambda=0.95, ent_coef=0.05
    )
    data["train_config"].update(total_env_steps=10 * 8 * 128, eval_interval=None)
    data["logging_config"]["save_path"] = str(tmp_path / "runs")
    run = start_training(write_config(tmp_path / "c.json", data), seed=0).run
    evaluation = json.loads(run.evaluation_path.read_text())
    assert evaluation["mean_return"] == 1.0, evaluation
