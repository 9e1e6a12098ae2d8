"""Edit a MuJoCo model's XML and compile it: the mechanism behind every parameterized MuJoCo env.

The XML is parsed once into MuJoCo's :class:`mujoco.MjSpec` (the XML's in-memory form, with
default classes resolved). Each variant writes the drawn values into the named elements'
attributes and compiles a new :class:`mujoco.MjModel`, so that quantities MuJoCo derives at
compile time (a body's mass and inertia from its geoms' sizes, say) follow the edit.

A body's ``mass`` is set through an explicit inertial element: the body keeps the unmodified
model's centre of mass and principal axes and its inertia is scaled with the mass. Geom edits
then no longer change that body's mass, so a spec may not edit both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import mujoco
import numpy as np

from jaxl.envs.mujoco_warnings import dropping_mujoco_warnings
from jaxl.envs.parameterized.spec import ParameterSpec, SpecError

_COMPILED_FIELDS = {
    ("geom", "size"): "geom_size",
    ("geom", "friction"): "geom_friction",
    ("body", "mass"): "body_mass",
    ("joint", "damping"): "dof_damping",
    ("joint", "frictionloss"): "dof_frictionloss",
    ("joint", "armature"): "dof_armature",
    ("joint", "stiffness"): "jnt_stiffness",
    ("joint", "range"): "jnt_range",
    ("actuator", "gear"): "actuator_gear",
}
"""Where an edited XML attribute shows up in the compiled model (``option.gravity`` aside)."""
_PLURAL = {"geom": "geoms", "body": "bodies", "joint": "joints", "actuator": "actuators"}
_DOF_FIELDS = {"dof_damping", "dof_frictionloss", "dof_armature"}
_OBJECT_TYPES = {
    "geom": mujoco.mjtObj.mjOBJ_GEOM,
    "body": mujoco.mjtObj.mjOBJ_BODY,
    "joint": mujoco.mjtObj.mjOBJ_JOINT,
    "actuator": mujoco.mjtObj.mjOBJ_ACTUATOR,
}


class ModelEditor:
    """Build variants of one MuJoCo model.

    :param xml: the model's XML text.
    :param model_dir: the folder relative includes and meshes are resolved from, or ``None``.
    :param include: included files' contents by name (the DeepMind Control Suite's assets).
    """

    def __init__(
        self, xml: str, model_dir: str | None = None, include: dict[str, bytes] | None = None
    ) -> None:
        self.include = include or {}
        self._spec = mujoco.MjSpec.from_string(xml, include=self.include)
        if model_dir is not None:
            self._spec.modelfiledir = model_dir
        self.degrees = bool(self._spec.compiler.degree)
        """Whether the XML gives angles (joint ranges) in degrees."""
        self.base_model = self.compile()

    def compile(self) -> mujoco.MjModel:
        # Gymnasium's HalfCheetah and dm_control's cheetah and hopper set the deprecated
        # compiler flag settotalmass; MjSpec.compile warns about it for every variant.
        with dropping_mujoco_warnings():
            return self._spec.compile()

    # --- finding elements --------------------------------------------------------------------

    def _element(self, parameter: ParameterSpec):
        if parameter.element == "option":
            return self._spec.option
        elements = list(getattr(self._spec, _PLURAL[parameter.element]))
        name = parameter.element_name
        if name.startswith("#"):  # an unnamed element, by its position in the model
            index = int(name[1:]) if name[1:].isdigit() else -1
            if 0 <= index < len(elements):
                return elements[index]
            raise SpecError(
                f"parameter {parameter.name!r}: {name!r} is not a {parameter.element} position; "
                f"the model has {len(elements)} {_PLURAL[parameter.element]} (#0 to #{len(elements) - 1})"
            )
        element = getattr(self._spec, parameter.element)(name)
        if element is None:
            existing = [e.name for e in elements if e.name]
            raise SpecError(
                f"parameter {parameter.name!r}: the model has no {parameter.element} named "
                f"{name!r} ({_PLURAL[parameter.element]}: {', '.join(existing) or 'none named'})"
            )
        return element

    def _component(self, parameter: ParameterSpec, value) -> int | None:
        if np.ndim(value) == 0:
            if parameter.component not in (None, 0):
                raise SpecError(
                    f"parameter {parameter.name!r}: {parameter.element} {parameter.attribute} is a "
                    f"scalar; component {parameter.component} does not exist"
                )
            return None
        index = parameter.component or 0
        if index >= np.size(value):
            raise SpecError(
                f"parameter {parameter.name!r}: {parameter.element} {parameter.attribute} has "
                f"{np.size(value)} components; component {index} does not exist"
            )
        return index

    def _attribute(self, parameter: ParameterSpec):
        element = self._element(parameter)
        if parameter.element == "body" and parameter.attribute == "mass":
            return element, None
        if not hasattr(element, parameter.attribute):
            raise SpecError(
                f"parameter {parameter.name!r}: a {parameter.element} has no attribute "
                f"{parameter.attribute!r}"
            )
        value = getattr(element, parameter.attribute)
        if (
            parameter.element == "geom"
            and parameter.attribute == "size"
            and (parameter.component or 0) > 0
            and np.isfinite(element.fromto[0])
        ):
            raise SpecError(
                f"parameter {parameter.name!r}: geom {parameter.element_name!r} is placed by "
                "'fromto', which sets its length; only its radius (component 0) can be edited"
            )
        if not isinstance(value, (int, float, np.ndarray)) or isinstance(value, bool):
            raise SpecError(
                f"parameter {parameter.name!r}: {parameter.element} {parameter.attribute} is not "
                "a number or vector of numbers"
            )
        return element, self._component(parameter, value)

    # --- reading and writing -----------------------------------------------------------------

    def _body_id(self, name: str) -> int:
        return element_id(self.base_model, "body", name)

    def default(self, parameter: ParameterSpec) -> float:
        """The unmodified model's value of ``parameter`` (a body's mass: the compiled mass)."""
        element, component = self._attribute(parameter)
        if parameter.element == "body" and parameter.attribute == "mass":
            return float(self.base_model.body_mass[self._body_id(parameter.element_name)])
        value = getattr(element, parameter.attribute)
        return float(value if component is None else value[component])

    def check(self, parameters: Sequence[ParameterSpec]) -> None:
        """Raise :class:`~jaxl.envs.parameterized.spec.SpecError` for a parameter that names
        nothing in the model, or for a body whose mass and geoms are both edited."""
        mass_bodies = {
            p.element_name: p.name
            for p in parameters
            if (p.element, p.attribute) == ("body", "mass")
        }
        total_mass = self._spec.compiler.settotalmass
        for parameter in parameters:
            self._attribute(parameter)
            if parameter.element == "body" and parameter.attribute == "mass" and total_mass > 0:
                raise SpecError(
                    f"parameter {parameter.name!r}: the model rescales all masses to a total of "
                    f"{total_mass} when it is compiled (compiler settotalmass), so a body's mass "
                    "cannot be set; edit geom sizes instead"
                )
            if parameter.element == "geom" and parameter.attribute in ("size", "density", "mass"):
                body = self._element(parameter).parent.name
                if body in mass_bodies:
                    raise SpecError(
                        f"parameter {parameter.name!r}: it edits a geom of body {body!r}, whose "
                        f"mass parameter {mass_bodies[body]!r} fixes that body's mass; edit one"
                    )

    def to_xml(self) -> str:
        """The XML of the last variant built (MuJoCo writes numbers with 6 significant digits)."""
        return self._spec.to_xml()

    def build(
        self, parameters: Sequence[ParameterSpec], values: dict[str, float]
    ) -> mujoco.MjModel:
        """Write ``values`` into the XML spec and compile a new model."""
        for parameter in parameters:
            value = values[parameter.name]
            element, component = self._attribute(parameter)
            if parameter.element == "body" and parameter.attribute == "mass":
                self._set_body_mass(element, parameter.element_name, value)
            elif component is None:
                setattr(element, parameter.attribute, value)
            else:
                current = np.array(getattr(element, parameter.attribute), dtype=float)
                current[component] = value
                setattr(element, parameter.attribute, current)
        return self.compile()

    def _set_body_mass(self, body, name: str, mass: float) -> None:
        base = self.base_model
        index = self._body_id(name)
        scale = mass / base.body_mass[index] if base.body_mass[index] > 0 else 1.0
        if self._spec.compiler.inertiafromgeom == mujoco.mjtInertiaFromGeom.mjINERTIAFROMGEOM_TRUE:
            # "true" ignores explicit inertials; "auto" uses them where given and geoms elsewhere,
            # which leaves every other body as it was.
            self._spec.compiler.inertiafromgeom = mujoco.mjtInertiaFromGeom.mjINERTIAFROMGEOM_AUTO
        body.explicitinertial = True
        body.mass = mass
        body.ipos = base.body_ipos[index]
        body.iquat = base.body_iquat[index]
        body.inertia = base.body_inertia[index] * scale
        body.fullinertia = np.full(6, np.nan)


def element_id(model: mujoco.MjModel, element: str, name: str) -> int:
    """The compiled model's index of a named element, or of ``#N`` (the N-th of its kind)."""
    if name.startswith("#"):
        return int(name[1:])
    return mujoco.mj_name2id(model, _OBJECT_TYPES[element], name)


def compiled_value(model: mujoco.MjModel, parameter: ParameterSpec, degrees: bool = True) -> float:
    """Read ``parameter``'s value back from a compiled model, in the XML's units.

    :param degrees: whether the XML gives joint ranges in degrees (MuJoCo's default).
    """
    if parameter.element == "option":
        value = np.asarray(getattr(model.opt, parameter.attribute))
        return float(value if value.ndim == 0 else value[parameter.component or 0])
    field = _COMPILED_FIELDS.get((parameter.element, parameter.attribute))
    if field is None:
        raise SpecError(
            f"parameter {parameter.name!r}: reading {parameter.element} {parameter.attribute} "
            "back from a compiled model is not supported"
        )
    index = element_id(model, parameter.element, parameter.element_name)
    if field in _DOF_FIELDS:
        index = int(model.jnt_dofadr[index])
    value = np.asarray(getattr(model, field)[index])
    value = float(value if value.ndim == 0 else value[parameter.component or 0])
    if field == "jnt_range" and degrees:
        joint_type = model.jnt_type[element_id(model, "joint", parameter.element_name)]
        if int(joint_type) in (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_BALL)):
            value = math.degrees(value)
    return value
