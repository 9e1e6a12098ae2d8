"""Parameterized environments: unmodified = base env, seeded variants, spaces, resampling,
recording, bad specs and the ``jaxl envs`` commands. Every env here is a real Gymnasium, MuJoCo or
DeepMind Control Suite env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import jaxl.envs  # noqa: F401  (registers the jaxl/ envs)
from jaxl.config.schema import EnvConfig
from jaxl.envs import EnvError, make_env
from jaxl.envs.parameterized import PARAMETERIZED_ENVS, SpecError, make_parameterized
from jaxl.envs.parameterized.physics import DMCPhysics
from jaxl.errors import InputError

ALL_ENVS = list(PARAMETERIZED_ENVS)
MUJOCO_ENVS = [i for i, e in PARAMETERIZED_ENVS.items() if e.physics.__name__ != "AttributePhysics"]
MUJOCO_ENVS = [i for i in MUJOCO_ENVS if "FrozenLake" not in i]


def _base_env(env_id: str):
    """The unmodified env the parameterized one must equal: the Gymnasium env, or for DMC the
    dm_control suite task itself (flattened here, independently of JAXL's adapter)."""
    entry = PARAMETERIZED_ENVS[env_id]
    if entry.physics is DMCPhysics:
        return None
    return gym.make(entry.base)


def _rollout_gym(env, seed: int, actions) -> tuple[list, list]:
    observations, rewards = [env.reset(seed=seed)[0]], []
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        observations.append(obs)
        rewards.append((reward, terminated, truncated))
        if terminated or truncated:
            observations.append(env.reset()[0])
    return observations, rewards


def _rollout_dm_control(domain: str, task: str, seed: int, actions) -> tuple[list, list]:
    from dm_control import suite

    env = suite.load(domain, task, task_kwargs={"random": seed})
    flat = lambda ts: np.concatenate([np.ravel(v) for v in ts.observation.values()])  # noqa: E731
    observations, rewards = [flat(env.reset())], []
    for action in actions:
        ts = env.step(action)
        observations.append(flat(ts))
        rewards.append(ts.reward)
    return observations, rewards


@pytest.mark.parametrize("env_id", ALL_ENVS)
def test_unmodified_env_equals_base_env(env_id):
    """task_seed null: same spaces, and the same observations and rewards for the same reset seed
    and 100 random actions."""
    env = gym.make(env_id, task_seed=None)
    entry = PARAMETERIZED_ENVS[env_id]
    env.action_space.seed(123)
    actions = [env.action_space.sample() for _ in range(100)]
    if entry.physics is DMCPhysics:
        domain, task = entry.base.split("-", 1)
        base_obs, base_rewards = _rollout_dm_control(domain, task, 5, actions)
        obs, rewards = [env.reset(seed=5)[0]], []
        for action in actions:
            o, r, *_ = env.step(action)
            obs.append(o)
            rewards.append(r)
        np.testing.assert_array_equal(np.stack(obs), np.stack(base_obs).astype(np.float32))
        np.testing.assert_array_equal(rewards, base_rewards)
    else:
        base = _base_env(env_id)
        assert env.observation_space == base.observation_space
        assert env.action_space == base.action_space
        obs, rewards = _rollout_gym(env, 5, actions)
        base_obs, base_rewards = _rollout_gym(base, 5, actions)
        np.testing.assert_array_equal(np.stack(obs), np.stack(base_obs))
        assert rewards == base_rewards
    for name, default in env.unwrapped.default_params().items():
        if default is not None:  # read back from the compiled model or the env
            assert env.unwrapped.model_value(name) == pytest.approx(default, rel=1e-9), name


@pytest.mark.parametrize("env_id", ALL_ENVS)
def test_task_seeds_draw_different_values_inside_the_ranges(env_id):
    """Two task seeds give different built values (read back from the compiled model or the env),
    each equal to the drawn value and inside its range; spaces stay the base env's."""
    base = gym.make(env_id)
    variants = [gym.make(env_id, task_seed=seed).unwrapped for seed in (0, 1)]
    for variant in variants:
        assert variant.observation_space == base.observation_space
        assert variant.action_space == base.action_space
        for parameter in variant.spec_params.parameters:
            built = variant.model_value(parameter.name)
            drawn = variant.task_params[parameter.name]
            low, high = parameter.bounds()
            assert built == pytest.approx(drawn, rel=1e-9, abs=1e-12), parameter.name
            assert low <= built <= high, parameter.name
    first, second = (v.task_params for v in variants)
    assert all(first[name] != second[name] for name in first)


def test_compiled_model_arrays_differ_between_task_seeds():
    """The MuJoCo model arrays themselves change: masses, geom sizes, damping, gravity."""
    models = [gym.make("jaxl/Hopper-v5", task_seed=seed).unwrapped.model for seed in (0, 1)]
    base = gym.make("Hopper-v5").unwrapped.model
    for field in ("body_mass", "geom_size", "dof_damping", "geom_friction"):
        assert not np.array_equal(getattr(models[0], field), getattr(models[1], field)), field
        assert not np.array_equal(getattr(models[0], field), getattr(base, field)), field
    assert models[0].opt.gravity[2] != models[1].opt.gravity[2]
    # Bodies without a mass parameter keep their geometry-derived masses unless their geoms change.
    torso = 1
    assert models[0].body_mass[torso] == pytest.approx(
        gym.make("jaxl/Hopper-v5", task_seed=0).unwrapped.task_params["torso_mass"]
    )


_PROBE = """
import json, sys
import gymnasium as gym
import jaxl.envs
env = gym.make(sys.argv[1], task_seed=int(sys.argv[2])).unwrapped
m = env.model
print(json.dumps({"params": env.task_params, "mass": m.body_mass.tolist(),
                  "size": m.geom_size.tolist(), "damping": m.dof_damping.tolist(),
                  "gravity": m.opt.gravity.tolist()}))
"""


@pytest.mark.parametrize("env_id", ["jaxl/Hopper-v5", "jaxl/DMC-cheetah-run-v0"])
def test_one_task_seed_gives_identical_models_in_separate_processes(env_id):
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", _PROBE, env_id, "11"],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    here = gym.make(env_id, task_seed=11).unwrapped
    assert runs[0]["params"] == here.task_params
    assert runs[0]["mass"] == here.model.body_mass.tolist()


def test_observe_params_and_control_modes_change_only_what_they_say():
    base = gym.make("Hopper-v5")
    observed = gym.make("jaxl/Hopper-v5", task_seed=2, observe_params=True)
    count = len(observed.unwrapped.spec_params.parameters)
    assert observed.observation_space.shape == (base.observation_space.shape[0] + count,)
    obs, _ = observed.reset(seed=0)
    np.testing.assert_allclose(obs[-count:], observed.unwrapped.param_vector())
    assert np.all(np.abs(obs[-count:]) <= 1.0)
    assert observed.action_space == base.action_space

    discrete = gym.make("jaxl/Hopper-v5", task_seed=2, control_mode="discrete")
    assert discrete.action_space == gym.spaces.Discrete(3**3)
    assert discrete.observation_space == base.observation_space
    bang = gym.make("jaxl/Pendulum-v1", control_mode="bang_bang")
    assert bang.action_space == gym.spaces.Discrete(2)
    np.testing.assert_array_equal(bang.get_wrapper_attr("table")[:, 0], [-2, 2])
    fine = gym.make("jaxl/Pendulum-v1", control_mode="discrete", discrete_bins=5)
    assert fine.action_space == gym.spaces.Discrete(5)
    for env in (discrete, bang, fine):
        env.reset(seed=0)
        env.step(env.action_space.sample())
    with pytest.raises(ValueError, match="needs a continuous"):
        gym.make("jaxl/CartPole-v1", control_mode="discrete")


def test_pendulum_torque_scales_actions_and_unmodified_does_not():
    """The action space stays [-2, 2]; a variant with max torque 4 applies twice the torque."""
    fixed = {"mass": {"range": [1.0, 1.0]}, "length": {"range": [1.0, 1.0]}}
    overrides = {"max_torque": {"range": [4.0, 4.0]}, "gravity": {"range": [10.0, 10.0]}, **fixed}
    strong = gym.make("jaxl/Pendulum-v1", task_seed=0, parameter_overrides=overrides)
    assert strong.action_space == gym.make("Pendulum-v1").action_space
    weak = gym.make("jaxl/Pendulum-v1")  # unmodified: max torque 2
    for env in (strong, weak):
        env.reset(seed=0)
    _, _, _, _, _ = strong.step(np.array([1.0], np.float32))
    _, _, _, _, _ = weak.step(np.array([2.0], np.float32))
    # The same applied torque (2) from the same state: the same next state.
    np.testing.assert_allclose(strong.unwrapped.base_env.state, weak.unwrapped.base_env.state)


def test_resample_per_episode_is_reproducible_from_the_reset_seed():
    env = gym.make("jaxl/HalfCheetah-v5", resample="episode")
    first = env.reset(seed=10)[1]["task_params"]
    second = env.reset(seed=11)[1]["task_params"]
    again = env.reset(seed=10)[1]["task_params"]
    assert first != second
    assert first == again
    assert env.unwrapped.model.opt.gravity[2] == pytest.approx(first["gravity_z"])
    unseeded = env.reset()[1]["task_params"]
    assert unseeded not in (first, second)
    other = gym.make("jaxl/HalfCheetah-v5", resample="episode")
    assert [other.reset(seed=s)[1]["task_params"] for s in (10, 11)] == [first, second]


# --- bad specs ------------------------------------------------------------------------------


def _spec(tmp_path: Path, env_id: str, parameters: list[dict], base: str = "Hopper-v5") -> str:
    path = tmp_path / "spec.json"
    kind = "gymnasium_mujoco"
    path.write_text(
        json.dumps({"env_id": env_id, "base": base, "kind": kind, "parameters": parameters})
    )
    return str(path)


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        (
            {
                "name": "bad_body",
                "element": "body",
                "element_name": "torsoo",
                "attribute": "mass",
                "range": [1, 2],
            },
            "parameter 'bad_body': the model has no body named 'torsoo'",
        ),
        (
            {
                "name": "bad_joint",
                "element": "joint",
                "element_name": "knee",
                "attribute": "damping",
                "range": [1, 2],
            },
            "parameter 'bad_joint': the model has no joint named 'knee'",
        ),
        (
            {
                "name": "upside_down",
                "element": "joint",
                "element_name": "thigh_joint",
                "attribute": "damping",
                "range": [2, 1],
            },
            "parameter 'upside_down' range: min 2.0 is above max 1.0",
        ),
        (
            {
                "name": "negative_mass",
                "element": "body",
                "element_name": "torso",
                "attribute": "mass",
                "range": [-1, 2],
            },
            "parameter 'negative_mass': body mass must be > 0",
        ),
        (
            {
                "name": "backwards_time",
                "element": "option",
                "attribute": "timestep",
                "range": [-0.01, 0.01],
            },
            "parameter 'backwards_time': option timestep must be > 0",
        ),
        (
            {
                "name": "odd_law",
                "element": "joint",
                "element_name": "thigh_joint",
                "attribute": "damping",
                "range": [1, 2],
                "law": "gaussian",
            },
            "parameter 'odd_law' law: expected 'uniform' or 'log_uniform', got \"gaussian\"",
        ),
        (
            {
                "name": "no_such_attribute",
                "element": "geom",
                "element_name": "foot_geom",
                "attribute": "colour",
                "range": [1, 2],
            },
            "parameter 'no_such_attribute': a geom has no attribute 'colour'",
        ),
    ],
)
def test_bad_spec_names_the_parameter_and_the_problem(tmp_path, parameter, message):
    spec = _spec(tmp_path, "jaxl/Hopper-v5", [parameter])
    with pytest.raises(SpecError) as error:
        make_parameterized("jaxl/Hopper-v5", task_seed=0, parameter_spec=spec)
    assert message in str(error.value)


