"""GAE against hand-computed values, with a truncation and a termination inside the rollout."""

import numpy as np

from jaxl.returns import gae_advantages


def test_gae_bootstraps_at_truncation_and_cuts_trace():
    gamma, lam = 0.9, 0.5
    rewards = np.array([[1.0], [2.0], [3.0], [4.0]], np.float32)
    values = np.array([[0.5], [1.0], [1.5], [2.0]], np.float32)
    # Step 1 is truncated (final obs has value 10), step 2 terminated, step 3 is the rollout end.
    next_values = np.array([[1.0], [10.0], [7.0], [3.0]], np.float32)
    terminated = np.array([[False], [False], [True], [False]])
    truncated = np.array([[False], [True], [False], [False]])
    adv, ret = gae_advantages(rewards, values, next_values, terminated, truncated, gamma, lam)

    d3 = 4.0 + gamma * 3.0 - 2.0  # bootstraps from the rollout end
    d2 = 3.0 + 0.0 - 1.5  # terminated: no bootstrap (next value 7 ignored)
    d1 = 2.0 + gamma * 10.0 - 1.0  # truncated: bootstrap from the final observation
    d0 = 1.0 + gamma * 1.0 - 0.5
    a3 = d3
    a2 = d2  # episode ended: the trace does not reach into step 3
    a1 = d1  # truncated: the trace does not reach into the next episode either
    a0 = d0 + gamma * lam * a1
    np.testing.assert_allclose(np.asarray(adv)[:, 0], [a0, a1, a2, a3], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ret), np.asarray(adv) + values, rtol=1e-6)


def test_gae_shapes_are_per_env():
    T, N = 5, 3
    zeros = np.zeros((T, N), np.float32)
    flags = np.zeros((T, N), bool)
    adv, ret = gae_advantages(np.ones((T, N), np.float32), zeros, zeros, flags, flags, 0.99, 0.95)
    assert adv.shape == (T, N) and ret.shape == (T, N)
    # With zero values and unit rewards, advantages decrease towards the rollout end.
    assert np.all(np.diff(np.asarray(adv)[:, 0]) < 0)
