"""Parameter specs: which physical quantities of an environment are drawn, from what range and law.

A spec is JSON. Each env ships one in ``jaxl/envs/specs/``; users can pass their own file or
override ranges from ``env_config``. Example entry::

    {"name": "foot_radius", "element": "geom", "element_name": "foot_geom", "attribute": "size",
     "component": 0, "default": 0.06, "range": [0.04, 0.08], "law": "uniform"}

``range_type: "scale"`` reads the range as multiples of ``default``. ``element: "env"`` names a
Python attribute of a classic-control env instead of a MuJoCo model element.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from jaxl.config.schema import NonNegativeInt, ParameterOverride, RangePair, Section, _got
from jaxl.errors import InputError

SPEC_DIR = Path(__file__).resolve().parent.parent / "specs"
"""Where the default specs live, one ``<env name>.json`` per registered env."""

Element = Literal["geom", "body", "joint", "actuator", "option", "env"]
Law = Literal["uniform", "log_uniform"]

POSITIVE_ATTRIBUTES = frozenset(
    {"mass", "size", "timestep", "max_torque", "m", "l", "masscart", "masspole", "length"}
    | {"force_mag", "link_length_1", "link_length_2", "link_mass_1", "link_mass_2"}
)
"""Attributes whose every value must be > 0 (a negative mass or size is a spec error)."""
NONNEGATIVE_ATTRIBUTES = frozenset(
    {"damping", "frictionloss", "stiffness", "friction", "armature", "success_rate"}
    | {"density", "viscosity"}
)
"""Attributes whose every value must be >= 0."""


class SpecError(InputError):
    """A parameter spec is invalid; the message names the parameter and the problem."""


class ParameterSpec(Section):
    """One drawn quantity."""

    name: str = Field(min_length=1)
    """The parameter's name in ``task_params``, ``info`` and overrides."""
    element: Element
    """The kind of model element edited (``env``: an attribute of a classic-control env)."""
    element_name: str | None = None
    """The element's ``name`` in the model XML; ``null`` for ``option`` and ``env``."""
    attribute: str
    """The XML attribute (``size``, ``mass``, ``damping``, ``gravity``, ...) or env attribute."""
    component: NonNegativeInt | None = None
    """Index into a vector attribute (``size``'s radius is 0); ``null`` means 0 for vectors."""
    default: float | None = None
    """The unmodified value; read from the model when omitted, checked against it when given."""
    range: RangePair
    """``[low, high]``: absolute values, or multiples of ``default`` with ``range_type: scale``."""
    range_type: Literal["absolute", "scale"] = "absolute"
    law: Law = "uniform"
    """``uniform`` in the value, or ``log_uniform`` (uniform in its logarithm; needs low > 0)."""
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> ParameterSpec:
        needs_name = self.element not in ("option", "env")
        if needs_name and not self.element_name:
            raise ValueError(f"a {self.element} parameter needs element_name")
        low, high = self.range
        if low > high:
            raise ValueError(f"range: min {low} is above max {high}")
        return self

    def bounds(self) -> tuple[float, float]:
        """The absolute ``(low, high)`` the value is drawn from."""
        low, high = self.range
        if self.range_type == "scale":
            if self.default is None:
                raise SpecError(f"parameter {self.name!r}: range_type 'scale' needs a default")
            low, high = sorted((low * self.default, high * self.default))
        return low, high

    def check_bounds(self) -> None:
        """Raise :class:`~jaxl.envs.parameterized.spec.SpecError` if the law or the attribute
        cannot take the range."""
        low, high = self.bounds()
        if self.law == "log_uniform" and low <= 0:
            raise SpecError(
                f"parameter {self.name!r}: law 'log_uniform' needs a range above 0, got [{low}, {high}]"
            )
        attribute = self.attribute.lower()
        if attribute in POSITIVE_ATTRIBUTES and low <= 0:
            raise SpecError(
                f"parameter {self.name!r}: {self.element} {attribute} must be > 0, "
                f"but the range [{low}, {high}] allows {low}"
            )
        if attribute in NONNEGATIVE_ATTRIBUTES and low < 0:
            raise SpecError(
                f"parameter {self.name!r}: {self.element} {attribute} must be >= 0, "
                f"but the range [{low}, {high}] allows {low}"
            )

    def normalize(self, value: float) -> float:
        """Map ``value`` to [-1, 1] over the range (in log space for ``log_uniform``)."""
        low, high = self.bounds()
        if high == low:
            return 0.0
        if self.law == "log_uniform":
            value, low, high = math.log(value), math.log(low), math.log(high)
        return 2.0 * (value - low) / (high - low) - 1.0


