"""Build optax optimisers and learning-rate schedules from :class:`~jaxl.config.OptimizerConfig`."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxl.config.schema import OptimizerConfig, ScheduleConfig


def make_schedule(learning_rate: float | ScheduleConfig, total_steps: int) -> optax.Schedule:
    """A schedule over optimiser steps; ``transition_steps: null`` anneals over ``total_steps``."""
    if isinstance(learning_rate, float):
        return optax.constant_schedule(learning_rate)
    steps = learning_rate.transition_steps or max(total_steps, 1)
    init, end = learning_rate.init_value, learning_rate.end_value
    if learning_rate.schedule == "constant":
        return optax.constant_schedule(init)
    if learning_rate.schedule == "linear":
        return optax.linear_schedule(init, end, steps)
    if learning_rate.schedule == "cosine":
        return optax.cosine_decay_schedule(init, steps, alpha=end / init)
    return optax.exponential_decay(init, steps, learning_rate.decay_rate, end_value=end or None)


def make_optimizer(
    config: OptimizerConfig, total_steps: int
) -> tuple[optax.GradientTransformation, optax.Schedule]:
    """An optax chain ``clip_by_global_norm -> optimiser(schedule)``.

    :param config: optimiser section.
    :param total_steps: optimiser steps in the whole run (for annealed schedules).
    :return: the transformation and its schedule (for logging the learning rate).
    """
    schedule = make_schedule(config.learning_rate, total_steps)
    if config.optimizer == "adam":
        core = optax.adam(schedule, eps=config.eps)
    elif config.optimizer == "adamw":
        core = optax.adamw(
            schedule, eps=config.eps, weight_decay=config.weight_decay, mask=_arrays_not_scalars
        )
    elif config.optimizer == "rmsprop":
        # PyTorch's (and so SB3's) RMSprop: g / (sqrt(nu) + eps); optax's default puts eps
        # inside the square root, which shrinks the steps of small gradients many times over.
        core = optax.rmsprop(
            schedule, decay=config.rmsprop_decay, eps=config.eps, eps_in_sqrt=False
        )
    else:
        core = optax.sgd(schedule)
    if config.max_grad_norm is None:
        return core, schedule
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), core), schedule


def scheduled_steps(opt_state: optax.OptState) -> int:
    """How many steps the optimiser of :func:`make_optimizer` has taken, as its schedule counts
    them: the learning rate of its next step is ``schedule(scheduled_steps(opt_state))``.

    :raises ValueError: ``opt_state`` holds no schedule's step count.
    """
    counts = [
        count
        for path, count in optax.tree_utils.tree_get_all_with_path(opt_state, "count")
        if getattr(path[-1], "tuple_name", None) == "ScaleByScheduleState"
    ]
    if not counts:
        raise ValueError("the optimiser state holds no learning-rate schedule's step count")
    return int(counts[0])


def _arrays_not_scalars(params: optax.Params) -> optax.Params:
    """AdamW's weight-decay mask: decay array parameters (weight matrices, biases, a
    state-independent ``log_std`` vector), not scalar ones such as SAC's log-temperature, which
    decay would pull towards a temperature of 1."""
    return jax.tree.map(lambda leaf: jnp.ndim(leaf) > 0, params)
