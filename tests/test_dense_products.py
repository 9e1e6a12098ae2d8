"""Which product each dense layer takes, and that the narrow-output product is the float32 one."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_mixed_precision import hopper_sac_networks

from jaxl.models.dense_products import (
    NARROW_MAX_FEATURES,
    NARROW_MIN_ROWS,
    dense_dot_general,
    narrow_output_matmul,
)

DENSE = (((1,), (0,)), ((), ()))


def _plain(x: jax.Array, kernel: jax.Array) -> jax.Array:
    return jax.lax.dot_general(x, kernel, DENSE)


@pytest.fixture
def operands():
    kx, kw, kg = jax.random.split(jax.random.PRNGKey(0), 3)
    x = jax.random.normal(kx, (256, 64))
    kernel = jax.random.normal(kw, (64, 3)) / 8.0
    grad = jax.random.normal(kg, (256, 3))
    return x, kernel, grad


def test_value_and_gradients_are_the_float32_products(operands):
    x, kernel, grad = operands
    out, vjp = jax.vjp(narrow_output_matmul, x, kernel)
    expected_out, expected_vjp = jax.vjp(_plain, x, kernel)
    np.testing.assert_allclose(out, expected_out, rtol=1e-6, atol=1e-6)
    for got, expected in zip(vjp(grad), expected_vjp(grad), strict=True):
        assert got.dtype == jnp.float32 and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    exact = np.asarray(x, np.float64).T @ np.asarray(grad, np.float64)
    np.testing.assert_allclose(vjp(grad)[1], exact, rtol=1e-5, atol=1e-4)


def test_weight_gradient_is_multiplied_output_major(operands):
    """The point of the product: the kernel's gradient is an ``[m, n]`` product, transposed."""
    x, kernel, grad = operands
    program = jax.make_jaxpr(lambda k: jax.vjp(narrow_output_matmul, x, k)[1](grad))(kernel)
    products = [e for e in program.jaxpr.eqns if e.primitive.name == "dot_general"]
    shapes = {tuple(e.outvars[0].aval.shape) for e in products}
    assert (3, 64) in shapes and (64, 3) not in shapes


def test_gradient_under_vmap_matches_member_by_member(operands):
    """The Q ensemble vmaps its layers over members: same gradients as one member at a time."""
    x, kernel, _ = operands
    kernels = jnp.stack([kernel, 2.0 * kernel])

    def loss(k):
        return (narrow_output_matmul(x, k) ** 2).sum()

    batched = jax.vmap(jax.grad(loss))(kernels)
    for member in range(2):
        np.testing.assert_allclose(
            batched[member], jax.grad(loss)(kernels[member]), rtol=1e-6, atol=1e-5
        )


def _custom_products(function, *args) -> int:
    return str(jax.make_jaxpr(function)(*args)).count("custom_vjp_call")


def test_layers_and_batches_that_take_it():
    """Hopper SAC, float32: the output layers (Q head; action mean and log-std) take it on a
    training batch, no layer does on a batch below NARROW_MIN_ROWS (acting, PPO minibatches),
    and the 256-wide layers never do."""
    nets = hopper_sac_networks()
    params = nets.init(jax.random.PRNGKey(0), jnp.zeros((1, 11)))
    for rows, q_heads, policy_heads in [(NARROW_MIN_ROWS, 1, 2), (NARROW_MIN_ROWS - 1, 0, 0)]:
        obs, action = jnp.zeros((rows, 11)), jnp.zeros((rows, 3))
        assert _custom_products(nets.q_values, params["q"], obs, action) == q_heads
        assert _custom_products(nets.policy.apply, params["policy"], obs) == policy_heads


def test_chooser():
    assert dense_dot_general("float32", NARROW_MAX_FEATURES) is not None
    assert dense_dot_general("float32", NARROW_MAX_FEATURES + 1) is None
    assert dense_dot_general("bfloat16", 256) is not None
    with pytest.raises(ValueError, match="matmul_dtype"):
        dense_dot_general("float16", 256)


def test_a_contraction_other_than_a_dense_layers_is_refused():
    product = dense_dot_general("float32", 3)
    lhs, rhs = jnp.ones((NARROW_MIN_ROWS, 4)), jnp.ones((3, 4))
    with pytest.raises(ValueError, match="dense layer's contraction"):
        product(lhs, rhs, (((1,), (1,)), ((), ())))
