"""The matrix product each dense layer uses, chosen once when the layer is built.

A Flax ``Dense`` layer takes its product as ``dot_general``. :func:`dense_dot_general` picks it:

* ``matmul_dtype: "bfloat16"`` (products between hidden layers only; :mod:`networks
  <jaxl.models.networks>` decides which layers): :func:`~jaxl.models.mixed_precision.
  bfloat16_matmul`, bfloat16 operands with float32 accumulation.
* a float32 layer with at most :data:`NARROW_MAX_FEATURES` outputs (the action-mean, log-std,
  logit, value and Q heads): :func:`narrow_output_matmul`, the same float32 product whose weight
  gradient is computed in the orientation XLA:CPU multiplies fast, on batches of at least
  :data:`NARROW_MIN_ROWS` rows.
* any other layer: Flax's default, :func:`jax.lax.dot_general`.

Why the narrow-output product: the weight gradient of ``y = x @ W`` is ``x.T @ g``, which
contracts the batch axis. For an ``[B, 256]`` input and an ``[B, 3]`` output gradient XLA:CPU
runs it through its generic dot at about 2 GFLOP/s: on the 2-core benchmark machine 150 to
160 µs for ``B = 256`` (and 285 µs for ``B = 2048`` with 64 inputs), against 30 to 45 µs for the
same numbers computed as ``(g.T @ x).T``, an ``[3, 256]`` product whose result is transposed
(2026-12-07, jitted alone; 1 to 8 outputs gain 3 to 6 times, 17 outputs about 3 times, 32 or
more nothing or worse). An optimisation barrier keeps XLA from folding the transpose back into
the product. With 64 rows the gain is a few microseconds (PPO's minibatches), so smaller
batches keep Flax's product and compile as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax

from jaxl.config.schema import MatmulDtype
from jaxl.models.mixed_precision import bfloat16_matmul

NARROW_MAX_FEATURES = 16
"""The widest layer output that :func:`narrow_output_matmul` is used for."""

NARROW_MIN_ROWS = 128
"""The smallest batch (rows of the layer's input) that takes :func:`narrow_output_matmul`."""

Matmul = Callable[[jax.Array, jax.Array], jax.Array]
"""A product of an ``[B, n]`` batch and an ``[n, m]`` kernel."""

DotGeneral = Callable[..., jax.Array]
"""The ``dot_general`` signature Flax's ``Dense`` calls."""

_MATRIX_PRODUCT = (((1,), (0,)), ((), ()))
_CONTRACT_BATCH = (((0,), (0,)), ((), ()))


@jax.custom_vjp
def narrow_output_matmul(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """``x @ kernel`` in float32 for an ``[B, n]`` batch and an ``[n, m]`` kernel with small
    ``m``; the kernel's gradient is ``(g.T @ x).T`` rather than ``x.T @ g`` (same products and
    sums, a faster kernel on XLA:CPU)."""
    return jax.lax.dot_general(x, kernel, _MATRIX_PRODUCT)


def _narrow_forward(
    x: jax.Array, kernel: jax.Array
) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    return jax.lax.dot_general(x, kernel, _MATRIX_PRODUCT), (x, kernel)


def _narrow_backward(
    residuals: tuple[jax.Array, jax.Array], grad: jax.Array
) -> tuple[jax.Array, jax.Array]:
    x, kernel = residuals
    grad_x = jax.lax.dot_general(grad, kernel, (((1,), (1,)), ((), ())))
    # [m, n], then transposed; without the barrier XLA folds the transpose into the product and
    # is back at x.T @ g.
    grad_kernel_t = jax.lax.optimization_barrier(jax.lax.dot_general(grad, x, _CONTRACT_BATCH))
    return grad_x, grad_kernel_t.T


narrow_output_matmul.defvjp(_narrow_forward, _narrow_backward)


def _as_dot_general(matmul: Matmul, min_rows: int = 0) -> DotGeneral:
    """Flax's ``dot_general`` for a dense layer, through ``matmul``: contracts the last axis of
    ``lhs`` (any leading axes, flattened into rows) with the first of a matrix ``rhs``. A batch
    of fewer than ``min_rows`` rows takes :func:`jax.lax.dot_general` instead."""

    def dot_general(
        lhs: jax.Array,
        rhs: jax.Array,
        dimension_numbers: tuple,
        precision: jax.lax.Precision | None = None,
        preferred_element_type: jax.typing.DTypeLike | None = None,
    ) -> jax.Array:
        expected = (((lhs.ndim - 1,), (0,)), ((), ()))
        if dimension_numbers != expected or rhs.ndim != 2 or preferred_element_type is not None:
            raise ValueError(
                f"dense product: expected a dense layer's contraction {expected}, got "
                f"{dimension_numbers} for shapes {lhs.shape} and {rhs.shape}"
            )
        leading = lhs.shape[:-1]
        if math.prod(leading) < min_rows:
            return jax.lax.dot_general(lhs, rhs, dimension_numbers, precision=precision)
        out = matmul(lhs.reshape(-1, lhs.shape[-1]), rhs)
        return out.reshape(*leading, rhs.shape[1])

    return dot_general


_BFLOAT16 = _as_dot_general(bfloat16_matmul)
_NARROW_OUTPUT = _as_dot_general(narrow_output_matmul, NARROW_MIN_ROWS)


def dense_dot_general(matmul_dtype: MatmulDtype, features: int) -> DotGeneral | None:
    """The ``dot_general`` for a Flax ``Dense`` layer with ``features`` outputs whose products
    multiply in ``matmul_dtype``; ``None`` means Flax's default.

    :raises ValueError: for a ``matmul_dtype`` other than ``"float32"`` or ``"bfloat16"``.
    """
    if matmul_dtype == "bfloat16":
        return _BFLOAT16
    if matmul_dtype != "float32":
        raise ValueError(f"matmul_dtype: expected 'float32' or 'bfloat16', got {matmul_dtype!r}")
    return _NARROW_OUTPUT if features <= NARROW_MAX_FEATURES else None