def test_bad_spec_in_a_config_fails_at_load_time(tmp_path, small_ppo_config):
    from jaxl.config import ConfigError, parse_config

    spec = _spec(
        tmp_path,
        "jaxl/Hopper-v5",
        [
            {
                "name": "x",
                "element": "body",
                "element_name": "torso",
                "attribute": "mass",
                "range": [3, 1],
            }
        ],
    )
    data = small_ppo_config
    data["learner_config"]["env_config"] = {"env_id": "jaxl/Hopper-v5", "parameter_spec": spec}
    with pytest.raises(ConfigError, match="parameter 'x' range: min 3.0 is above max 1.0"):
        parse_config(data)
    data["learner_config"]["env_config"] = {
        "env_id": "jaxl/Hopper-v5",
        "parameter_overrides": {"foot_radiuss": {"range": [0.05, 0.06]}},
    }
    with pytest.raises(ConfigError, match="has no parameter 'foot_radiuss'"):
        parse_config(data)
    data["learner_config"]["env_config"] = {"env_id": "Hopper-v5", "task_seed": 3}
    with pytest.raises(ConfigError, match="did you mean 'jaxl/Hopper-v5'"):
        parse_config(data)
    # A spec path that is a folder, or a file that is not text, gave a traceback.
    not_text = tmp_path / "binary.json"
    not_text.write_bytes(b"\xff\xfe\x00garbage")
    for spec_path in (tmp_path, not_text):
        data["learner_config"]["env_config"] = {
            "env_id": "jaxl/Hopper-v5",
            "parameter_spec": str(spec_path),
        }
        with pytest.raises(ConfigError, match=f"cannot read parameter spec {spec_path}"):
            parse_config(data)


