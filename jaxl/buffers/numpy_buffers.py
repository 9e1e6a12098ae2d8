"""Circular NumPy buffers of transitions, with seeded sampling and a portable file format.

File format (``.npz``, version 1): one array per field of :class:`Transitions` holding the stored
transitions oldest first, ``episode_id`` for trajectory buffers, and ``metadata``: a JSON string
with ``format = "jaxl.buffer"``, ``version``, ``buffer_type``, ``capacity``, ``size``, observation
and action shapes and dtypes, plus whatever the writer adds (``env``, ``policy_source``,
``episodes``, ``returns``). Nothing is pickled; files load with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from jaxl.errors import InputError
from jaxl.output_paths import reporting_write_errors

FORMAT = "jaxl.buffer"
VERSION = 1


class Transitions(NamedTuple):
    """A batch of transitions; every field has the same leading shape."""

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


class BufferFileError(InputError):
    """A buffer file is missing, corrupt, or not in a format this version reads."""


def _specs(obs_shape, obs_dtype, action_shape, action_dtype) -> dict[str, tuple[tuple, np.dtype]]:
    return {
        "obs": (tuple(obs_shape), np.dtype(obs_dtype)),
        "action": (tuple(action_shape), np.dtype(action_dtype)),
        "reward": ((), np.dtype(np.float32)),
        "next_obs": (tuple(obs_shape), np.dtype(obs_dtype)),
        "terminated": ((), np.dtype(bool)),
        "truncated": ((), np.dtype(bool)),
    }


def atomic_savez(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> None:
    """Write an ``.npz`` to a temporary file beside ``path`` and rename it into place.

    :raises OutputPathError: the file cannot be written (the reason named).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with reporting_write_errors(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


ZIP_SIGNATURE = b"PK"
"""The first bytes of every zip archive (an ``.npz`` file is one)."""


def is_buffer_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an ``.npz`` archive with a buffer's metadata entry (read from the
    archive's index only, not its arrays): a file a new dataset may replace."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "metadata.npy" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def read_buffer_file(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read the arrays and metadata of a buffer file, checking its format and version."""
    path = Path(path)
    if path.is_dir():
        raise BufferFileError(f"buffer file {path} is a folder, not a dataset file")
    if not path.is_file():
        raise BufferFileError(f"buffer file not found: {path}")
    try:
        with path.open("rb") as file:
            signature = file.read(len(ZIP_SIGNATURE))
    except OSError as error:
        raise BufferFileError(f"cannot read {path}: {error.strerror or error}") from None
    if signature != ZIP_SIGNATURE:
        # NumPy would try the file as a pickle and suggest loading it with allow_pickle.
        raise BufferFileError(f"{path} is not a JAXL buffer file (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    # A damaged archive raises any of these; a corrupt compression-method field, zipfile's
    # NotImplementedError ("That compression method is not supported").
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as error:
        raise BufferFileError(f"{path} is not a readable JAXL buffer file ({error})") from None
    if "metadata" not in arrays:
        raise BufferFileError(
            f"{path}: not a JAXL buffer file (no 'metadata' entry; it holds {sorted(arrays)})"
        )
    try:
        metadata = json.loads(str(arrays.pop("metadata")))
    except ValueError as error:
        raise BufferFileError(f"{path}: its metadata is not JSON ({error})") from None
    if not isinstance(metadata, dict):
        raise BufferFileError(f"{path}: its metadata is not a JSON object")
    if metadata.get("format") != FORMAT:
        raise BufferFileError(f"{path}: not a JAXL buffer file (format {metadata.get('format')!r})")
    if metadata.get("version") != VERSION:
        raise BufferFileError(
            f"{path}: buffer format version {metadata.get('version')} is not supported "
            f"(this JAXL reads version {VERSION})"
        )
    _check_layout(path, arrays, metadata)
    return arrays, metadata


_LAYOUT_KEYS = {
    "buffer_type": str,
    "capacity": int,
    "size": int,
    "obs_shape": list,
    "obs_dtype": str,
    "action_shape": list,
    "action_dtype": str,
}
"""The metadata every buffer file has, and the JSON type of each value."""


def _check_layout(path: Path, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
    """Check that the metadata describes the arrays: every field holds ``size`` transitions of
    the recorded shapes (so that no field can be silently misaligned with the others)."""
    problems = []
    for key, kind in _LAYOUT_KEYS.items():
        value = metadata.get(key)
        if key not in metadata:
            problems.append(f"metadata has no {key!r}")
        elif not isinstance(value, kind) or isinstance(value, bool):
            problems.append(f"metadata {key!r}: expected a JSON {kind.__name__}, got {value!r}")
    missing = [field for field in Transitions._fields if field not in arrays]
    if metadata.get("buffer_type") == "trajectory" and "episode_id" not in arrays:
        missing.append("episode_id")
    if missing:
        problems.append(f"missing arrays {missing}")
    if problems:
        raise BufferFileError(f"{path}: {'; '.join(problems)}")
    size = metadata["size"]
    try:
        specs = _specs(
            metadata["obs_shape"],
            metadata["obs_dtype"],
            metadata["action_shape"],
            metadata["action_dtype"],
        )
    except TypeError as error:
        raise BufferFileError(f"{path}: metadata names an unknown dtype ({error})") from None
    for key in ("obs_dtype", "action_dtype"):
        if np.dtype(metadata[key]).kind not in "biuf":
            problems.append(f"metadata {key!r}: {metadata[key]!r} is not a number type")
    if problems:
        raise BufferFileError(f"{path}: {'; '.join(problems)}")
    if metadata["buffer_type"] == "trajectory":
        specs["episode_id"] = ((), np.dtype(np.int64))
    for name, (shape, _) in specs.items():
        if arrays[name].shape != (size, *shape):
            problems.append(f"{name} has shape {arrays[name].shape}, expected {(size, *shape)}")
    if problems:
        raise BufferFileError(
            f"{path}: the arrays do not match the metadata (size {size}, obs_shape "
            f"{metadata['obs_shape']}, action_shape {metadata['action_shape']}): "
            + "; ".join(problems)
        )


class TransitionNumPyBuffer:
    """A fixed-capacity circular buffer of transitions with seeded uniform sampling.

    :param capacity: maximum number of transitions; the oldest are overwritten.
    :param obs_shape: shape of one observation.
    :param action_shape: shape of one action (``()`` for discrete actions).
    :param obs_dtype: observation dtype.
    :param action_dtype: action dtype.
    :param seed: seed of the sampling generator.
    """

    buffer_type = "transition"

    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        action_shape: tuple[int, ...],
        obs_dtype: Any = np.float32,
        action_dtype: Any = np.float32,
        seed: int = 0,
    ) -> None:
        if capacity <= 0:
            raise ValueError(f"buffer capacity must be positive, got {capacity}")
        self.capacity = int(capacity)
        self._specs = _specs(obs_shape, obs_dtype, action_shape, action_dtype)
        self._data = {
            name: np.zeros((self.capacity, *shape), dtype)
            for name, (shape, dtype) in self._specs.items()
        }
        self._pointer = 0
        self._size = 0
        self.rng = np.random.default_rng(seed)
        self.metadata: dict[str, Any] = {}

    @classmethod
    def for_spaces(
        cls, capacity: int, obs_space: gym.Space, action_space: gym.Space, seed: int = 0
    ) -> TransitionNumPyBuffer:
        """A buffer shaped for a Gymnasium observation and action space."""
        return cls(
            capacity, obs_space.shape, action_space.shape, obs_space.dtype, action_space.dtype, seed
        )

    def __len__(self) -> int:
        return self._size

    @property
    def is_full(self) -> bool:
        """Whether the next ``add`` overwrites the oldest transitions."""
        return self._size == self.capacity

    def clear(self) -> None:
        """Forget every transition (storage is kept)."""
        self._pointer = 0
        self._size = 0

    def add(self, transitions: Transitions) -> None:
        """Append a batch of transitions (leading axis = batch), wrapping around when full."""
        count = len(transitions.reward)
        if self._pointer + count <= self.capacity:
            index = slice(self._pointer, self._pointer + count)
        else:
            index = (self._pointer + np.arange(count)) % self.capacity
        for name, value in zip(Transitions._fields, transitions, strict=True):
            self._data[name][index] = value
        self._pointer = int((self._pointer + count) % self.capacity)
        self._size = min(self._size + count, self.capacity)

    def _order(self) -> np.ndarray:
        """Storage indices from oldest to newest."""
        start = self._pointer if self.is_full else 0
        return (start + np.arange(self._size)) % self.capacity

    def contents(self) -> Transitions:
        """Every stored transition, oldest first (a copy)."""
        index = self._order()
        return Transitions(*(self._data[name][index] for name in Transitions._fields))

    def sample(self, batch_size: int) -> Transitions:
        """``batch_size`` transitions drawn uniformly with replacement from the seeded generator."""
        if self._size == 0:
            raise ValueError("cannot sample from an empty buffer")
        index = self.rng.integers(0, self._size, size=batch_size)
        index = self._order()[index]
        return Transitions(*(self._data[name][index] for name in Transitions._fields))

    def _header(self, metadata: dict[str, Any]) -> dict[str, Any]:
        obs_shape, obs_dtype = self._specs["obs"]
        action_shape, action_dtype = self._specs["action"]
        return {
            **self.metadata,
            **metadata,
            "format": FORMAT,
            "version": VERSION,
            "buffer_type": self.buffer_type,
            "capacity": self.capacity,
            "size": self._size,
            "obs_shape": list(obs_shape),
            "obs_dtype": obs_dtype.name,
            "action_shape": list(action_shape),
            "action_dtype": action_dtype.name,
        }

    def _arrays(self) -> dict[str, np.ndarray]:
        return dict(self.contents()._asdict())

    def save(self, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> None:
        """Write the buffer atomically to ``path`` (``.npz``) with JSON ``metadata``."""
        arrays = self._arrays()
        arrays["metadata"] = np.array(json.dumps(self._header(metadata or {})))
        atomic_savez(path, arrays)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], seed: int = 0, capacity: int | None = None
    ) -> TransitionNumPyBuffer:
        """Read a buffer written by :meth:`save`.

        :param seed: seed of the new buffer's sampling generator.
        :param capacity: capacity of the new buffer (default: the saved capacity, at least its size).
        :raises BufferFileError: missing, corrupt, or of another buffer type or version.
        """
        arrays, metadata = read_buffer_file(path)
        if metadata.get("buffer_type") != cls.buffer_type:
            raise BufferFileError(
                f"{path}: holds a {metadata.get('buffer_type')!r} buffer, not {cls.buffer_type!r}"
            )
        return _from_file(cls, path, arrays, metadata, seed, capacity)

    @classmethod
    def from_arrays(
        cls,
        arrays: dict[str, np.ndarray],
        metadata: dict[str, Any],
        seed: int = 0,
        capacity: int | None = None,
    ) -> TransitionNumPyBuffer:
        """Build a buffer from what :func:`read_buffer_file` returned."""
        size = int(metadata["size"])
        buffer = cls(
            capacity or max(int(metadata["capacity"]), size, 1),
            tuple(metadata["obs_shape"]),
            tuple(metadata["action_shape"]),
            metadata["obs_dtype"],
            metadata["action_dtype"],
            seed,
        )
        keep = min(size, buffer.capacity)
        buffer._restore(arrays, keep)
        buffer.metadata = {k: v for k, v in metadata.items() if k not in buffer._header({})}
        return buffer

    def _restore(self, arrays: dict[str, np.ndarray], keep: int) -> None:
        size = len(arrays["reward"])
        self.add(Transitions(*(arrays[name][size - keep :] for name in Transitions._fields)))


class TrajectoryNumPyBuffer(TransitionNumPyBuffer):
    """A transition buffer for one stream of consecutive steps that samples sub-trajectories.

    Steps must be added in time order; an episode ends at a terminated or truncated step.
    :meth:`sample_windows` draws windows of ``horizon`` consecutive steps that lie within one
    episode.
    """

    buffer_type = "trajectory"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._episode_id = np.zeros(self.capacity, np.int64)
        self._next_episode = 0

    def clear(self) -> None:
        """Forget every transition."""
        super().clear()
        self._next_episode = 0

    def add(self, transitions: Transitions) -> None:
        """Append consecutive steps of one stream."""
        done = np.logical_or(transitions.terminated, transitions.truncated)
        ended_before = np.concatenate([[0], np.cumsum(done)[:-1]])
        ids = self._next_episode + ended_before
        index = (self._pointer + np.arange(len(done))) % self.capacity
        self._episode_id[index] = ids
        self._next_episode += int(done.sum())
        super().add(transitions)

    @property
    def num_episodes(self) -> int:
        """Number of episodes with at least one stored step."""
        ids = self._episode_id[self._order()]
        return int(len(np.unique(ids)))

    def sample_windows(self, batch_size: int, horizon: int) -> Transitions:
        """``batch_size`` windows of ``horizon`` steps, each inside one episode: shape ``[B, H]``."""
        order = self._order()
        ids = self._episode_id[order]
        if len(order) < horizon:
            raise ValueError(f"buffer holds {len(order)} steps, fewer than horizon {horizon}")
        starts = np.flatnonzero(ids[: len(ids) - horizon + 1] == ids[horizon - 1 :])
        if len(starts) == 0:
            raise ValueError(f"no episode in the buffer is {horizon} steps long")
        chosen = self.rng.choice(starts, size=batch_size)
        index = order[chosen[:, None] + np.arange(horizon)]
        return Transitions(*(self._data[name][index] for name in Transitions._fields))

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = super()._arrays()
        arrays["episode_id"] = self._episode_id[self._order()]
        return arrays

    def _restore(self, arrays: dict[str, np.ndarray], keep: int) -> None:
        super()._restore(arrays, keep)
        ids = arrays["episode_id"][len(arrays["reward"]) - keep :]
        self._episode_id[self._order()] = ids
        self._next_episode = int(ids.max()) + 1 if keep else 0


def load_buffer(path: str, seed: int = 0, capacity: int | None = None) -> TransitionNumPyBuffer:
    """Load a buffer file of either type (the type is read from the file's metadata).

    :raises BufferFileError: the file is missing, corrupt or of an unknown type.
    """
    arrays, metadata = read_buffer_file(path)
    kinds = {cls.buffer_type: cls for cls in (TransitionNumPyBuffer, TrajectoryNumPyBuffer)}
    kind = metadata.get("buffer_type")
    if kind not in kinds:
        raise BufferFileError(f"{path}: unknown buffer type {kind!r} (known: {sorted(kinds)})")
    return _from_file(kinds[kind], path, arrays, metadata, seed, capacity)


def _from_file(
    kind: type[TransitionNumPyBuffer],
    path: str | os.PathLike[str],
    arrays: dict[str, np.ndarray],
    metadata: dict[str, Any],
    seed: int,
    capacity: int | None,
) -> TransitionNumPyBuffer:
    """``kind.from_arrays`` for the contents of the file ``path``; a capacity too large for the
    machine's memory is named with the file instead of NumPy's memory error."""
    try:
        return kind.from_arrays(arrays, metadata, seed, capacity)
    except MemoryError:
        rows = capacity or metadata["capacity"]
        raise BufferFileError(
            f"{path}: a buffer of {rows} transitions does not fit in this machine's memory "
            "(its metadata 'capacity', or buffer_config.buffer_size)"
        ) from None
