"""Flax modules: an MLP torso, a policy network producing distribution parameters, a value net."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxl.config.schema import MatmulDtype
from jaxl.models.mixed_precision import dense_dot_general

ACTIVATIONS = {
    "tanh": nn.tanh,
    "relu": nn.relu,
    "gelu": nn.gelu,
    "elu": nn.elu,
    "silu": nn.silu,
    "identity": lambda x: x,
}
"""The activations a network config may name (``model_config...activation``)."""


def orthogonal(scale: float = 1.0) -> nn.initializers.Initializer:
    """Flax's orthogonal initializer, made to factorize one matrix at a time under ``vmap``.

    Vmapped initialisation (a :class:`QEnsemble`, or networks for several seeds at once) would
    otherwise batch the QR factorizations, and jaxlib 0.10.2 runs a batched LAPACK call by
    handing chunks to XLA's CPU thread pool and blocking until they finish: when every pool
    thread is blocked that way (two such calls on a 2-core machine) the program deadlocks.
    :func:`jax.custom_batching.sequential_vmap` turns the batch into a loop instead. The values
    are bit-identical to the batched ones; only the execution differs.

    :param scale: the gain multiplying the orthogonal matrix.
    """
    draw = nn.initializers.orthogonal(scale)

    def init(key: jax.Array, shape: Sequence[int], dtype=jnp.float32) -> jax.Array:
        return jax.custom_batching.sequential_vmap(lambda k: draw(k, shape, dtype))(key)

    return init


def _dense(
    features: int, scale: float, matmul_dtype: MatmulDtype = "float32", **kwargs
) -> nn.Dense:
    return nn.Dense(
        features,
        kernel_init=orthogonal(scale),
        dot_general=dense_dot_general(matmul_dtype),
        **kwargs,
    )


class MLP(nn.Module):
    """Dense layers with an activation after each; orthogonal init with gain sqrt(2).

    :param layers: hidden widths.
    :param activation: a name from :data:`~jaxl.models.networks.ACTIVATIONS`.
    :param matmul_dtype: operand precision of the products between hidden layers
        (:mod:`jaxl.models.mixed_precision`); the first layer, which reads the raw input,
        always multiplies in float32.
    """

    layers: Sequence[int]
    activation: str = "tanh"
    matmul_dtype: MatmulDtype = "float32"

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        x = x.reshape(x.shape[0], -1)
        for i, width in enumerate(self.layers):
            dtype = self.matmul_dtype if i > 0 else "float32"
            x = act(_dense(width, np.sqrt(2.0), dtype)(x))
        return x


class PolicyNetwork(nn.Module):
    """Produces the parameters of the policy distribution for a batch of observations.

    :param layers: hidden widths of the torso.
    :param activation: torso activation.
    :param outputs: action logits (categorical) or action dimensions (continuous).
    :param log_std: ``"state_independent"``, ``"state_dependent"`` or ``"none"`` (no std output).
    :param init_std: initial standard deviation of Gaussian heads.
    :param matmul_dtype: operand precision of the torso's products between hidden layers.
    :return: ``(head, log_std)`` where ``log_std`` is ``None`` for heads without a std.
    """

    layers: Sequence[int]
    activation: str
    outputs: int
    log_std: str = "none"
    init_std: float = 1.0
    matmul_dtype: MatmulDtype = "float32"

    @nn.compact
    def __call__(self, obs: jax.Array) -> tuple[jax.Array, jax.Array | None]:
        h = MLP(self.layers, self.activation, self.matmul_dtype)(obs)
        head = _dense(self.outputs, 0.01)(h)
        init = float(np.log(self.init_std))
        if self.log_std == "state_independent":
            log_std = self.param("log_std", nn.initializers.constant(init), (self.outputs,))
            return head, jnp.broadcast_to(log_std, head.shape)
        if self.log_std == "state_dependent":
            dense = _dense(self.outputs, 0.01, bias_init=nn.initializers.constant(init))
            return head, dense(h)
        return head, None


class ValueNetwork(nn.Module):
    """A state-value function; returns shape ``[B]`` (no trailing axis to broadcast by mistake)."""

    layers: Sequence[int]
    activation: str = "tanh"
    matmul_dtype: MatmulDtype = "float32"

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        h = MLP(self.layers, self.activation, self.matmul_dtype)(obs)
        return _dense(1, 1.0)(h)[:, 0]


class QNetwork(nn.Module):
    """An action-value function ``Q(obs, action)``; returns shape ``[B]``."""

    layers: Sequence[int]
    activation: str = "relu"
    matmul_dtype: MatmulDtype = "float32"

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        x = jnp.concatenate([obs.reshape(obs.shape[0], -1), action], axis=-1)
        h = MLP(self.layers, self.activation, self.matmul_dtype)(x)
        return _dense(1, 1.0)(h)[:, 0]


class QEnsemble(nn.Module):
    """``size`` independent Q networks evaluated as one vmapped computation; returns ``[size, B]``.

    The members share the input and differ only in their (separately initialised) parameters,
    whose leaves carry a leading ``size`` axis.
    """

    layers: Sequence[int]
    activation: str = "relu"
    size: int = 2
    matmul_dtype: MatmulDtype = "float32"

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        ensemble = nn.vmap(
            QNetwork,
            variable_axes={"params": 0},
            split_rngs={"params": True},
            in_axes=None,
            out_axes=0,
            axis_size=self.size,
        )
        return ensemble(self.layers, self.activation, self.matmul_dtype)(obs, action)
