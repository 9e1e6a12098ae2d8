"""Environment construction, seeded vectorised stepping with exact snapshots, and evaluation."""

from jaxl.offscreen_gl import configure_offscreen_gl

configure_offscreen_gl()  # before MuJoCo is imported below

from jaxl.envs.collector import VectorCollector  # noqa: E402
from jaxl.envs.evaluation import evaluate_policy  # noqa: E402
from jaxl.envs.make import EnvError, make_env, make_vector_env, task_params, unknown_env_message  # noqa: E402
from jaxl.envs.parameterized import PARAMETERIZED_ENVS, register_all  # noqa: E402

register_all()

__all__ = [
    "PARAMETERIZED_ENVS",
    "EnvError",
    "VectorCollector",
    "evaluate_policy",
    "make_env",
    "make_vector_env",
    "task_params",
    "unknown_env_message",
]