def test_overrides_change_only_the_named_parameter():
    plain = gym.make("jaxl/Hopper-v5", task_seed=4).unwrapped.task_params
    narrowed = gym.make(
        "jaxl/Hopper-v5",
        task_seed=4,
        parameter_overrides={"foot_radius": {"range": [0.05, 0.051]}},
    ).unwrapped.task_params
    assert 0.05 <= narrowed["foot_radius"] <= 0.051
    assert {k: v for k, v in narrowed.items() if k != "foot_radius"} == {
        k: v for k, v in plain.items() if k != "foot_radius"
    }


def test_show_gives_the_drawn_value_of_what_the_compiled_model_does_not_store(tmp_path):
    # A geom's density only shows in its body's mass; before, show raised SpecError.
    from jaxl.envs.catalog import show_env

    parameter = {
        "name": "foot_density",
        "element": "geom",
        "element_name": "foot_geom",
        "attribute": "density",
        "range": [900, 1100],
    }
    spec = _spec(tmp_path, "jaxl/Hopper-v5", [parameter])
    (row,) = show_env("jaxl/Hopper-v5", 2, {"parameter_spec": spec})
    drawn = make_parameterized("jaxl/Hopper-v5", task_seed=2, parameter_spec=spec)
    assert row["read_back"] is False
    assert row["value"] == drawn.unwrapped.task_params["foot_density"]


