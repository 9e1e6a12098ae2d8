"""A2C: synchronous advantage actor-critic."""

from jaxl.learners.a2c.learner import A2CLearner, gae_estimate

__all__ = ["A2CLearner", "gae_estimate"]
