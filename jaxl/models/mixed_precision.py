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

import jax
import jax.numpy as jnp


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
