"""bfloat16 matrix products: what is rounded, what stays float32, and that the networks use it."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import CONFIGS

from jaxl.config import load_config
from jaxl.models.factory import make_networks
from jaxl.models.mixed_precision import bfloat16_matmul, dense_dot_general

HOPPER_OBS = gym.spaces.Box(-np.inf, np.inf, (11,), np.float32)
HOPPER_ACTIONS = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)


def _rounded(a: jax.Array) -> np.ndarray:
    return np.asarray(a.astype(jnp.bfloat16).astype(jnp.float32), np.float64)


@pytest.fixture
def operands():
    kx, kw, kg = jax.random.split(jax.random.PRNGKey(0), 3)
    x = jax.random.normal(kx, (64, 32))
    kernel = jax.random.normal(kw, (32, 16)) / np.sqrt(32)
    grad = jax.random.normal(kg, (64, 16))
    return x, kernel, grad


def test_forward_and_input_gradient_use_rounded_operands(operands):
    x, kernel, grad = operands
    out, vjp = jax.vjp(bfloat16_matmul, x, kernel)
    grad_x, _ = vjp(grad)
    exact = np.asarray(x, np.float64) @ np.asarray(kernel, np.float64)
    rounded = _rounded(x) @ _rounded(kernel)
    # The product of the rounded operands, accumulated in float32 ...
    np.testing.assert_allclose(out, rounded, rtol=1e-5, atol=1e-5)
    # ... which is measurably not the float32 product.
    assert np.abs(np.asarray(out) - exact).max() > 1e-3
    np.testing.assert_allclose(grad_x, _rounded(grad) @ _rounded(kernel).T, rtol=1e-5, atol=1e-5)
    assert out.dtype == grad_x.dtype == jnp.float32


def test_weight_gradient_stays_float32(operands):
    x, kernel, grad = operands
    _, vjp = jax.vjp(bfloat16_matmul, x, kernel)
    _, grad_kernel = vjp(grad)
    exact = np.asarray(x, np.float64).T @ np.asarray(grad, np.float64)
    np.testing.assert_allclose(grad_kernel, exact, rtol=1e-5, atol=1e-4)
    assert np.abs(np.asarray(grad_kernel) - _rounded(x).T @ _rounded(grad)).max() > 1e-3


def test_gradient_under_vmap_matches_member_by_member(operands):
    """The Q ensemble vmaps its layers over members: same gradients as one member at a time."""
    x, kernel, _ = operands
    kernels = jnp.stack([kernel, 2.0 * kernel])

    def loss(k):
        return (bfloat16_matmul(x, k) ** 2).sum()

    batched = jax.vmap(jax.grad(loss))(kernels)
    for member in range(2):
        np.testing.assert_allclose(
            batched[member], jax.grad(loss)(kernels[member]), rtol=1e-5, atol=1e-4
        )


def test_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="matmul_dtype"):
        dense_dot_general("float16")


def _hopper_sac_networks(matmul_dtype: str):
    config = load_config(CONFIGS / "rl" / "hopper-sac.json").model
    return make_networks(
        config.model_copy(update={"matmul_dtype": matmul_dtype}),
        HOPPER_ACTIONS,
        with_q=True,
        continuous_default="squashed_gaussian",
    )


@pytest.mark.parametrize("matmul_dtype, rounded_products", [("float32", 0), ("bfloat16", 1)])
def test_only_products_between_hidden_layers_are_rounded(matmul_dtype, rounded_products):
    """With two hidden layers, one product per network is rounded: the first layer (raw
    observations and actions) and the output layers (Q values, action means and log-stds)
    multiply in float32."""
    nets = _hopper_sac_networks(matmul_dtype)
    obs, action = jnp.zeros((4, 11)), jnp.zeros((4, 3))
    params = nets.init(jax.random.PRNGKey(0), obs[:1])
    programs = {
        "q": jax.make_jaxpr(nets.q_values)(params["q"], obs, action),
        "policy": jax.make_jaxpr(nets.policy.apply)(params["policy"], obs),
    }
    for name, program in programs.items():
        assert str(program).count("custom_vjp_call") == rounded_products, name


def test_sac_networks_in_bfloat16_keep_float32_parameters():
    """Same parameter tree and dtypes as float32 (checkpoints do not depend on the product
    precision), outputs within bfloat16 rounding of the float32 networks' and not equal to them."""
    nets = {dtype: _hopper_sac_networks(dtype) for dtype in ("float32", "bfloat16")}
    obs = jax.random.normal(jax.random.PRNGKey(1), (8, 11))
    params = nets["float32"].init(jax.random.PRNGKey(0), obs[:1])
    params_bf16 = nets["bfloat16"].init(jax.random.PRNGKey(0), obs[:1])
    assert jax.tree.structure(params) == jax.tree.structure(params_bf16)
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(params_bf16))
    action = jnp.tanh(jax.random.normal(jax.random.PRNGKey(2), (8, 3)))
    q = {dtype: net.q_values(params["q"], obs, action) for dtype, net in nets.items()}
    assert q["bfloat16"].dtype == jnp.float32 and q["bfloat16"].shape == (2, 8)
    difference = np.abs(np.asarray(q["bfloat16"] - q["float32"]))
    assert 0 < difference.max() < 0.05 * (1 + np.abs(np.asarray(q["float32"])).max())