def test_a_medium_density_range_may_start_at_mujocos_default_of_zero(tmp_path):
    parameter = {"name": "air", "element": "option", "attribute": "density", "range": [0, 1.2]}
    spec = _spec(tmp_path, "jaxl/Hopper-v5", [parameter])
    env = make_parameterized("jaxl/Hopper-v5", task_seed=0, parameter_spec=spec)
    assert 0 <= env.unwrapped.task_params["air"] <= 1.2


@pytest.mark.parametrize("env_id", ["jaxl/Pendulum-v1", "jaxl/Acrobot-v1", "jaxl/CartPole-v1"])
def test_every_parameter_of_the_classic_envs_changes_the_trajectory(env_id):
    """Acrobot's second link length used to be varied, but Gymnasium's dynamics never read it."""
    parameters = gym.make(env_id, task_seed=0).unwrapped.spec_params.parameters

    def trajectory(name: str, end: int) -> np.ndarray:
        value = parameters_by_name[name].bounds()[end]
        env = gym.make(env_id, task_seed=0, parameter_overrides={name: {"range": [value, value]}})
        env.reset(seed=0)
        env.action_space.seed(0)
        observations = []
        for _ in range(30):
            observation, _, terminated, truncated, _ = env.step(env.action_space.sample())
            observations.append(observation)
            if terminated or truncated:
                break
        return np.asarray(observations)

    parameters_by_name = {p.name: p for p in parameters}
    for name in parameters_by_name:
        assert not np.array_equal(trajectory(name, 0), trajectory(name, 1)), name


