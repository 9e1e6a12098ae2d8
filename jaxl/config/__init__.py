"""Typed, validated experiment configs loaded from JSON."""

from jaxl.config.loading import ConfigError, load_config, parse_config
from jaxl.config.schema import (
    BCConfig,
    BufferConfig,
    EnvConfig,
    ExperimentConfig,
    LoggingConfig,
    MLPConfig,
    ModelConfig,
    OptimizerConfig,
    PolicyConfig,
    PPOConfig,
    ScheduleConfig,
    TrainConfig,
)

__all__ = [
    "BCConfig",
    "BufferConfig",
    "ConfigError",
    "EnvConfig",
    "ExperimentConfig",
    "LoggingConfig",
    "MLPConfig",
    "ModelConfig",
    "OptimizerConfig",
    "PPOConfig",
    "PolicyConfig",
    "ScheduleConfig",
    "TrainConfig",
    "load_config",
    "parse_config",
]
