"""Learners: one :class:`~jaxl.learners.base.Learner` design for imitation and reinforcement."""

from jaxl.config.schema import ExperimentConfig
from jaxl.learners.a2c import A2CLearner
from jaxl.learners.base import Learner, OfflineLearner, OnlineLearner
from jaxl.learners.bc import BCLearner
from jaxl.learners.ppo import PPOLearner
from jaxl.learners.reinforce import REINFORCELearner
from jaxl.learners.sac import SACLearner

LEARNERS: dict[str, type[Learner]] = {
    "ppo": PPOLearner,
    "reinforce": REINFORCELearner,
    "a2c": A2CLearner,
    "sac": SACLearner,
    "bc": BCLearner,
}
"""Learner classes by the ``learner_config.learner`` name."""


def make_learner(config: ExperimentConfig, seed: int, with_dataset: bool = True) -> Learner:
    """Build the learner named in ``config.learner_config.learner``, initialised from ``seed``.

    :param with_dataset: load an offline learner's dataset. Without it the learner can act
        (evaluate, gather) from restored parameters but not train.
    """
    learner_class = LEARNERS[config.learner_config.learner]
    if issubclass(learner_class, OfflineLearner):
        return learner_class(config, seed, with_dataset=with_dataset)
    return learner_class(config, seed)


__all__ = [
    "LEARNERS",
    "A2CLearner",
    "BCLearner",
    "Learner",
    "OfflineLearner",
    "OnlineLearner",
    "PPOLearner",
    "REINFORCELearner",
    "SACLearner",
    "make_learner",
]