def test_make_env_rejects_parameter_keys_for_plain_envs():
    with pytest.raises(EnvError, match="task_seed only applies to parameterized envs"):
        make_env(EnvConfig(env_id="CartPole-v1", task_seed=1))


# --- the CLI --------------------------------------------------------------------------------


def _jaxl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jaxl.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )


def test_envs_list_and_show():
    listed = _jaxl("envs", "list")
    assert listed.returncode == 0, listed.stderr
    for env_id in ALL_ENVS:
        assert env_id in listed.stdout
    shown = _jaxl("envs", "show", "jaxl/Hopper-v5", "--task-seed", "3")
    assert shown.returncode == 0, shown.stderr
    value = gym.make("jaxl/Hopper-v5", task_seed=3).unwrapped.task_params["foot_radius"]
    assert "foot_radius" in shown.stdout and f"{value:.4g}" in shown.stdout
    unknown = _jaxl("envs", "show", "jaxl/Hoppr-v5")
    assert unknown.returncode == 2 and "jaxl/Hopper-v5" in unknown.stderr
    # Its base XML sets settotalmass, which MuJoCo 3.17 deprecates: dropped here as in make_env.
    cheetah = _jaxl("envs", "show", "jaxl/HalfCheetah-v5", "--task-seed", "1")
    assert cheetah.returncode == 0 and "settotalmass" not in cheetah.stderr, cheetah.stderr


# Without a display, `jaxl envs render` picks OSMesa, else EGL (Mesa's renders on a CPU). A
# glvnd EGL library with no vendor library cannot open a display: the way rendering fails on a
# machine whose EGL belongs to a GPU driver without the GPU.
_EGL_WITHOUT_A_VENDOR = {"__EGL_VENDOR_LIBRARY_FILENAMES": os.devnull, "MUJOCO_GL": "egl"}


@pytest.mark.parametrize("env_id", ["jaxl/Hopper-v5", "jaxl/DMC-cartpole-swingup-v0"])
@pytest.mark.parametrize("gl", ["chosen by jaxl", "broken EGL"])
def test_envs_render_writes_a_grid_or_says_how_to_get_a_renderer(tmp_path, env_id, gl):
    out = tmp_path / "grid.png"
    env = _EGL_WITHOUT_A_VENDOR if gl == "broken EGL" else None
    result = _jaxl("envs", "render", env_id, "--task-seeds", "0", "1", "--out", str(out), env=env)
    if result.returncode == 0:
        from matplotlib.image import imread

        image = imread(out)
        assert image.shape[1] > image.shape[0]  # two frames side by side
        assert "task seed 1:" in result.stdout
    else:
        assert result.returncode == 2
        assert "OSMesa" in result.stderr and "libosmesa6" in result.stderr
        # One clear error: no GLFW warnings, no traceback from a half-built OpenGL context.
        assert result.stderr.startswith(f"jaxl: error: cannot render {env_id}"), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert not out.exists()


_BUILD_QUIETLY = """
from jaxl.config.schema import EnvConfig
from jaxl.envs import make_env
for env_id in ("HalfCheetah-v5", "jaxl/HalfCheetah-v5", "jaxl/DMC-cheetah-run-v0"):
    for _ in range(2):
        env = make_env(EnvConfig(env_id=env_id))
        env.reset(seed=0)
        env.close()
print("built")
"""


