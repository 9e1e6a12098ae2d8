"""DeepMind Control Suite tasks behind the Gymnasium API.

Observations are the task's observation dict flattened in its own key order (``float32``),
actions a ``Box`` from the action spec. An episode that ends with discount 0 is *terminated*; one
that ends with the task's time limit (discount 1) is *truncated*.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np

from jaxl.errors import InputError
from jaxl.offscreen_gl import configure_offscreen_gl

# dm_control picks its OpenGL backend when it is imported. Without a display it tries GLFW
# first, which warns that DISPLAY is missing; that says nothing to someone who does not render,
# and rendering without a backend fails later with RENDERER_HELP.
configure_offscreen_gl()
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*The DISPLAY environment variable is missing")
    from dm_control import suite


def flatten_observation(observation: dict) -> np.ndarray:
    """Concatenate a dm_control observation dict into one ``float32`` vector."""
    return np.concatenate([np.ravel(v) for v in observation.values()]).astype(np.float32)


class DMCEnv(gym.Env):
    """One DeepMind Control Suite task, e.g. ``DMCEnv("cheetah", "run")``.

    :param domain: the suite domain (``cartpole``, ``cheetah``, ...).
    :param task: the task in that domain (``swingup``, ``run``, ...).
    :param render_mode: ``rgb_array`` or ``None``.
    :param width: rendered image width.
    :param height: rendered image height.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(
        self,
        domain: str,
        task: str,
        render_mode: str | None = None,
        width: int = 240,
        height: int = 240,
    ) -> None:
        if (domain, task) not in suite.ALL_TASKS:
            raise InputError(f"dm_control has no task {domain}-{task}")
        self.domain, self.task = domain, task
        self.dm_env = suite.load(domain, task, task_kwargs={"random": 0})
        spec = self.dm_env.observation_spec()
        size = sum(int(np.prod(s.shape)) for s in spec.values())
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)
        action = self.dm_env.action_spec()
        self.action_space = gym.spaces.Box(
            action.minimum.astype(np.float32), action.maximum.astype(np.float32), dtype=np.float32
        )
        self.render_mode = render_mode
        self.width, self.height = width, height

    @property
    def physics(self):
        """The task's ``dm_control`` physics."""
        return self.dm_env.physics

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Start an episode; ``seed`` reseeds the task's random state (initial state and goals)."""
        super().reset(seed=seed)
        if seed is not None:
            self.dm_env.task.random.seed(seed)
        time_step = self.dm_env.reset()
        return flatten_observation(time_step.observation), {}

    def step(self, action):
        """One control step: ``(observation, reward, terminated, truncated, info)``."""
        time_step = self.dm_env.step(np.asarray(action, dtype=np.float64))
        terminated = time_step.last() and time_step.discount == 0.0
        truncated = time_step.last() and not terminated
        reward = float(time_step.reward or 0.0)
        return flatten_observation(time_step.observation), reward, terminated, truncated, {}

    def render(self):
        """An RGB frame from camera 0."""
        # dm_control sizes its offscreen framebuffer from the model (640x480 unless the XML says
        # otherwise) when it first renders a model, and refuses larger frames: enlarge it first.
        framebuffer = self.physics.model.vis.global_
        framebuffer.offwidth = max(framebuffer.offwidth, self.width)
        framebuffer.offheight = max(framebuffer.offheight, self.height)
        return self.physics.render(height=self.height, width=self.width, camera_id=0)

    def close(self) -> None:
        self.dm_env.close()
