"""Pack a pytree's small leaves into one flat array per dtype for a jitted call made every env step.

Every array passed to or returned from a jitted call costs the host a few microseconds to check,
donate or wrap, and the wrapping of results runs while the computation it launched already
occupies the cores. SAC's state and replay buffer have about 70 leaves, most of them small:
biases, their Adam moments, step counters, the key, the buffer's write index. Packed, its
per-env-step call takes and returns about 20 arrays, the large ones (weight matrices, their Adam
moments, the replay storage) passed through untouched so that donation still updates them in
place.

A :class:`PackedLayout` is computed once from an example tree. Its :meth:`~PackedLayout.pack`
and :meth:`~PackedLayout.unpack` are pure and run inside the jitted call;
:meth:`~PackedLayout.pack_on_host` and :meth:`~PackedLayout.unpack_on_host` convert between the
two forms outside it with NumPy, without compiling anything, for the learner's loop to call once
per block of env steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Packed = tuple[tuple[Any, ...], tuple[Any, ...]]
"""``(large_leaves, packed)``: the large leaves in tree order, then one flat array per dtype of
the small ones."""

MAX_PACKED_SIZE = 4096
"""Leaves with at most this many elements are packed (biases, heads, scalars); larger ones
(weight matrices, replay storage) pass through."""


@dataclass(frozen=True)
class _Slot:
    index: int
    shape: tuple[int, ...]
    start: int
    stop: int


@dataclass(frozen=True)
class PackedLayout:
    """Where each leaf of a tree goes in its packed form.

    :param treedef: the tree's structure.
    :param large: tree positions of the leaves passed through as they are.
    :param groups: per packed dtype, the slots of its leaves in the flat array.
    """

    treedef: Any
    large: tuple[int, ...]
    groups: tuple[tuple[np.dtype, tuple[_Slot, ...]], ...]

    @classmethod
    def of(cls, tree: Any, max_packed_size: int = MAX_PACKED_SIZE) -> PackedLayout:
        """The layout of ``tree``: its leaves of at most ``max_packed_size`` elements are packed,
        grouped by dtype in tree order."""
        leaves, treedef = jax.tree.flatten(tree)
        large = tuple(i for i, leaf in enumerate(leaves) if np.size(leaf) > max_packed_size)
        by_dtype: dict[np.dtype, list[_Slot]] = {}
        for i, leaf in enumerate(leaves):
            if i in large:
                continue
            slots = by_dtype.setdefault(np.dtype(leaf.dtype), [])
            start = slots[-1].stop if slots else 0
            slots.append(_Slot(i, tuple(np.shape(leaf)), start, start + int(np.size(leaf))))
        groups = tuple((dtype, tuple(slots)) for dtype, slots in by_dtype.items())
        return cls(treedef, large, groups)

    @property
    def num_arrays(self) -> int:
        """How many arrays the packed form has."""
        return len(self.large) + len(self.groups)

    def pack(self, tree: Any) -> Packed:
        """Pure (jittable): ``tree`` in packed form."""
        leaves = self._leaves(tree)
        packed = tuple(
            jnp.concatenate([jnp.ravel(leaves[slot.index]).astype(dtype) for slot in slots])
            for dtype, slots in self.groups
        )
        return tuple(leaves[i] for i in self.large), packed

    def unpack(self, packed: Packed) -> Any:
        """Pure (jittable): the tree that :meth:`pack` packed."""
        large, flats = packed
        leaves: list[Any] = [None] * self.treedef.num_leaves
        for i, leaf in zip(self.large, large, strict=True):
            leaves[i] = leaf
        for flat, (_, slots) in zip(flats, self.groups, strict=True):
            for slot in slots:
                leaves[slot.index] = flat[slot.start : slot.stop].reshape(slot.shape)
        return jax.tree.unflatten(self.treedef, leaves)

    def pack_on_host(self, tree: Any) -> Packed:
        """:meth:`pack` outside a jitted call: the small leaves are concatenated with NumPy (no
        compilation); the large ones are passed through."""
        leaves = self._leaves(tree)
        packed = tuple(
            jnp.asarray(
                np.concatenate([np.ravel(np.asarray(leaves[slot.index], dtype)) for slot in slots])
            )
            for dtype, slots in self.groups
        )
        return tuple(leaves[i] for i in self.large), packed

    def unpack_on_host(self, packed: Packed) -> Any:
        """:meth:`unpack` outside a jitted call: the small leaves are sliced with NumPy and put
        back on the device in one transfer."""
        _, flats = packed
        host = [np.asarray(flat) for flat in flats]
        small = [
            (slot, host[group][slot.start : slot.stop])
            for group, (_, slots) in enumerate(self.groups)
            for slot in slots
        ]
        on_device = jax.device_put([piece.reshape(slot.shape) for slot, piece in small])
        by_index = {slot.index: leaf for (slot, _), leaf in zip(small, on_device, strict=True)}
        large, _ = packed
        by_index.update(zip(self.large, large, strict=True))
        return jax.tree.unflatten(self.treedef, [by_index[i] for i in range(len(by_index))])

    def _leaves(self, tree: Any) -> list[Any]:
        leaves, treedef = jax.tree.flatten(tree)
        if treedef != self.treedef:
            raise ValueError(f"tree structure {treedef} does not match the layout's {self.treedef}")
        return leaves