def test_building_envs_whose_xml_mujoco_deprecates_prints_nothing():
    """Gymnasium's HalfCheetah and dm_control's cheetah set ``settotalmass``, which MuJoCo 3.17
    deprecates with a warning per env built (42 in one SAC run's log); make_env drops it."""
    result = subprocess.run(
        [sys.executable, "-c", _BUILD_QUIETLY], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("built\n", "")


def test_other_mujoco_warnings_still_reach_the_handler(capfd):
    """Only the named warning is dropped: others go to the handler installed before (or to
    stderr, as MuJoCo prints them, when there was none), and that handler comes back after."""
    import mujoco

    from jaxl.envs.mujoco_warnings import dropping_mujoco_warnings

    deprecated = '<mujoco><compiler settotalmass="3"/><worldbody><body><joint type="slide"/>'
    deprecated += '<geom size=".1"/></body></worldbody></mujoco>'

    def unstable_step() -> None:
        model = mujoco.MjModel.from_xml_string(deprecated)
        data = mujoco.MjData(model)
        data.qvel[:] = np.nan
        mujoco.mj_step(model, data)

    received: list[str] = []
    previous = mujoco.get_mju_user_warning()
    mujoco.set_mju_user_warning(received.append)
    try:
        with dropping_mujoco_warnings():
            unstable_step()
        assert [m.split(" at ")[0] for m in received] == ["Nan, Inf or huge value in QVEL"]
        assert mujoco.get_mju_user_warning() == received.append
        mujoco.set_mju_user_warning(None)
        capfd.readouterr()
        with dropping_mujoco_warnings():
            unstable_step()
        err = capfd.readouterr().err
        assert err.startswith("WARNING: Nan, Inf or huge value in QVEL") and "settotal" not in err
        assert mujoco.get_mju_user_warning() is None
    finally:
        mujoco.set_mju_user_warning(previous)


def test_a_variant_keeps_the_framebuffer_of_the_frame_size_asked_for():
    # Gymnasium enlarges the offscreen framebuffer of the model it loads to the frame size;
    # the rebuilt variant kept MuJoCo's 640x480, so an 800x600 frame had a black band.
    env = gym.make("jaxl/Hopper-v5", task_seed=0, render_mode="rgb_array", width=800, height=600)
    framebuffer = env.unwrapped._physics.model.vis.global_
    assert (framebuffer.offwidth, framebuffer.offheight) == (800, 600)
    env.close()


@pytest.mark.parametrize(
    ("env_id", "size"),
    [("jaxl/DMC-cartpole-swingup-v0", (800, 600)), ("jaxl/FrozenLake8x8-v1", (320, 240))],
)
def test_envs_render_draws_frames_any_size_or_says_what_is_missing(env_id, size, tmp_path):
    # Before: DMC refused frames over its 640x480 framebuffer, FrozenLake was handed a width it
    # has no argument for, and both failures came with the OpenGL install advice. Run as the
    # CLI runs it, which picks an offscreen OpenGL backend before anything imports MuJoCo's.
    width, height = (str(n) for n in size)
    out = tmp_path / "frame.png"
    result = _jaxl(
        "envs",
        "render",
        env_id,
        "--task-seeds",
        "0",
        "--width",
        width,
        "--height",
        height,
        "--out",
        str(out),
    )
    if env_id.startswith("jaxl/FrozenLake"):  # drawn with pygame, a dependency
        assert result.returncode == 0, result.stderr
        assert "XDG_RUNTIME_DIR" not in result.stderr, result.stderr  # SDL looking for a display
    if result.returncode == 0:
        assert out.read_bytes().startswith(b"\x89PNG")
    else:  # no offscreen OpenGL on this machine
        assert "OSMesa" in result.stderr, result.stderr
        assert "framebuffer" not in result.stderr


def test_pendulum_frames_draw_the_rod_at_its_drawn_length():
    # Gymnasium draws a rod of length 1 whatever the env's length, so `jaxl envs render` showed
    # variants of lengths 0.84 and 1.18 alike.
    def rod(frame: np.ndarray) -> np.ndarray:
        return (frame[..., 0] > 150) & (frame[..., 1] < 150)  # Gymnasium's red on white

    def reach(frame: np.ndarray) -> float:
        """How far the rod reaches from the pivot, in the frame's pixels."""
        ys, xs = np.nonzero(rod(frame))
        return float(np.hypot(xs + 0.5 - 250, ys + 0.5 - 250).max())

    unmodified = gym.make("jaxl/Pendulum-v1", render_mode="rgb_array")
    base = gym.make("Pendulum-v1", render_mode="rgb_array")
    unmodified.reset(seed=3)
    base.reset(seed=3)
    ours, gymnasiums = rod(unmodified.render()), rod(base.render())
    assert (ours & gymnasiums).sum() / (ours | gymnasiums).sum() > 0.9  # Gymnasium's picture
    pixels_per_unit = 500 / 4.4
    for task_seed in (0, 1):  # lengths 1.18 and 0.84
        env = gym.make("jaxl/Pendulum-v1", render_mode="rgb_array", task_seed=task_seed)
        env.reset(seed=3)
        pendulum = env.unwrapped.base_env
        assert abs(pendulum.l - 1) > 0.15  # a length Gymnasium's picture would get wrong
        tip = (pendulum.l + 0.1 * np.sqrt(pendulum.m)) * pixels_per_unit  # rod end + round cap
        assert abs(reach(env.render()) - tip) < 2, (task_seed, pendulum.l)
        env.close()
    for env in (unmodified, base):
        env.close()


def test_frozen_lake_reads_its_success_rate_back_from_the_transition_table():
    # A lake made non-slippery lists one move per action; the read-back indexed a second one.
    from jaxl.config.schema import EnvConfig
    from jaxl.envs import make_env

    plain = make_env(EnvConfig(env_id="jaxl/FrozenLake8x8-v1", env_kwargs={"is_slippery": False}))
    assert plain.unwrapped.model_value("success_rate") == 1.0
    variant = gym.make("jaxl/FrozenLake8x8-v1", task_seed=3).unwrapped
    assert variant.model_value("success_rate") == pytest.approx(
        variant.task_params["success_rate"], rel=1e-12
    )


def test_a_range_override_is_serialized_without_pydantic_warnings():
    # Every run with parameter_overrides printed three "Pydantic serializer warnings".
    import warnings

    from jaxl.config.schema import EnvConfig

    overrides = {"pole_half_length": {"range": [0.4, 0.6]}}
    config = EnvConfig(env_id="jaxl/CartPole-v1", task_seed=1, parameter_overrides=overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dumped = config.model_dump(mode="json")
        config.model_dump()
    assert dumped["parameter_overrides"]["pole_half_length"]["range"] == [0.4, 0.6]
    assert EnvConfig.model_validate(dumped) == config


def test_a_lake_redrawn_every_episode_slips_reproducibly_after_unseeded_resets():
    # Each new lake got a generator seeded from the OS at the next unseeded reset (Gymnasium's
    # autoreset does those), so two identical runs slipped differently.
    def paths() -> list[list[int]]:
        env = gym.make("jaxl/FrozenLake8x8-v1", resample="episode")
        env.reset(seed=0)
        episodes = []
        for _ in range(4):
            state, _ = env.reset()
            path = [state]
            for step in range(40):
                state, _, terminated, truncated, _ = env.step(step % 2 + 1)
                path.append(state)
                if terminated or truncated:
                    break
            episodes.append(path)
        return episodes

    first = paths()
    assert first == paths()
    assert len({tuple(path) for path in first}) > 1


def test_gym_make_refuses_what_the_config_refuses():
    # The unmodified lake has no map seed or frozen fraction: observe_params failed with a
    # TypeError. A task seed with resample "episode" was ignored silently.
    with pytest.raises(InputError, match="has no value for frozen_fraction, map_seed"):
        gym.make("jaxl/FrozenLake8x8-v1", observe_params=True)
    with pytest.raises(InputError, match="task_seed 2 with resample 'episode'"):
        gym.make("jaxl/Pendulum-v1", task_seed=2, resample="episode")
