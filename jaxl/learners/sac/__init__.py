"""Soft Actor-Critic."""

from jaxl.learners.sac.learner import SACLearner, SACState, make_random_actions, make_sac_step

__all__ = ["SACLearner", "SACState", "make_random_actions", "make_sac_step"]
