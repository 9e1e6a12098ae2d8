"""Typed, validated experiment configs loaded from JSON."""

from jaxl.config.loading import ConfigError, load_config, parse_config
from jaxl.config.schema import (
    A2CConfig,
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
    REINFORCEConfig,
    SACConfig,
    ScheduleConfig,
    TrainConfig,
)

__all__ = [
    "A2CConfig",
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
    "REINFORCEConfig",
    "SACConfig",
    "ScheduleConfig",
    "TrainConfig",
    "load_config",
    "parse_config",
]
