"""Environments whose physical parameters are drawn from configured ranges (multi-task learning
and domain randomization from one mechanism)."""

from jaxl.envs.parameterized.env import DiscreteActions, ObserveParams, ParameterizedEnv
from jaxl.envs.parameterized.registry import (
    PARAMETERIZED_ENVS,
    load_env_spec,
    make_parameterized,
    register_all,
)
from jaxl.envs.parameterized.sampling import draw
from jaxl.envs.parameterized.spec import (
    EnvParameterSpec,
    ParameterOverride,
    ParameterSpec,
    SpecError,
    load_spec,
)

__all__ = [
    "PARAMETERIZED_ENVS",
    "DiscreteActions",
    "EnvParameterSpec",
    "ObserveParams",
    "ParameterOverride",
    "ParameterSpec",
    "ParameterizedEnv",
    "SpecError",
    "draw",
    "load_env_spec",
    "load_spec",
    "make_parameterized",
    "register_all",
]
