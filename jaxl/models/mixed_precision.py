"""Mixed-precision matrix products for dense layers.

With ``model_config.matmul_dtype: "bfloat16"`` every dense layer between two hidden layers
multiplies bfloat16-rounded operands and accumulates in float32, in its forward pass and in the
gradient with respect to its input (:mod:`jaxl.models.networks` keeps the first layer, which
reads raw observations and actions, and the output layers in float32: they hold little of the
arithmetic of 256-wide networks, and their outputs, Q values above all, are where rounding would
reach the losses directly). The gradient with respect to its weights is multiplied in float32:
on the CPU, XLA runs that product (``x.T @ g``, contracting the batch axis) through its own dot,
which has no bfloat16-in, float32-out kernel. Parameters, optimiser state, activations, losses
and every other operation stay float32, so only the rounding of the products' operands changes:
about three significant digits, the precision that bfloat16 training on GPUs and TPUs also uses.

The products' float32 accumulation is what keeps this safe for value learning; a layer computed
wholly in bfloat16 (Flax's ``Dense(dtype=jnp.bfloat16)``) would also round its outputs, Q values
included.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxl.config.schema import MatmulDtype


def _product(lhs: jax.Array, rhs: jax.Array, dtype: jnp.dtype) -> jax.Array:
    """``lhs @ rhs`` of two matrices with operands rounded to ``dtype``, accumulated in float32."""
    return jax.lax.dot_general(
        lhs.astype(dtype),
        rhs.astype(dtype),
        (((1,), (0,)), ((), ())),
        preferred_element_type=jnp.float32,
    )


@jax.custom_vjp
def bfloat16_matmul(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """``x @ kernel`` for a ``[B, n]`` batch and an ``[n, m]`` kernel, with bfloat16 operands and
    float32 accumulation; its gradient is the same product for ``x`` and float32 for ``kernel``.
    """
    return _product(x, kernel, jnp.bfloat16)


def _forward(x: jax.Array, kernel: jax.Array) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    return _product(x, kernel, jnp.bfloat16), (x, kernel)


def _backward(
    residuals: tuple[jax.Array, jax.Array], grad: jax.Array
) -> tuple[jax.Array, jax.Array]:
    x, kernel = residuals
    grad_x = jax.lax.dot_general(
        grad.astype(jnp.bfloat16),
        kernel.astype(jnp.bfloat16),
        (((1,), (1,)), ((), ())),
        preferred_element_type=jnp.float32,
    )
    # The barrier keeps XLA from folding the transpose into the product, which would make the
    # batch axis the contracted axis of the left operand: XLA:CPU runs that form through its
    # generic dot rather than the packed (YNNPACK) kernels the other products use.
    x_transposed = jax.lax.optimization_barrier(x.T)
    grad_kernel = _product(x_transposed, grad, jnp.float32)
    return grad_x.astype(x.dtype), grad_kernel.astype(kernel.dtype)


bfloat16_matmul.defvjp(_forward, _backward)


def _bfloat16_dot_general(
    lhs: jax.Array,
    rhs: jax.Array,
    dimension_numbers: tuple,
    precision: jax.lax.Precision | None = None,
    preferred_element_type: jnp.dtype | None = None,
) -> jax.Array:
    """:func:`jax.lax.dot_general` for Flax's ``Dense``: contracts the last axis of ``lhs``
    (any leading axes) with the first of a matrix ``rhs``, through ``bfloat16_matmul``."""
    expected = (((lhs.ndim - 1,), (0,)), ((), ()))
    if dimension_numbers != expected or rhs.ndim != 2 or preferred_element_type is not None:
        raise ValueError(
            f"bfloat16 dense product: expected a dense layer's contraction {expected}, got "
            f"{dimension_numbers} for shapes {lhs.shape} and {rhs.shape}"
        )
    leading = lhs.shape[:-1]
    out = bfloat16_matmul(lhs.reshape(-1, lhs.shape[-1]), rhs)
    return out.reshape(*leading, rhs.shape[1])


def dense_dot_general(matmul_dtype: MatmulDtype) -> Callable[..., jax.Array] | None:
    """The ``dot_general`` a Flax ``Dense`` layer should use for ``matmul_dtype``: ``None``
    (Flax's default float32 product) or the bfloat16 product of ``bfloat16_matmul``."""
    if matmul_dtype == "float32":
        return None
    if matmul_dtype == "bfloat16":
        return _bfloat16_dot_general
    raise ValueError(f"matmul_dtype: expected 'float32' or 'bfloat16', got {matmul_dtype!r}")
