"""How drawn values reach each family of environments.

Every adapter holds the base environment (``env``), offers ``default``, ``check``, ``apply`` and
``value``, says in ``action_scale`` what actions are multiplied by (``None``: nothing), and in
``frame`` what draws the env's ``rgb_array`` frames instead of the base env, where the base env
leaves a drawn parameter out of its picture (``None``: the base env draws them):

* :class:`MujocoPhysics`: Gymnasium MuJoCo envs; edits the model XML and swaps the compiled model
  into the env.
* :class:`DMCPhysics`: DeepMind Control Suite tasks; edits the domain's XML and reloads the
  task's physics from the compiled model.
* :class:`AttributePhysics`: classic-control envs, whose physics are Python attributes.
* :class:`FrozenLakePhysics`: a new lake (map, slip) per variant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gymnasium as gym
import mujoco
import numpy as np

from jaxl.envs.parameterized.model_editing import ModelEditor, compiled_value
from jaxl.envs.parameterized.spec import ParameterSpec, SpecError


class MujocoPhysics:
    """A Gymnasium MuJoCo env (``Hopper-v5``, ...) whose model is rebuilt from an edited XML."""

    kind = "gymnasium_mujoco"
    action_scale = None
    frame = None

    def __init__(self, base_id: str, **kwargs) -> None:
        self.env = gym.make(base_id, **kwargs).unwrapped
        self._editor: ModelEditor | None = None

    @property
    def editor(self) -> ModelEditor:
        if self._editor is None:  # parsed on first use: an unmodified env never needs it
            with open(self.env.fullpath) as file:
                xml = file.read()
            self._editor = ModelEditor(xml, model_dir=self.env.fullpath.rsplit("/", 1)[0])
        return self._editor

    @property
    def model(self) -> mujoco.MjModel:
        return self.env.model

    def default(self, parameter: ParameterSpec) -> float | None:
        return self.editor.default(parameter)

    def check(self, parameters: Sequence[ParameterSpec]) -> None:
        self.editor.check(parameters)

    def apply(self, parameters: Sequence[ParameterSpec], values: dict[str, float]) -> None:
        env = self.env
        old = env.model.vis.global_
        env.model = self.editor.build(parameters, values)
        # Gymnasium enlarges the offscreen framebuffer to the requested frame size in the model
        # it loads; the rebuilt model would render larger frames with a black band.
        env.model.vis.global_.offwidth = old.offwidth
        env.model.vis.global_.offheight = old.offheight
        env.data = mujoco.MjData(env.model)
        renderer = env.mujoco_renderer
        renderer.close()  # its viewers hold the old model; new ones are made on the next render
        renderer.model, renderer.data = env.model, env.data

    def value(self, parameter: ParameterSpec) -> float:
        """The value in the env's current compiled model."""
        return compiled_value(self.model, parameter, self.editor.degrees)


#: dm_control's manipulator builds one model per task: ``make_model(use_peg, insert)``.
_MANIPULATOR_PROPS = {
    "bring_ball": (False, False),
    "bring_peg": (True, False),
    "insert_ball": (False, True),
    "insert_peg": (True, True),
}


def _dmc_model_and_assets(suite, domain: str, task: str) -> tuple[str | bytes, dict]:
    """The XML and assets a dm_control task is built from: the domain's one model, or for the
    manipulator, the task's (its props removed as the task removes them)."""
    module = getattr(suite, domain)
    if domain == "manipulator":
        return module.make_model(*_MANIPULATOR_PROPS[task])
    return module.get_model_and_assets()


class DMCPhysics:
    """A DeepMind Control Suite task whose physics is reloaded from an edited XML."""

    kind = "dm_control"
    action_scale = None
    frame = None

    def __init__(self, base: str, render_mode: str | None = None, **kwargs) -> None:
        from jaxl.envs.dmc import DMCEnv  # imports dm_control, which only these envs need

        domain, task = base.split("-", 1)
        self.env = DMCEnv(domain, task, render_mode=render_mode, **kwargs)
        self._editor: ModelEditor | None = None

    @property
    def editor(self) -> ModelEditor:
        if self._editor is None:
            from dm_control import suite

            xml, assets = _dmc_model_and_assets(suite, self.env.domain, self.env.task)
            xml = xml.decode() if isinstance(xml, bytes) else xml
            self._editor = ModelEditor(xml, include=assets)
        return self._editor

    @property
    def model(self) -> mujoco.MjModel:
        return self.env.physics.model.ptr

    def default(self, parameter: ParameterSpec) -> float | None:
        return self.editor.default(parameter)

    def check(self, parameters: Sequence[ParameterSpec]) -> None:
        self.editor.check(parameters)

    def apply(self, parameters: Sequence[ParameterSpec], values: dict[str, float]) -> None:
        from dm_control.mujoco import wrapper

        # The public reload_from_xml_string would compile the XML a second time after writing it
        # out with 6 significant digits, which rounds the drawn values; _reload_from_model is the
        # step it ends with (dm_control is pinned).
        self.env.physics._reload_from_model(wrapper.MjModel(self.editor.build(parameters, values)))

    def value(self, parameter: ParameterSpec) -> float:
        return compiled_value(self.model, parameter, self.editor.degrees)


