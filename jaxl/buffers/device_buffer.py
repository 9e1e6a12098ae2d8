"""A replay buffer whose storage lives in JAX arrays, so that sampling runs inside jitted updates.

Storage and insertion are Flashbax's item buffer: pure functions over a state pytree.
:class:`DeviceReplayBuffer` keeps that state and gives it the same host-side interface as the
NumPy buffers (``add``, ``sample``, ``contents``, ``save``, ``load``, ``len``), and exposes pure
functions (:attr:`DeviceReplayBuffer.add_fn`, :attr:`DeviceReplayBuffer.sample_fn`) for learners
that fuse storing, sampling and gradient steps into one jitted call. The state is a plain pytree
of arrays, so it is saved whole in a learner's checkpoint.

:meth:`DeviceReplayBuffer.sample_fn` can sample as if a batch of new transitions had already been
appended, without writing them. A jitted call can then sample first and append last, so that
XLA updates the (donated) storage in place; appending first and sampling from the result makes
XLA copy the whole storage on every call.
"""

from __future__ import annotations

import os
from typing import Any

import flashbax as fbx
import jax
import jax.numpy as jnp
import numpy as np

from jaxl.buffers.numpy_buffers import TransitionNumPyBuffer, Transitions, load_buffer
from jaxl.seeds import prng_key
from jaxl.xla_options import RUN_ONCE

BufferState = Any
"""Flashbax's buffer state: ``experience`` (a :class:`Transitions` of ``[1, capacity, ...]``
arrays), ``current_index`` and ``is_full``."""


