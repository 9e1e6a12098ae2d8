"""Proximal Policy Optimisation."""

from jaxl.learners.ppo.learner import PPOLearner, PPOState, make_ppo_update
from jaxl.learners.ppo.losses import PPOBatch, ppo_loss

__all__ = ["PPOBatch", "PPOLearner", "PPOState", "make_ppo_update", "ppo_loss"]
