"""Buffers of transitions with one interface and one file format: NumPy buffers for datasets and
rollouts, and a device-resident replay buffer for off-policy learners."""

from jaxl.buffers.device_buffer import DeviceReplayBuffer
from jaxl.buffers.numpy_buffers import (
    BufferFileError,
    TrajectoryNumPyBuffer,
    TransitionNumPyBuffer,
    Transitions,
    load_buffer,
    read_buffer_file,
)

__all__ = [
    "BufferFileError",
    "DeviceReplayBuffer",
    "TrajectoryNumPyBuffer",
    "TransitionNumPyBuffer",
    "Transitions",
    "load_buffer",
    "read_buffer_file",
]
