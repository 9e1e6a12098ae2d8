"""Running mean/std of observations, as an optax-style ``init``/``update`` pair over a NamedTuple."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class RunningMeanStdState(NamedTuple):
    """Mean, variance and (pseudo-)count of everything seen so far."""

    mean: jax.Array
    var: jax.Array
    count: jax.Array


def init_running_mean_std(shape: tuple[int, ...]) -> RunningMeanStdState:
    """Zero mean, unit variance, a tiny count (so the first batch dominates)."""
    return RunningMeanStdState(jnp.zeros(shape), jnp.ones(shape), jnp.asarray(1e-4))


def update_running_mean_std(state: RunningMeanStdState, batch: jax.Array) -> RunningMeanStdState:
    """Merge the moments of ``batch`` (leading axes are samples) with parallel-variance formulas."""
    batch = batch.reshape(-1, *state.mean.shape)
    batch_mean, batch_var = batch.mean(0), batch.var(0)
    batch_count = batch.shape[0]
    total = state.count + batch_count
    delta = batch_mean - state.mean
    mean = state.mean + delta * batch_count / total
    m2 = (
        state.var * state.count
        + batch_var * batch_count
        + delta**2 * state.count * batch_count / total
    )
    return RunningMeanStdState(mean, m2 / total, total)


def normalize(state: RunningMeanStdState, x: jax.Array, clip: float) -> jax.Array:
    """``clip((x - mean) / sqrt(var + 1e-8), -clip, clip)``."""
    return jnp.clip((x - state.mean) / jnp.sqrt(state.var + 1e-8), -clip, clip)


class RewardScaleState(NamedTuple):
    """Per-env discounted return so far and the running statistics of those returns."""

    discounted_return: jax.Array
    return_stats: RunningMeanStdState


def init_reward_scale(num_envs: int) -> RewardScaleState:
    """Zero returns for ``num_envs`` envs and fresh statistics."""
    return RewardScaleState(jnp.zeros(num_envs), init_running_mean_std(()))


def scale_rewards(
    state: RewardScaleState,
    rewards: jax.Array,
    dones: jax.Array,
    gamma: float,
    clip: float | None = None,
) -> tuple[RewardScaleState, jax.Array]:
    """Divide a ``[T, N]`` block of rewards by the running std of the discounted return.

    This is the reward scaling of Engstrom et al. (2020) and Gymnasium's ``NormalizeReward``: the
    per-env return ``G <- gamma * G + r`` (reset when an episode ends) feeds running statistics,
    and rewards are divided (not centred) by their standard deviation. The statistics include the
    block being scaled.

    :param clip: clip the scaled rewards to ``[-clip, clip]`` (``None``: no clip).
    """

    def accumulate(carry: jax.Array, step: tuple[jax.Array, jax.Array]):
        reward, done = step
        ret = carry * gamma + reward
        return ret * (1.0 - done), ret

    last, returns = jax.lax.scan(
        accumulate, state.discounted_return, (rewards, dones.astype(rewards.dtype))
    )
    stats = update_running_mean_std(state.return_stats, returns)
    scaled = rewards / jnp.sqrt(stats.var + 1e-8)
    if clip is not None:
        scaled = jnp.clip(scaled, -clip, clip)
    return RewardScaleState(last, stats), scaled
