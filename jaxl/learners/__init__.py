"""Learners: one :class:`~jaxl.learners.base.Learner` design for imitation and reinforcement."""

from jaxl.config.schema import ExperimentConfig
from jaxl.learners.base import Learner, OfflineLearner, OnlineLearner
from jaxl.learners.bc import BCLearner
from jaxl.learners.ppo import PPOLearner

LEARNERS: dict[str, type[Learner]] = {"ppo": PPOLearner, "bc": BCLearner}
"""Learner classes by the ``learner_config.learner`` name."""


def make_learner(config: ExperimentConfig, seed: int) -> Learner:
    """Build the learner named in ``config.learner_config.learner``, initialised from ``seed``."""
    return LEARNERS[config.learner_config.learner](config, seed)


__all__ = [
    "LEARNERS",
    "BCLearner",
    "Learner",
    "OfflineLearner",
    "OnlineLearner",
    "PPOLearner",
    "make_learner",
]
