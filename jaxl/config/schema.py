"""Config schema: one frozen pydantic model per JSON section, one schema per learner.

Every section forbids unknown keys and checks types strictly, so that a typo or a wrong type fails at
load time with the key path named (see :mod:`jaxl.config.loading`). Configs hold names
(``"tanh"``, ``"adam"``), never callables; factories resolve the names.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from jaxl.seeds import MAX_SEED


def _got(value: Any) -> str:
    try:
        return json.dumps(value)
    except TypeError:
        return repr(value)


def _finite_number(value: Any) -> bool:
    """An int, or a float that is neither NaN nor infinite (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _number_check(kind: str, *, integer: bool, minimum: float, inclusive: bool, maximum=None):
    def check(value: Any) -> Any:
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type or not _finite_number(value):
            raise PydanticCustomError("jaxl_number", f"expected {kind}, got {_got(value)}")
        too_low = value < minimum if inclusive else value <= minimum
        too_high = maximum is not None and value > maximum
        if too_low or too_high:
            raise PydanticCustomError("jaxl_range", f"expected {kind}, got {_got(value)}")
        return value if integer else float(value)

    return PlainValidator(check, json_schema_input_type=int if integer else float)


PositiveInt = Annotated[
    int, _number_check("a positive integer", integer=True, minimum=0, inclusive=False)
]
PositiveFloat = Annotated[
    float, _number_check("a positive number", integer=False, minimum=0.0, inclusive=False)
]
NonNegativeInt = Annotated[
    int, _number_check("an integer >= 0", integer=True, minimum=0, inclusive=True)
]
NonNegativeFloat = Annotated[
    float, _number_check("a number >= 0", integer=False, minimum=0.0, inclusive=True)
]
Seed = Annotated[
    int,
    _number_check(
        "an integer from 0 to 2**63 - 1", integer=True, minimum=0, inclusive=True, maximum=MAX_SEED
    ),
]
MAX_STEPS = 2**31 - 1
"""The most env steps or updates a run may count: the learners count them in 32-bit integers."""
Budget = Annotated[
    int,
    _number_check(
        "an integer from 1 to 2**31 - 1",
        integer=True,
        minimum=0,
        inclusive=False,
        maximum=MAX_STEPS,
    ),
]
FiniteFloat = Annotated[
    float, _number_check("a number", integer=False, minimum=-math.inf, inclusive=True)
]
UnitInterval = Annotated[
    float,
    _number_check("a number in [0, 1]", integer=False, minimum=0.0, inclusive=True, maximum=1.0),
]
Activation = Literal["tanh", "relu", "gelu", "elu", "silu", "identity"]
MatmulDtype = Literal["float32", "bfloat16"]
"""The operand precision of dense layers' matrix products (:mod:`jaxl.models.mixed_precision`)."""


READING_A_RUN = "reading_a_run"
"""Validation context key: the config is a run directory's ``config.json`` being read back
(``{READING_A_RUN: True}``). Checks added for new configs, which an older run's config may fail
without harm (keys the learner never read), are then skipped, so the run stays readable."""


def _new_config(info: ValidationInfo) -> bool:
    return not (info.context or {}).get(READING_A_RUN, False)


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, types are strict, values are frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class LoggingConfig(Section):
    """Where a run is written and how often it logs and checkpoints."""

    save_path: str = "runs"
    """Root folder; a run lives in ``<save_path>/<experiment_name>/<run_id>/`` (``~`` is expanded,
    a relative path is taken from the current directory)."""
    experiment_name: str = "default"
    """Folder name grouping runs of one experiment."""
    log_interval: PositiveInt = 1
    """Write a metrics row every this many learner updates."""
    checkpoint_interval: PositiveInt | None = None
    """Checkpoint every this many updates (``null``: only the final checkpoint)."""
    keep_checkpoints: PositiveInt = 3
    """How many of the most recent checkpoints to keep (the final one is always the newest)."""
    tensorboard: bool = True
    """Also write TensorBoard event files next to ``metrics.csv``."""

    @model_validator(mode="after")
    def _plain_name(self) -> LoggingConfig:
        name = self.experiment_name
        if not name or name in (".", "..") or "/" in name or "\\" in name:
            raise PydanticCustomError(
                "jaxl_value",
                f"experiment_name: expected a plain folder name, got {_got(self.experiment_name)}",
            )
        return self


class MLPConfig(Section):
    """A multi-layer perceptron."""

    layers: list[PositiveInt] = Field(default_factory=lambda: [64, 64])
    """Hidden layer widths."""
    activation: Activation = "tanh"
    """Hidden activation."""


LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
"""The range Gaussian heads clip their log-std to (as SB3's SAC does)."""


class PolicyConfig(Section):
    """A policy: an MLP torso and a distribution head."""

    network: MLPConfig = Field(default_factory=MLPConfig)
    distribution: Literal[
        "auto", "categorical", "gaussian", "squashed_gaussian", "deterministic"
    ] = "auto"
    """``auto``: categorical for discrete actions, Gaussian for continuous ones."""
    std: Literal["state_independent", "state_dependent"] = "state_independent"
    """Gaussian heads: a learned vector of log-stds, or stds predicted from the state."""
    init_std: PositiveFloat = 1.0
    """Initial standard deviation of Gaussian heads, within the range the heads clip their
    log-std to (:data:`LOG_STD_MIN`, :data:`LOG_STD_MAX`)."""
    min_std: NonNegativeFloat = 1e-6
    """Lower bound added to the standard deviation."""

    @model_validator(mode="after")
    def _init_std_inside_the_clip(self, info: ValidationInfo) -> PolicyConfig:
        low, high = math.exp(LOG_STD_MIN), math.exp(LOG_STD_MAX)
        if not low <= self.init_std <= high and _new_config(info):
            # Outside, the clip would hold the std at its bound and pass no gradient to it.
            raise PydanticCustomError(
                "jaxl_value",
                f"init_std: expected a number from e**{LOG_STD_MIN:g} to e**{LOG_STD_MAX:g} "
                f"(= {high:.4g}), the range Gaussian heads clip their std to, got {self.init_std}",
            )
        return self


class ModelConfig(Section):
    """The networks a learner needs: a policy, and a value function (actor-critic learners) or a
    Q ensemble (SAC)."""

    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    value: MLPConfig | None = None
    q: MLPConfig | None = None
    """Each member of the Q ensemble (its input is the observation and the action)."""
    num_q: PositiveInt = 2
    """Members of the Q ensemble (2: SAC's twin critics)."""
    matmul_dtype: MatmulDtype = "float32"
    """Operand precision of the matrix products between hidden layers. ``bfloat16`` rounds the
    operands of their forward products and of their input gradients to bfloat16 and accumulates
    in float32; the first and the output layers, weight gradients, parameters, optimiser state
    and all other operations stay float32 (:mod:`jaxl.models.mixed_precision`). It pays off
    only where the hardware multiplies bfloat16 faster than float32 (GPUs; CPUs with
    AVX512-BF16 or AMX)."""


def _changed(section: Section, key: str) -> bool:
    """Whether ``key`` is set to other than its default (a run's config.json lists every key, so
    being present says nothing)."""
    return getattr(section, key) != type(section).model_fields[key].default


def _refuse_if_unread(
    section: Section, key: str, read: bool, why: str, info: ValidationInfo
) -> None:
    """Refuse ``key`` set to other than its default in a new config when ``read`` is false (the
    run would ignore it); ``why`` ends the message. Runs made before the check stay readable."""
    if not read and _changed(section, key) and _new_config(info):
        raise PydanticCustomError("jaxl_value", f"{key}: {why}")


def _refuse_unread_keys(section: Section, readers: dict[str, tuple[str, ...]], kind: str) -> None:
    """Refuse a key set to other than its default when the section's ``kind`` (its schedule or
    optimiser) is not among the ``readers`` of that key."""
    chosen = getattr(section, kind)
    for key, kinds in readers.items():
        if _changed(section, key) and chosen not in kinds:
            names = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
            raise PydanticCustomError(
                "jaxl_value", f"{key}: read by {kind} {names} only, and {kind} is {chosen!r}"
            )


class ScheduleConfig(Section):
    """A learning-rate schedule (an optax schedule)."""

    schedule: Literal["constant", "linear", "cosine", "exponential"]
    init_value: PositiveFloat
    end_value: NonNegativeFloat = 0.0
    """Final value (``linear`` and ``cosine``); for ``exponential``, the bound the rate is
    clipped at (lower when ``decay_rate < 1``, upper when above 1)."""
    decay_rate: PositiveFloat = 0.1
    """``exponential`` only: factor applied over ``transition_steps``."""
    transition_steps: PositiveInt | None = None
    """Optimiser steps over which to anneal; ``null`` means the whole run."""

    @model_validator(mode="after")
    def _keys_of_other_schedules(self, info: ValidationInfo) -> ScheduleConfig:
        if not _new_config(info):
            return self
        annealing = ("linear", "cosine", "exponential")
        readers = {
            "end_value": annealing,
            "decay_rate": ("exponential",),
            "transition_steps": annealing,
        }
        _refuse_unread_keys(self, readers, "schedule")
        if self.schedule == "exponential":
            self._exponential_bound()
        return self

    def _exponential_bound(self) -> None:
        """optax holds an exponential schedule at ``end_value`` from the first step when the
        bound is on the wrong side of ``init_value``, and lets a growing one grow without end."""
        init, end, rate = self.init_value, self.end_value, self.decay_rate
        if rate < 1 and end > init:
            raise PydanticCustomError(
                "jaxl_value",
                f"end_value: a decaying exponential schedule (decay_rate {rate:g} < 1) floors at "
                f"end_value, which must be at most init_value ({init:g}), got {end:g}",
            )
        if rate > 1 and end < init:
            raise PydanticCustomError(
                "jaxl_value",
                f"end_value: a growing exponential schedule (decay_rate {rate:g} > 1) needs a "
                f"cap, end_value, of at least init_value ({init:g}), got {end:g}",
            )


class OptimizerConfig(Section):
    """An optax optimiser with optional gradient clipping."""

    optimizer: Literal["adam", "adamw", "sgd", "rmsprop"] = "adam"
    learning_rate: PositiveFloat | ScheduleConfig = 3e-4
    max_grad_norm: PositiveFloat | None = None
    """Clip gradients to this global norm (``null``: no clipping)."""
    weight_decay: NonNegativeFloat = 0.0
    """``adamw`` only; applies to weights and biases, not to scalar parameters (SAC's
    log-temperature)."""
    eps: PositiveFloat = 1e-8
    """Numerical epsilon of adam/adamw/rmsprop."""
    rmsprop_decay: UnitInterval = 0.99
    """``rmsprop`` only: decay of the running average of squared gradients (PyTorch's alpha),
    below 1 (at 1 the average stays zero and the steps are ``lr * g / eps``)."""

    @model_validator(mode="after")
    def _keys_of_other_optimizers(self, info: ValidationInfo) -> OptimizerConfig:
        if not _new_config(info):
            return self
        readers = {"weight_decay": ("adamw",), "rmsprop_decay": ("rmsprop",)}
        readers["eps"] = ("adam", "adamw", "rmsprop")
        _refuse_unread_keys(self, readers, "optimizer")
        if self.optimizer == "rmsprop" and self.rmsprop_decay == 1.0:
            raise PydanticCustomError(
                "jaxl_value",
                "rmsprop_decay: expected a number in [0, 1), got 1.0 (the average of squared "
                "gradients would stay zero)",
            )
        return self


def _range_pair(value: Any) -> Any:
    if value is None:
        return None
    ok = isinstance(value, (list, tuple)) and len(value) == 2
    if not ok or not all(_finite_number(v) for v in value):
        raise PydanticCustomError(
            "jaxl_range", f"expected [low, high], two numbers, got {_got(value)}"
        )
    return (float(value[0]), float(value[1]))


RangePair = Annotated[
    tuple[float, float],
    PlainValidator(_range_pair),
    PlainSerializer(lambda pair: [pair[0], pair[1]], return_type=list[float]),
]
"""``[low, high]``."""


class ParameterOverride(Section):
    """Changes to one parameter of a parameterized env's spec (all keys optional)."""

    range: RangePair | None = None
    range_type: Literal["absolute", "scale"] | None = None
    law: Literal["uniform", "log_uniform"] | None = None


class EnvConfig(Section):
    """A Gymnasium environment; the keys after ``max_episode_steps`` apply to the parameterized
    envs (``jaxl/...``; the Environments page of the docs lists them)."""

    env_id: str
    """A registered Gymnasium id, e.g. ``CartPole-v1`` or ``jaxl/Hopper-v5``."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments for ``gymnasium.make``."""
    max_episode_steps: PositiveInt | None = None
    """Override the registered time limit."""
    task_seed: Seed | None = None
    """Draw the physics once from this seed (one seed, one task variant); ``null``: unmodified."""
    resample: Literal["never", "episode"] = "never"
    """``episode``: draw new physics at every reset from the reset seed (domain randomization)."""
    observe_params: bool = False
    """Append the normalized parameter vector (in [-1, 1]) to the observation."""
    control_mode: Literal["continuous", "discrete", "bang_bang"] = "continuous"
    """``discrete``: ``discrete_bins`` levels per action dimension; ``bang_bang``: the two
    extremes; either gives a ``Discrete`` action space over all combinations."""
    discrete_bins: PositiveInt = 3
    parameter_spec: str | None = None
    """A parameter spec file to use instead of the env's shipped one."""
    parameter_overrides: dict[str, ParameterOverride] = Field(default_factory=dict)
    """``{parameter name: {"range": [low, high], "range_type": ..., "law": ...}}``."""

    @model_validator(mode="after")
    def _keys_that_apply(self, info: ValidationInfo) -> EnvConfig:
        _refuse_if_unread(
            self,
            "discrete_bins",
            self.control_mode == "discrete",
            f"levels of control_mode 'discrete', and control_mode is {self.control_mode!r}",
            info,
        )
        if self.task_seed is not None and self.resample == "episode" and _new_config(info):
            raise PydanticCustomError(
                "jaxl_value",
                f'task_seed: {self.task_seed} names one variant, but resample: "episode" draws '
                "new physics at every reset, so it would never be simulated; set one of them",
            )
        return self

    def parameterized_kwargs(self) -> dict[str, Any]:
        """The keyword arguments that differ from a parameterized env's defaults."""
        names = (
            "task_seed",
            "resample",
            "observe_params",
            "control_mode",
            "discrete_bins",
            "parameter_spec",
            "parameter_overrides",
        )
        defaults = EnvConfig(env_id=self.env_id)
        return {n: getattr(self, n) for n in names if getattr(self, n) != getattr(defaults, n)}


class BufferConfig(Section):
    """A NumPy buffer: its kind, capacity, and optionally a dataset file to load."""

    buffer_type: Literal["transition", "trajectory"] = "transition"
    buffer_size: PositiveInt | None = None
    """Capacity in transitions (``null``: the learner's natural size, or the dataset's size)."""
    load_path: str | None = None
    """A dataset written by ``jaxl gather`` (``.npz``)."""


class _RolloutConfig(Section):
    """Keys shared by the on-policy learners that update on rollouts of ``num_envs`` x
    ``num_steps`` transitions."""

    task: Literal["reinforcement"] = "reinforcement"
    env_config: EnvConfig
    buffer_config: BufferConfig = Field(default_factory=BufferConfig)
    num_envs: PositiveInt = 8
    """Environments stepped together through ``gymnasium.vector``."""
    num_steps: PositiveInt = 128
    """Steps per environment per rollout."""
    gamma: UnitInterval = 0.99
    vf_coef: NonNegativeFloat = 0.5
    ent_coef: NonNegativeFloat = 0.0
    normalize_advantage: bool = True

    @property
    def rollout_size(self) -> int:
        """Transitions per rollout: ``num_envs * num_steps``."""
        return self.num_envs * self.num_steps

    @property
    def env_steps_per_update(self) -> int:
        """Environment steps (over all envs) per update: one rollout."""
        return self.rollout_size

    @property
    def advantage_batch_size(self) -> int:
        """How many advantages ``normalize_advantage`` normalises together: the rollout's."""
        return self.rollout_size

    @model_validator(mode="after")
    def _online(self, info: ValidationInfo) -> _RolloutConfig:
        if self.buffer_config.load_path is not None:
            raise PydanticCustomError(
                "jaxl_value",
                f"buffer_config.load_path: {self.learner} is online and loads no dataset",
            )
        size = self.rollout_size  # the rollout is the buffer: another size would be ignored
        checked = self.learner == "ppo" or _new_config(info)  # a2c/reinforce runs made before
        if checked and self.buffer_config.buffer_size not in (None, size):
            raise PydanticCustomError(
                "jaxl_value",
                f"buffer_config.buffer_size: must equal num_envs * num_steps (= {size}) for "
                f"{self.learner}, got {self.buffer_config.buffer_size}; the rollout is the "
                "buffer: size it with num_envs and num_steps and leave buffer_size null (the "
                "original JAXL's buffer_size was the rollout's length)",
            )
        if self.normalize_advantage and self.advantage_batch_size < 2 and _new_config(info):
            raise PydanticCustomError(
                "jaxl_value",
                "normalize_advantage: normalising advantages over a batch of one makes each 0, "
                "so the policy gets no gradient; use batches of at least 2 or set it to false",
            )
        return self


class PPOConfig(_RolloutConfig):
    """Proximal Policy Optimisation (Schulman et al., 2017), clipped objective with GAE."""

    learner: Literal["ppo"]
    gae_lambda: UnitInterval = 0.95
    clip_eps: PositiveFloat = 0.2
    """Policy ratio clipping."""
    clip_value: PositiveFloat | None = None
    """Clip value updates to this distance from the old values (``null``: plain MSE)."""
    num_epochs: PositiveInt = 10
    """Passes over each rollout."""
    minibatch_size: PositiveInt = 64
    normalize_obs: bool = False
    """Keep running mean/std of observations in the learner state and normalise with them."""
    obs_clip: PositiveFloat = 10.0
    """Clip normalised observations to ``[-obs_clip, obs_clip]``."""
    normalize_reward: bool = False
    """Divide rewards by the running std of the discounted return (as SB3's ``VecNormalize`` and
    CleanRL's MuJoCo PPO do); the statistics live in the learner state."""
    reward_clip: PositiveFloat | None = None
    """Clip scaled rewards to ``[-reward_clip, reward_clip]``; ``null``: no clip. SB3's
    ``VecNormalize`` and CleanRL's MuJoCo PPO clip at 10."""

    @property
    def advantage_batch_size(self) -> int:
        """PPO normalises advantages per minibatch."""
        return self.minibatch_size

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> PPOConfig:
        _refuse_if_unread(
            self,
            "obs_clip",
            self.normalize_obs,
            "clips normalised observations, and normalize_obs is false",
            info,
        )
        _refuse_if_unread(
            self,
            "reward_clip",
            self.normalize_reward,
            "clips scaled rewards, and normalize_reward is false",
            info,
        )
        size = self.rollout_size
        if size % self.minibatch_size:
            raise PydanticCustomError(
                "jaxl_value",
                f"minibatch_size: must divide num_envs * num_steps (= {size}), "
                f"got {self.minibatch_size}",
            )
        return self


class REINFORCEConfig(_RolloutConfig):
    """REINFORCE (Williams, 1992): Monte Carlo reward-to-go policy gradient, optionally with a
    learned state-value baseline (``model_config.value``)."""

    learner: Literal["reinforce"]
    num_envs: PositiveInt = 4
    num_steps: PositiveInt = 1000
    """Steps per environment per update. Only steps whose episode ends inside the rollout have a
    complete return; the others get zero weight, so make this longer than typical episodes."""
    baseline: bool = True
    """Subtract a learned ``V(s)`` from the return (needs ``model_config.value``)."""

    @model_validator(mode="after")
    def _baseline_keys(self, info: ValidationInfo) -> REINFORCEConfig:
        _refuse_if_unread(
            self,
            "vf_coef",
            self.baseline,
            "weights the baseline's value loss, and baseline is false",
            info,
        )
        return self


class A2CConfig(_RolloutConfig):
    """Advantage actor-critic, the synchronous A3C of Mnih et al. (2016): n-step returns with GAE
    over short rollouts of vectorised envs, one gradient step per rollout."""

    learner: Literal["a2c"]
    num_steps: PositiveInt = 5
    """Steps per environment per update (the n of the n-step return)."""
    gae_lambda: UnitInterval = 1.0
    """1.0: plain n-step returns."""
    normalize_advantage: bool = False


REPLAY_CAPACITY = 1_000_000
"""SAC's replay capacity when ``buffer_config.buffer_size`` is not given (SB3's default)."""


class SACConfig(Section):
    """Soft Actor-Critic (Haarnoja et al., 2018) with twin Q networks, Polyak-averaged targets and
    automatic entropy temperature; continuous actions."""

    task: Literal["reinforcement"] = "reinforcement"
    learner: Literal["sac"]
    env_config: EnvConfig
    buffer_config: BufferConfig = Field(default_factory=BufferConfig)
    """The replay buffer; ``buffer_size`` is its capacity in transitions (``null``:
    :data:`REPLAY_CAPACITY`)."""
    num_envs: PositiveInt = 1
    batch_size: PositiveInt = 256
    learning_starts: NonNegativeInt = 10_000
    """Env steps of uniformly random actions before learning starts (at least one vectorised
    step, so that learning never starts on an empty buffer)."""
    gradient_steps: PositiveInt = 1
    """Gradient steps per training call (fused in one ``lax.scan``)."""
    train_freq: PositiveInt = 1
    """Vectorised env steps between training calls; update-to-data ratio =
    ``gradient_steps / (train_freq * num_envs)``."""
    gamma: UnitInterval = 0.99
    tau: UnitInterval = 0.005
    """Polyak averaging coefficient of the target Q networks."""
    init_alpha: PositiveFloat = 1.0
    """Initial entropy temperature (the temperature throughout when ``autotune_alpha`` is
    false)."""
    autotune_alpha: bool = True
    """Learn the temperature towards ``target_entropy``."""
    target_entropy: FiniteFloat | Literal["auto"] = "auto"
    """``auto``: minus the action dimension."""
    steps_per_update: PositiveInt = 1000
    """Vectorised env steps per learner ``update()`` (the unit of logging, evaluation and
    checkpointing)."""

    @property
    def env_steps_per_update(self) -> int:
        """Environment steps (over all envs) per update."""
        return self.steps_per_update * self.num_envs

    @model_validator(mode="after")
    def _sizes(self, info: ValidationInfo) -> SACConfig:
        _refuse_if_unread(
            self,
            "target_entropy",
            self.autotune_alpha,
            "the temperature is learned towards it, and autotune_alpha is false (the "
            "temperature stays init_alpha)",
            info,
        )
        capacity = self.buffer_config.buffer_size
        if capacity is not None and capacity < self.batch_size:
            raise PydanticCustomError(
                "jaxl_value",
                f"buffer_config.buffer_size: must be at least batch_size (= {self.batch_size}), "
                f"got {capacity}",
            )
        if capacity is not None and capacity < self.num_envs:
            # Each env step stores one transition per env in a single append.
            raise PydanticCustomError(
                "jaxl_value",
                f"buffer_config.buffer_size: must be at least num_envs (= {self.num_envs}), "
                f"got {capacity}",
            )
        if self.buffer_config.load_path is not None:
            raise PydanticCustomError(
                "jaxl_value", "buffer_config.load_path: sac starts from an empty replay buffer"
            )
        return self


class BCConfig(Section):
    """Behaviour cloning: supervised learning of the policy from a dataset of transitions."""

    task: Literal["imitation"] = "imitation"
    learner: Literal["bc"]
    buffer_config: BufferConfig
    env_config: EnvConfig | None = None
    """Environment for evaluation (``null``: the one recorded in the dataset)."""
    batch_size: PositiveInt = 256
    gradient_steps_per_update: PositiveInt = 100
    """Gradient steps fused into one jitted ``update()``."""
    loss: Literal["auto", "nll", "mse"] = "auto"
    """``nll``: negative log-likelihood (cross-entropy for discrete actions); ``mse``: squared
    error of the policy's mode (continuous actions); ``auto``: ``nll``."""
    validation_fraction: UnitInterval = 0.0
    """Hold out this fraction of the dataset's episodes (whole episodes, the same ones in every
    run on the dataset) and log the loss on them after every update as ``validation_bc_loss``
    (and ``validation_accuracy`` for discrete actions); ``0``: train on every transition."""

    @model_validator(mode="after")
    def _needs_dataset(self) -> BCConfig:
        if self.buffer_config.load_path is None:
            raise PydanticCustomError(
                "jaxl_value", "buffer_config.load_path: bc needs a dataset file, got null"
            )
        if self.validation_fraction == 1.0:
            raise PydanticCustomError(
                "jaxl_value",
                "validation_fraction: 1.0 holds out every episode and leaves none to train on",
            )
        return self


LearnerConfig = Annotated[
    PPOConfig | REINFORCEConfig | A2CConfig | SACConfig | BCConfig,
    Field(discriminator="learner"),
]


class TrainConfig(Section):
    """The training budget and evaluation cadence."""

    total_env_steps: Budget | None = None
    """Online learners: the budget in environment steps, rounded down to whole updates (at
    least one, so a budget below one update runs one whole update). At most 2**31 - 1: the
    learners count steps in 32-bit integers on the device."""
    total_updates: Budget | None = None
    """Stop after this many learner updates (at most 2**31 - 1, and online, at most 2**31 - 1
    env steps in all)."""
    eval_interval: PositiveInt | None = None
    """Evaluate every this many updates (and always at the end); ``null``: only at the end."""
    eval_episodes: PositiveInt = 10
    deterministic_eval: bool = True


class ExperimentConfig(Section):
    """A whole experiment, as in a JSON config file."""

    description: str = ""
    logging_config: LoggingConfig = Field(default_factory=LoggingConfig)
    model: ModelConfig = Field(default_factory=ModelConfig, alias="model_config")
    optimizer_config: OptimizerConfig = Field(default_factory=OptimizerConfig)
    learner_config: LearnerConfig
    train_config: TrainConfig
    seed: Seed | None = None
    """The run seed, recorded in the run's resolved config; ``jaxl train`` uses it when
    ``--seed`` is not given, and ``--seed`` replaces it."""
    jaxl_version: str | None = None
    """Set when a run starts; recorded in the run's resolved config."""
    dataset_sha256: str | None = None
    """Set when an offline run starts: the SHA-256 of its dataset file, so that ``jaxl resume``
    can refuse a file that has changed since. A record, never read from a config you write."""
    task_params: dict[str, float | None] | None = None
    """Set when a run starts on a parameterized env: the physical parameters drawn from
    ``env_config.task_seed`` (with ``resample: episode``, those before the first reset). A record,
    never read back: the env config alone determines them."""

    @model_validator(mode="after")
    def _budget(self, info: ValidationInfo) -> ExperimentConfig:
        train = self.train_config
        online = self.learner_config.task == "reinforcement"
        if (train.total_env_steps is None) == (train.total_updates is None):
            raise PydanticCustomError(
                "jaxl_value",
                "train_config: give exactly one of total_env_steps and total_updates",
            )
        if not online and train.total_env_steps is not None:
            raise PydanticCustomError(
                "jaxl_value",
                f"train_config.total_env_steps: {self.learner_config.learner} is offline; "
                "use total_updates",
            )
        learner = self.learner_config
        if online and learner.env_steps_per_update > MAX_STEPS and _new_config(info):
            raise PydanticCustomError(
                "jaxl_value",
                f"learner_config: one update takes {learner.env_steps_per_update} env steps "
                "(num_envs times the steps per env), more than the 2**31 - 1 the learners count "
                "in 32-bit integers",
            )
        if online and train.total_updates is not None and _new_config(info):
            steps = train.total_updates * learner.env_steps_per_update
            if steps > MAX_STEPS:
                raise PydanticCustomError(
                    "jaxl_value",
                    f"train_config.total_updates: {train.total_updates} updates of "
                    f"{learner.env_steps_per_update} env steps are {steps} env steps, more than "
                    "the 2**31 - 1 the learners count in 32-bit integers",
                )
        needs_value = learner.learner in ("ppo", "a2c") or (
            learner.learner == "reinforce" and learner.baseline
        )
        if needs_value and self.model.value is None:
            why = "a value network" if learner.learner != "reinforce" else "a value baseline"
            raise PydanticCustomError(
                "jaxl_value",
                f"model_config.value: {learner.learner} needs {why}, got null",
            )
        if learner.learner == "sac" and self.model.q is None:
            raise PydanticCustomError(
                "jaxl_value", "model_config.q: sac needs Q networks, got null"
            )
        if _new_config(info):
            self._no_ignored_keys(needs_value)
        return self

    def _no_ignored_keys(self, needs_value: bool) -> None:
        """Keys this learner does not read may keep their defaults (a run's config.json lists
        every key), but any other value is an error rather than a silently ignored setting."""
        learner = self.learner_config
        if learner.learner != "sac":
            for key in ("q", "num_q"):
                if _changed(self.model, key):
                    raise PydanticCustomError(
                        "jaxl_value",
                        f"model_config.{key}: only sac has Q networks; {learner.learner} does not "
                        "read this key",
                    )
        if self.model.value is not None and not needs_value:
            which = "reinforce without baseline: true" if learner.learner == "reinforce" else None
            raise PydanticCustomError(
                "jaxl_value",
                f"model_config.value: {which or learner.learner} has no value network; remove "
                "the key",
            )
        if learner.buffer_config.buffer_type != "transition":
            raise PydanticCustomError(
                "jaxl_value",
                f"learner_config.buffer_config.buffer_type: {learner.learner} learns from "
                "transitions; no learner reads a 'trajectory' buffer yet",
            )

    def to_json_dict(self) -> dict[str, Any]:
        """The config as plain JSON data, with the original key names."""
        return self.model_dump(mode="json", by_alias=True)