class AttributePhysics:
    """A classic-control env whose physical constants are attributes (``Pendulum``'s ``m``).

    :param derive: recomputes quantities the env derives from its constants at construction
        (``CartPole``'s ``total_mass``), after every change.
    :param scale_action_by: an attribute that scales actions relative to its unmodified value
        (``Pendulum``'s ``max_torque``), so that the action space stays the base env's.
    :param frame: draws the env's ``rgb_array`` frames, where the base env's picture leaves a
        drawn constant out (:func:`pendulum_frame`).
    """

    kind = "classic_control"

    def __init__(
        self,
        base_id: str,
        derive: Callable[[gym.Env], None] | None = None,
        scale_action_by: str | None = None,
        frame: Callable[[gym.Env], np.ndarray] | None = None,
        **kwargs,
    ) -> None:
        self.env = gym.make(base_id, **kwargs).unwrapped
        self.frame = frame
        self._derive = derive
        self._scale_attribute = scale_action_by
        self._base_scale = getattr(self.env, scale_action_by) if scale_action_by else None
        self.action_scale: np.float32 | None = None
        """What actions are multiplied by before the env sees them (``None``: nothing)."""
        self.model = None

    def default(self, parameter: ParameterSpec) -> float | None:
        self.check([parameter])
        return float(getattr(self.env, parameter.attribute))

    def check(self, parameters: Sequence[ParameterSpec]) -> None:
        for parameter in parameters:
            if parameter.element != "env":
                raise SpecError(
                    f"parameter {parameter.name!r}: {self.env.spec.id if self.env.spec else 'this env'} "
                    f"is not a MuJoCo model; use element 'env' with one of its attributes"
                )
            value = getattr(self.env, parameter.attribute, None)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SpecError(
                    f"parameter {parameter.name!r}: the env has no numeric attribute "
                    f"{parameter.attribute!r}"
                )

    def apply(self, parameters: Sequence[ParameterSpec], values: dict[str, float]) -> None:
        for parameter in parameters:
            setattr(self.env, parameter.attribute, values[parameter.name])
        if self._derive is not None:
            self._derive(self.env)
        if self._scale_attribute is not None:
            scale = getattr(self.env, self._scale_attribute) / self._base_scale
            self.action_scale = None if scale == 1.0 else np.float32(scale)

    def value(self, parameter: ParameterSpec) -> float:
        return float(getattr(self.env, parameter.attribute))


def pendulum_frame(env: gym.Env) -> np.ndarray:
    """Pendulum's frame with the rod at its drawn length: Gymnasium draws a rod of length 1
    whatever ``env.l`` is, so variants of other lengths looked alike.

    The view is Gymnasium's: a square of side 4.4 around the pivot, ``env.screen_dim`` pixels
    wide, the angle 0 upright, a red rod 0.2 wide with round ends on white, and a black axle.
    The rod's width also grows with the square root of its mass ``env.m`` (its area with the
    mass), so that mass variants differ too; the torque arrow is left out.

    :return: an ``uint8`` array of shape ``(screen_dim, screen_dim, 3)``.
    """
    size = int(env.screen_dim)
    scale = size / 4.4
    theta = float(env.state[0])
    pivot = np.array([size / 2, size / 2])
    rod = env.l * scale * np.array([-np.sin(theta), -np.cos(theta)])  # image y points down
    ys, xs = np.mgrid[0:size, 0:size]
    points = np.stack([xs, ys], axis=-1) + 0.5 - pivot  # each pixel's centre, from the pivot
    along = np.clip(points @ rod / (rod @ rod), 0.0, 1.0)
    to_rod = np.linalg.norm(points - along[..., None] * rod, axis=-1)
    to_pivot = np.linalg.norm(points, axis=-1)

    def coverage(distance: np.ndarray, radius: float) -> np.ndarray:
        return np.clip(radius - distance + 0.5, 0.0, 1.0)[..., None]  # edges anti-aliased

    image = np.full((size, size, 3), 255.0)
    rod_part = coverage(to_rod, 0.1 * scale * np.sqrt(env.m))
    image = image * (1 - rod_part) + np.array([204.0, 77.0, 77.0]) * rod_part
    image = image * (1 - coverage(to_pivot, 0.05 * scale))
    return np.round(image).astype(np.uint8)


