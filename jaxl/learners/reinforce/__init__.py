"""REINFORCE: Monte Carlo policy gradient."""

from jaxl.learners.reinforce.learner import REINFORCELearner, reward_to_go

__all__ = ["REINFORCELearner", "reward_to_go"]