class DeviceReplayBuffer:
    """A circular buffer of transitions in device memory with uniform sampling.

    :param capacity: maximum number of transitions; the oldest are overwritten.
    :param obs_shape: shape of one observation.
    :param action_shape: shape of one action (``()`` for discrete actions).
    :param batch_size: transitions per :attr:`sample_fn` call (fixed, so sampling can be jitted).
    :param obs_dtype: observation dtype.
    :param action_dtype: action dtype.
    :param seed: seed of the host-side :meth:`sample` key.
    """

    buffer_type = "transition"

    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        action_shape: tuple[int, ...],
        batch_size: int,
        obs_dtype: Any = np.float32,
        action_dtype: Any = np.float32,
        seed: int = 0,
    ) -> None:
        if capacity <= 0:
            raise ValueError(f"buffer capacity must be positive, got {capacity}")
        if batch_size > capacity:
            raise ValueError(f"batch size {batch_size} exceeds the buffer capacity {capacity}")
        self.capacity = int(capacity)
        self.batch_size = int(batch_size)
        self._shapes = (tuple(obs_shape), tuple(action_shape))
        self._dtypes = (np.dtype(obs_dtype), np.dtype(action_dtype))
        # What JAX stores them as: without 64-bit mode, int64 as int32 and float64 as float32
        # (asked for explicitly, JAX would warn about every such array).
        obs_dtype, action_dtype = (jax.dtypes.canonicalize_dtype(d) for d in self._dtypes)
        self._stored_dtypes = (obs_dtype, action_dtype)
        self._buffer = fbx.make_item_buffer(
            max_length=self.capacity,
            min_length=1,
            sample_batch_size=self.batch_size,
            add_sequences=True,
            add_batches=False,
        )
        example = Transitions(
            obs=jnp.zeros(obs_shape, obs_dtype),
            action=jnp.zeros(action_shape, action_dtype),
            reward=jnp.zeros((), jnp.float32),
            next_obs=jnp.zeros(obs_shape, obs_dtype),
            terminated=jnp.zeros((), bool),
            truncated=jnp.zeros((), bool),
        )
        self.state: BufferState = self._buffer.init(example)
        self._host_key = prng_key(seed)
        self._add = jax.jit(self.add_fn, donate_argnums=0, compiler_options=RUN_ONCE)
        self._append_copy = jax.jit(self.add_fn, compiler_options=RUN_ONCE)
        self.metadata: dict[str, Any] = {}

    def _as_stored(self, transitions: Transitions) -> Transitions:
        """A batch of transitions as JAX arrays of the stored dtypes."""
        obs_dtype, action_dtype = self._stored_dtypes
        return Transitions(
            obs=jnp.asarray(transitions.obs, obs_dtype),
            action=jnp.asarray(transitions.action, action_dtype),
            reward=jnp.asarray(transitions.reward, jnp.float32),
            next_obs=jnp.asarray(transitions.next_obs, obs_dtype),
            terminated=jnp.asarray(transitions.terminated, bool),
            truncated=jnp.asarray(transitions.truncated, bool),
        )

    def add_fn(self, state: BufferState, transitions: Transitions) -> BufferState:
        """Pure: ``state`` with a batch of transitions (leading axis = batch) appended."""
        return self._buffer.add(state, self._as_stored(transitions))

    def sample_fn(
        self, state: BufferState, key: jax.Array, pending: Transitions | None = None
    ) -> Transitions:
        """Pure: ``batch_size`` transitions drawn uniformly with replacement.

        :param state: the buffer state.
        :param key: the random key of the draw.
        :param pending: a batch of transitions (leading axis = batch) that is about to be
            appended with :meth:`add_fn`. The draw is then exactly the one from the appended
            state (same slots, same key, same result), and reads ``state`` only.
        :returns: the sampled transitions, each field with a leading ``batch_size`` axis.
        """
        stored = jnp.where(state.is_full, self.capacity, state.current_index)
        new = 0 if pending is None else int(np.shape(pending.reward)[0])
        count = jnp.minimum(stored + new, self.capacity)
        slots = jax.random.randint(key, (self.batch_size,), 0, count)
        batch = jax.tree.map(lambda field: field[0, slots], state.experience)
        if pending is None:
            return batch
        # Appending writes pending[i] into slot (current_index + i) % capacity.
        offset = (slots - state.current_index) % self.capacity
        is_new = offset < new
        fresh = jax.tree.map(
            lambda field: field[jnp.minimum(offset, new - 1)], self._as_stored(pending)
        )

        def pick(old: jax.Array, appended: jax.Array) -> jax.Array:
            return jnp.where(is_new.reshape(-1, *[1] * (old.ndim - 1)), appended, old)

        return jax.tree.map(pick, batch, fresh)

    def appended(self, transitions: Transitions) -> BufferState:
        """The state with ``transitions`` appended, leaving this buffer as it is (a copy)."""
        return self._append_copy(self.state, transitions)

    def __len__(self) -> int:
        if bool(self.state.is_full):
            return self.capacity
        return int(self.state.current_index)

    def add(self, transitions: Transitions) -> None:
        """Append a batch of transitions, wrapping around when full (a batch larger than the
        capacity is appended in pieces, so the newest ``capacity`` stay, as in the NumPy
        buffers)."""
        count = int(np.shape(transitions.reward)[0])
        for start in range(0, count, self.capacity):
            end = start + self.capacity
            self.state = self._add(self.state, Transitions(*(f[start:end] for f in transitions)))

    def take_newest(self, count: int, added: int) -> Transitions:
        """Remove the ``count`` newest transitions and return them, as NumPy arrays of the
        buffer's dtypes: the write position and fill state become those before they were
        appended. The slots they filled keep them, not the older transitions they overwrote, so
        this undoes an append only for :meth:`sample_fn` with them as ``pending`` (which reads
        those slots from ``pending``) and for appending them again (which rewrites exactly those
        slots); :meth:`contents` and sampling without them would see them early.

        :param count: transitions to take back.
        :param added: transitions appended to the buffer in all, the ``count`` newest included
            (the state does not record it once full, and it says whether the buffer was full
            before them).
        """
        if not 0 < count <= min(added, self.capacity):
            raise ValueError(f"cannot take {count} of {added} transitions back")
        current = int(self.state.current_index)
        slots = (current - count + np.arange(count)) % self.capacity
        newest = self._as_declared(
            Transitions(*(np.asarray(field[0, slots]) for field in self.state.experience))
        )
        self.state = self.state.replace(
            current_index=jnp.asarray(
                (added - count) % self.capacity, self.state.current_index.dtype
            ),
            is_full=jnp.asarray(added - count >= self.capacity, self.state.is_full.dtype),
        )
        return newest

    def contents(self) -> Transitions:
        """Every stored transition, oldest first, as NumPy arrays of the buffer's dtypes."""
        size = len(self)
        start = int(self.state.current_index) if bool(self.state.is_full) else 0
        order = (start + np.arange(size)) % self.capacity
        return self._as_declared(
            Transitions(*(np.asarray(field[0])[order] for field in self.state.experience))
        )

    def _as_declared(self, stored: Transitions) -> Transitions:
        """Host arrays read from the state in the buffer's declared dtypes (JAX without 64-bit
        mode stores int64 actions as int32)."""
        obs_dtype, action_dtype = self._dtypes
        return stored._replace(
            obs=stored.obs.astype(obs_dtype, copy=False),
            action=stored.action.astype(action_dtype, copy=False),
            next_obs=stored.next_obs.astype(obs_dtype, copy=False),
        )

    def sample(self, batch_size: int) -> Transitions:
        """``batch_size`` transitions drawn uniformly with replacement, as NumPy arrays."""
        if len(self) == 0:
            raise ValueError("cannot sample from an empty buffer")
        self._host_key, key = jax.random.split(self._host_key)
        index = np.asarray(jax.random.randint(key, (batch_size,), 0, len(self)))
        return Transitions(*(field[index] for field in self.contents()))

    def to_numpy(self) -> TransitionNumPyBuffer:
        """A NumPy buffer with the same capacity and contents."""
        obs_shape, action_shape = self._shapes
        buffer = TransitionNumPyBuffer(self.capacity, obs_shape, action_shape, *self._dtypes)
        buffer.add(self.contents())
        buffer.metadata = dict(self.metadata)
        return buffer

    def save(self, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> None:
        """Write the buffer atomically in the NumPy buffers' file format (a dataset file)."""
        self.to_numpy().save(path, metadata)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        batch_size: int,
        seed: int = 0,
        capacity: int | None = None,
    ) -> DeviceReplayBuffer:
        """Read a buffer file (written by either buffer kind) onto the device.

        :raises BufferFileError: the file is missing, corrupt or of an unknown type.
        """
        source = load_buffer(path, capacity=capacity)
        contents = source.contents()
        buffer = cls(
            source.capacity,
            contents.obs.shape[1:],
            contents.action.shape[1:],
            batch_size,
            contents.obs.dtype,
            contents.action.dtype,
            seed,
        )
        if len(source):
            buffer.add(contents)
        buffer.metadata = dict(source.metadata)
        return buffer
