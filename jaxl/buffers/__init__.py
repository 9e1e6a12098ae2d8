"""Buffers of transitions: NumPy datasets and rollout storage, with a portable file format."""

from jaxl.buffers.numpy_buffers import (
    BufferFileError,
    TrajectoryNumPyBuffer,
    TransitionNumPyBuffer,
    Transitions,
    read_buffer_file,
)


def load_buffer(path: str, seed: int = 0, capacity: int | None = None) -> TransitionNumPyBuffer:
    """Load a buffer file of either type (the type is read from the file's metadata).

    :raises BufferFileError: the file is missing, corrupt or of an unknown type.
    """
    arrays, metadata = read_buffer_file(path)
    kinds = {cls.buffer_type: cls for cls in (TransitionNumPyBuffer, TrajectoryNumPyBuffer)}
    kind = metadata.get("buffer_type")
    if kind not in kinds:
        raise BufferFileError(f"{path}: unknown buffer type {kind!r} (known: {sorted(kinds)})")
    return kinds[kind].from_arrays(arrays, metadata, seed=seed, capacity=capacity)


__all__ = [
    "BufferFileError",
    "TrajectoryNumPyBuffer",
    "TransitionNumPyBuffer",
    "Transitions",
    "load_buffer",
    "read_buffer_file",
]