class EnvParameterSpec(Section):
    """Every drawn parameter of one env."""

    env_id: str
    """The parameterized env's Gymnasium id, e.g. ``jaxl/Hopper-v5``."""
    base: str
    """What it modifies: a Gymnasium id, or ``domain-task`` for the DeepMind Control Suite."""
    kind: Literal["gymnasium_mujoco", "dm_control", "classic_control"]
    description: str = ""
    parameters: list[ParameterSpec]

    @model_validator(mode="after")
    def _unique_names(self) -> EnvParameterSpec:
        seen: set[str] = set()
        for parameter in self.parameters:
            if parameter.name in seen:
                raise ValueError(f"parameter name {parameter.name!r} appears twice")
            seen.add(parameter.name)
        return self

    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def with_overrides(self, overrides: dict[str, ParameterOverride]) -> EnvParameterSpec:
        """Apply ``overrides`` by parameter name (an unknown name is a
        :class:`~jaxl.envs.parameterized.spec.SpecError`)."""
        by_name = {p.name: p for p in self.parameters}
        for name in overrides:
            if name not in by_name:
                raise SpecError(
                    f"parameter_overrides.{name}: {self.env_id} has no parameter {name!r} "
                    f"(it has: {', '.join(by_name)})"
                )
        changed = []
        for parameter in self.parameters:
            override = overrides.get(parameter.name)
            if override is not None:
                update = override.model_dump(exclude_none=True)
                try:
                    parameter = ParameterSpec.model_validate({**parameter.model_dump(), **update})
                except ValidationError as error:
                    raise SpecError(
                        _describe(error, {}, f"parameter_overrides.{parameter.name}")
                    ) from None
            changed.append(parameter)
        return self.model_copy(update={"parameters": changed})


def _describe(error: ValidationError, data, source: str) -> str:
    """One line per problem, naming the parameter by index and name."""
    lines = []
    parameters = data.get("parameters") if isinstance(data, dict) else None
    for item in error.errors():
        loc = list(item["loc"])
        where = source
        if len(loc) >= 2 and loc[0] == "parameters" and isinstance(loc[1], int):
            name = None
            if isinstance(parameters, list) and loc[1] < len(parameters):
                entry = parameters[loc[1]]
                name = entry.get("name") if isinstance(entry, dict) else None
            where += f": parameter {name!r}" if name else f": parameters[{loc[1]}]"
            loc = loc[2:]
        elif loc:
            where += ":"
        field = ".".join(str(p) for p in loc if not str(p).startswith(("literal[", "function-")))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "literal_error":
            message = f"expected {item['ctx']['expected']}, got {_got(item.get('input'))}"
        elif item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{where} {field + ': ' if field else ''}{message}".replace(":  ", ": "))
    return "\n  ".join(lines)


def parse_spec(data: dict, source: str) -> EnvParameterSpec:
    """Validate a spec given as JSON data; errors name the parameter and the problem."""
    try:
        spec = EnvParameterSpec.model_validate(data)
    except ValidationError as error:
        raise SpecError(
            f"invalid parameter spec {source}:\n  {_describe(error, data, source)}"
        ) from None
    for parameter in spec.parameters:
        if parameter.default is not None:
            parameter.check_bounds()
    return spec


def load_spec(path: str | Path) -> EnvParameterSpec:
    """Read and validate a spec file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"parameter spec file not found: {path}") from None
    except json.JSONDecodeError as error:
        raise SpecError(f"parameter spec {path} is not valid JSON: {error}") from None
    except (OSError, UnicodeDecodeError) as error:  # a folder, no permission, not text
        raise SpecError(f"cannot read parameter spec {path}: {error}") from None
    return parse_spec(data, str(path))


def default_spec_path(env_id: str) -> Path:
    """The shipped spec of a registered parameterized env (``jaxl/Hopper-v5`` ->
    ``specs/Hopper-v5.json``)."""
    return SPEC_DIR / f"{env_id.split('/', 1)[-1]}.json"