def cartpole_derived(env: gym.Env) -> None:
    """CartPole computes these two from its constants once, in ``__init__``."""
    env.total_mass = env.masspole + env.masscart
    env.polemass_length = env.masspole * env.length


class FrozenLakePhysics:
    """FrozenLake 8x8 whose lake is drawn: a random valid map (``frozen_fraction`` of frozen
    tiles, layout from ``map_seed``) and the probability ``success_rate`` of moving as intended."""

    kind = "classic_control"
    action_scale = None
    frame = None
    _ATTRIBUTES = ("success_rate", "frozen_fraction", "map_seed")

    def __init__(self, base_id: str, **kwargs) -> None:
        self._kwargs = kwargs
        self.env = gym.make(base_id, **kwargs).unwrapped
        self.model = None
        self.success_rate = kwargs.get("success_rate", 1.0 / 3.0)
        """The env does not keep it; the constructor's default unless a variant set it."""
        self.values: dict[str, float] = {}

    def default(self, parameter: ParameterSpec) -> float | None:
        self.check([parameter])
        return {"success_rate": self.success_rate}.get(parameter.attribute)

    def check(self, parameters: Sequence[ParameterSpec]) -> None:
        for parameter in parameters:
            if parameter.element != "env" or parameter.attribute not in self._ATTRIBUTES:
                raise SpecError(
                    f"parameter {parameter.name!r}: FrozenLake's parameters are env attributes "
                    f"{', '.join(self._ATTRIBUTES)}; got {parameter.element} {parameter.attribute!r}"
                )

    def apply(self, parameters: Sequence[ParameterSpec], values: dict[str, float]) -> None:
        from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv, generate_random_map

        drawn = {p.attribute: values[p.name] for p in parameters}
        size = self.env.nrow
        desc = self.env.desc.astype(str).tolist()
        if "map_seed" in drawn or "frozen_fraction" in drawn:
            desc = generate_random_map(
                size=size, p=drawn.get("frozen_fraction", 0.8), seed=int(drawn.get("map_seed", 0))
            )
        previous = self.env
        self.env = FrozenLakeEnv(
            desc=["".join(row) for row in desc],
            is_slippery=True,
            success_rate=drawn.get("success_rate", self.success_rate),
            render_mode=self._kwargs.get("render_mode"),
        )
        # The new lake slips with the old one's generator: a fresh one would be seeded from the
        # OS on the next unseeded reset, and resample="episode" would not be reproducible.
        self.env.np_random = previous.np_random
        self.success_rate = drawn.get("success_rate", self.success_rate)
        self.values = drawn

    def value(self, parameter: ParameterSpec) -> float:
        """Read back from the env: ``success_rate`` is the probability of the intended move in
        its transition table; ``map_seed`` and ``frozen_fraction`` (generator inputs) are the
        drawn values when the env's map is the one they generate, else NaN."""
        if parameter.attribute == "success_rate":
            # Action 0 from the start (never terminal): a slippery lake lists the moves
            # (a - 1, a, a + 1) % 4, the intended one in the middle; a non-slippery one, only it.
            moves = self.env.P[0][0]
            probability, *_ = moves[len(moves) // 2]
            return float(probability)
        drawn = self.values.get(parameter.attribute)
        if drawn is None or not self._map_is_generated():
            return float("nan")
        return float(drawn)

    def _map_is_generated(self) -> bool:
        """Whether the env's map is the one the drawn ``map_seed`` and ``frozen_fraction``
        generate (as :meth:`apply` builds it)."""
        from gymnasium.envs.toy_text.frozen_lake import generate_random_map

        expected = generate_random_map(
            size=self.env.nrow,
            p=self.values.get("frozen_fraction", 0.8),
            seed=int(self.values.get("map_seed", 0)),
        )
        return self.env.desc.astype(str).tolist() == [list(row) for row in expected]
