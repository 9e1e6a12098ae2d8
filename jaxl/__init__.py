"""JAXL: a JAX library for reinforcement learning and imitation learning.

One design covers both: a :class:`~jaxl.learners.base.Learner` owns parameters, optimiser state and
``update()``; :class:`~jaxl.learners.base.OfflineLearner` learns from a fixed dataset and
:class:`~jaxl.learners.base.OnlineLearner` fills a buffer while it interacts with a Gymnasium
environment.
"""

__version__ = "0.1.0"
