"""Environment construction, seeded vectorised stepping with exact snapshots, and evaluation."""

from jaxl.envs.collector import VectorCollector
from jaxl.envs.evaluation import evaluate_policy
from jaxl.envs.make import EnvError, make_env, make_vector_env, unknown_env_message

__all__ = [
    "EnvError",
    "VectorCollector",
    "evaluate_policy",
    "make_env",
    "make_vector_env",
    "unknown_env_message",
]
