"""Behaviour cloning."""

from jaxl.learners.bc.learner import BCLearner, BCState
from jaxl.learners.bc.losses import bc_loss

__all__ = ["BCLearner", "BCState", "bc_loss"]
