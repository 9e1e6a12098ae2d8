"""The exceptions that mean bad input (reported as one clear line, not a traceback)."""

from jaxl.buffers.numpy_buffers import BufferFileError
from jaxl.config.loading import ConfigError
from jaxl.device import DeviceError
from jaxl.envs.make import EnvError
from jaxl.training.checkpoints import CheckpointError
from jaxl.training.run_dir import RunDirectoryError

USER_ERRORS: tuple[type[Exception], ...] = (
    BufferFileError,
    CheckpointError,
    ConfigError,
    DeviceError,
    EnvError,
    RunDirectoryError,
    ValueError,
)
"""Bad configs, files, env ids, run directories, checkpoints and devices."""
