"""Unit tests of the pieces that silently break RL: log-probabilities, returns, loss shapes,
target updates and replay-buffer wrap-around."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.stats import norm

from jaxl.buffers import DeviceReplayBuffer, Transitions, load_buffer
from jaxl.config.schema import A2CConfig, EnvConfig, MLPConfig, ModelConfig, REINFORCEConfig
from jaxl.learners.a2c import gae_estimate
from jaxl.learners.policy_gradient import PGBatch, pg_loss
from jaxl.learners.ppo.losses import PPOBatch, ppo_loss
from jaxl.learners.reinforce import reward_to_go
from jaxl.learners.sac.losses import polyak_update
from jaxl.models.factory import make_networks
from jaxl.models.policies import PolicyHead

CARTPOLE = EnvConfig(env_id="CartPole-v1")


def test_squashed_gaussian_log_prob_matches_numerical_change_of_variables():
    """log pi(a) = log N(u) - log|det da/du| with a = tanh(u), the Jacobian by finite
    differences; checked both for log_prob(a) and for sample_and_log_prob."""
    mean = jnp.array([[0.3, -1.2, 2.0]])
    log_std = jnp.array([[-0.5, 0.1, 0.4]])
    dist = PolicyHead("squashed_gaussian").distribution(mean, log_std)
    action, sampled_log_prob = dist.sample_and_log_prob(seed=jax.random.PRNGKey(3))
    action = np.asarray(action, np.float64)[0]
    u = np.arctanh(action)
    std = np.exp(np.asarray(log_std, np.float64)[0])
    gaussian = norm.logpdf(u, np.asarray(mean, np.float64)[0], std).sum()
    eps = 1e-6
    jacobian = np.stack(
        [(np.tanh(u + eps * e) - np.tanh(u - eps * e)) / (2 * eps) for e in np.eye(3)], axis=1
    )
    expected = gaussian - np.log(abs(np.linalg.det(jacobian)))
    np.testing.assert_allclose(float(sampled_log_prob[0]), expected, rtol=1e-4)
    np.testing.assert_allclose(
        float(dist.log_prob(jnp.asarray(action[None]))[0]), expected, rtol=1e-3
    )
    # The correction matters: without it the log-probability is off by more than 1 nat here.
    assert abs(gaussian - expected) > 1.0


def _rollout(rewards, terminated, truncated):
    t, n = np.shape(rewards)
    zeros = np.zeros((t, n, 1), np.float32)
    return Transitions(
        zeros,
        np.zeros((t, n), np.int32),
        np.asarray(rewards, np.float32),
        zeros,
        np.asarray(terminated),
        np.asarray(truncated),
    )


def test_reward_to_go_with_truncation_in_the_middle():
    """Returns restart at episode ends, bootstrap only at truncation, and steps whose episode
    does not end inside the rollout get weight 0."""
    gamma = 0.5
    rollout = _rollout(
        [[1.0], [2.0], [4.0], [8.0], [16.0]],
        [[False], [False], [False], [True], [False]],
        [[False], [True], [False], [False], [False]],
    )
    values = jnp.full((5, 1), 0.25)
    next_values = jnp.array([[0.0], [10.0], [0.0], [100.0], [0.0]])
    hp = REINFORCEConfig(learner="reinforce", env_config=CARTPOLE, gamma=gamma)
    advantage, target, weight = reward_to_go(rollout, values, next_values, hp)
    g1 = 2.0 + gamma * 10.0  # truncated: bootstrap from V(final obs)
    g0 = 1.0 + gamma * g1
    g3 = 8.0  # terminated: V(next) = 100 is ignored
    g2 = 4.0 + gamma * g3
    np.testing.assert_allclose(np.asarray(target)[:4, 0], [g0, g1, g2, g3])
    np.testing.assert_allclose(np.asarray(advantage), np.asarray(target) - 0.25)
    np.testing.assert_array_equal(np.asarray(weight)[:, 0], [1, 1, 1, 1, 0])


def _cartpole_networks(with_value: bool):
    model = ModelConfig(value=MLPConfig(layers=[8]) if with_value else None)
    return make_networks(model, gym.spaces.Discrete(2), with_value=with_value)


def test_squashed_gaussian_log_prob_stays_finite_for_saturated_actions():
    """In float32, tanh(u) is exactly 1 for u above about 9; the stored action of such a sample
    (PPO recomputes log pi(a) from it) must give a finite log-probability and gradient, close to
    that of the sample itself."""
    mean, log_std = jnp.array([[9.5, -12.0]]), jnp.zeros((1, 2))
    head = PolicyHead("squashed_gaussian")
    action, sampled_log_prob = head.distribution(mean, log_std).sample_and_log_prob(
        seed=jax.random.PRNGKey(0)
    )
    assert np.all(np.abs(np.asarray(action)) == 1.0), action

    def log_prob(mean):
        return head.distribution(mean, log_std).log_prob(action).sum()

    value, grad = jax.value_and_grad(log_prob)(mean)
    assert np.isfinite(float(value)) and np.all(np.isfinite(np.asarray(grad)))
    assert np.isfinite(float(sampled_log_prob[0]))
    # The clipped action stands for u = +-atanh(1 - 1e-6) = +-7.25, so raising its likelihood
    # still moves each mean towards its action's side (here: back from beyond it).
    assert np.all(np.sign(np.asarray(grad)) == np.array([[-1.0, 1.0]])), grad


def test_ppo_with_a_squashed_gaussian_policy_stays_finite(tmp_path):
    """A wide squashed Gaussian saturates many of its actions from the first rollout on."""
    from conftest import load_example, write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    data = load_example("rl/inverted_pendulum-ppo.json")
    data["learner_config"].update(
        env_config={"env_id": "Pendulum-v1"}, num_envs=2, num_steps=64, minibatch_size=64
    )
    data["model_config"]["policy"].update(distribution="squashed_gaussian", init_std=7.0)
    data["train_config"] = {"total_updates": 3}
    learner = make_learner(load_config(write_config(tmp_path / "c.json", data)), seed=0)
    for _ in range(2):
        metrics = learner.update()
        assert all(np.isfinite(value) for value in metrics.values()), metrics
    assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(learner.state.params))


def test_discrete_losses_are_per_sample_without_broadcasting():
    """With [B] actions and advantages, the policy loss is the mean of per-sample products. A
    (B,) x (B,1) broadcast would give mean(log_prob) * mean(advantage) instead, which differs
    here."""
    batch_size = 6
    networks = _cartpole_networks(with_value=True)
    obs = jax.random.normal(jax.random.PRNGKey(0), (batch_size, 4))
    params = networks.init(jax.random.PRNGKey(1), obs)
    action = jnp.array([0, 1, 1, 0, 1, 0])
    advantage = jnp.array([1.0, -2.0, 3.0, 0.5, -1.0, 2.0])
    log_prob = networks.distribution(params, obs).log_prob(action)
    assert log_prob.shape == (batch_size,)
    expected = -float(jnp.mean(log_prob * advantage))
    broadcast = -float(jnp.mean(log_prob[:, None] * advantage[None, :]))
    assert abs(expected - broadcast) > 1e-4

    batch = PGBatch(obs, action, advantage, jnp.zeros(batch_size), jnp.ones(batch_size))
    key = jax.random.PRNGKey(2)
    _, metrics = pg_loss(
        params, batch, key, networks, vf_coef=0.5, ent_coef=0.0, normalize_advantage=False
    )
    np.testing.assert_allclose(float(metrics["policy_loss"]), expected, rtol=1e-6)

    ppo_batch = PPOBatch(obs, action, log_prob, jnp.zeros(batch_size), advantage, advantage)
    _, metrics = ppo_loss(
        params,
        ppo_batch,
        key,
        networks,
        clip_eps=0.2,
        clip_value=None,
        vf_coef=0.5,
        ent_coef=0.0,
        normalize_advantage=False,
    )
    # At the old policy the ratio is 1, so the surrogate is the mean advantage.
    np.testing.assert_allclose(float(metrics["policy_loss"]), -float(advantage.mean()), rtol=1e-6)
    value = networks.state_value(params, obs)
    assert value.shape == (batch_size,)
    np.testing.assert_allclose(
        float(metrics["value_loss"]), 0.5 * float(jnp.mean((value - advantage) ** 2)), rtol=1e-6
    )


def test_entropy_bonus_of_a_squashed_gaussian_widens_a_narrow_policy():
    """A squashed Gaussian has no closed-form entropy. An estimate from the rollout's own actions,
    -log pi(a), has zero expected gradient at the parameters that drew them, so the bonus would
    do nothing on REINFORCE's and A2C's one step per rollout. The fresh reparameterised sample
    gives the entropy's gradient: with zero advantages, the bonus widens a narrow policy (a
    squashed Gaussian's entropy grows with its std up to about 0.8)."""
    batch_size = 4096
    policy = {
        "network": {"layers": [8]},
        "distribution": "squashed_gaussian",
        "std": "state_independent",
        "init_std": 0.3,
    }
    model = ModelConfig(policy=policy, value=MLPConfig(layers=[8]))
    networks = make_networks(model, gym.spaces.Box(-1.0, 1.0, (2,)), with_value=True)
    obs = jax.random.normal(jax.random.PRNGKey(0), (batch_size, 3))
    params = networks.init(jax.random.PRNGKey(1), obs)
    action = networks.distribution(params, obs).sample(seed=jax.random.PRNGKey(2))
    zeros, ones = jnp.zeros(batch_size), jnp.ones(batch_size)
    key = jax.random.PRNGKey(3)

    def pg(p):
        batch = PGBatch(obs, action, zeros, zeros, ones)
        return pg_loss(
            p, batch, key, networks, vf_coef=0.0, ent_coef=1.0, normalize_advantage=False
        )

    def ppo(p):
        log_prob = networks.distribution(params, obs).log_prob(action)
        batch = PPOBatch(obs, action, log_prob, zeros, zeros, zeros)
        return ppo_loss(
            p,
            batch,
            key,
            networks,
            clip_eps=0.2,
            clip_value=None,
            vf_coef=0.0,
            ent_coef=1.0,
            normalize_advantage=False,
        )

    for loss in (pg, ppo):
        grads, metrics = jax.grad(loss, has_aux=True)(params)
        log_std_grad = np.asarray(grads["policy"]["params"]["log_std"])
        # d(-H)/d(log std) is about -0.82 per dimension at std 0.3 (1 from the Gaussian, less
        # about 2 std^2 from the squash); the rollout actions' -log pi(a)
        # gives only its sampling noise (+0.02 and +0.015 here).
        assert np.all(log_std_grad < -0.5), (loss.__name__, log_std_grad)
        assert 0.0 < float(metrics["entropy"]) < 2 * np.log(2.0), metrics


def test_a2c_estimate_bootstraps_at_rollout_end():
    rollout = _rollout([[1.0], [1.0]], [[False], [False]], [[False], [False]])
    hp = A2CConfig(learner="a2c", env_config=CARTPOLE, gamma=0.9, gae_lambda=1.0)
    values = jnp.zeros((2, 1))
    next_values = jnp.array([[0.0], [5.0]])
    _, target, weight = gae_estimate(rollout, values, next_values, hp)
    np.testing.assert_allclose(np.asarray(target)[:, 0], [1 + 0.9 * (1 + 0.9 * 5), 1 + 0.9 * 5])
    assert np.all(np.asarray(weight) == 1)


def test_polyak_update():
    target = {"w": jnp.array([0.0, 10.0]), "b": jnp.array(4.0)}
    online = {"w": jnp.array([1.0, 0.0]), "b": jnp.array(0.0)}
    new = polyak_update(target, online, tau=0.25)
    np.testing.assert_allclose(np.asarray(new["w"]), [0.25, 7.5])
    np.testing.assert_allclose(float(new["b"]), 3.0)
    same = polyak_update(target, online, tau=0.0)
    np.testing.assert_array_equal(np.asarray(same["w"]), np.asarray(target["w"]))


def _transitions(start: int, count: int) -> Transitions:
    ids = np.arange(start, start + count, dtype=np.float32)
    return Transitions(
        np.repeat(ids[:, None], 3, 1),
        np.repeat(-ids[:, None], 2, 1),
        ids,
        np.repeat(ids[:, None] + 0.5, 3, 1),
        ids % 2 == 0,
        ids % 3 == 0,
    )


def test_device_buffer_wraps_around_and_samples_only_stored_items(tmp_path):
    buffer = DeviceReplayBuffer(5, (3,), (2,), batch_size=4, seed=0)
    for start in range(0, 8, 2):  # 8 transitions into 5 slots, 2 at a time
        buffer.add(_transitions(start, 2))
    assert len(buffer) == 5
    contents = buffer.contents()
    np.testing.assert_array_equal(contents.reward, [3, 4, 5, 6, 7])
    np.testing.assert_array_equal(contents.obs[:, 0], contents.reward)
    np.testing.assert_array_equal(contents.terminated, contents.reward % 2 == 0)

    samples = [buffer.sample_fn(buffer.state, jax.random.PRNGKey(k)) for k in range(16)]
    assert samples[0].obs.shape == (4, 3) and samples[0].action.shape == (4, 2)
    rewards = np.concatenate([np.asarray(sample.reward) for sample in samples])
    assert set(rewards.tolist()) == {3.0, 4.0, 5.0, 6.0, 7.0}  # every stored item, nothing else
    for sample in samples:  # fields of one transition stay together
        np.testing.assert_array_equal(np.asarray(sample.next_obs)[:, 0], sample.reward + 0.5)

    path = tmp_path / "replay.npz"
    buffer.save(path, {"note": "wrapped"})
    as_dataset = load_buffer(str(path))
    np.testing.assert_array_equal(as_dataset.contents().reward, [3, 4, 5, 6, 7])
    assert as_dataset.metadata["note"] == "wrapped"
    reloaded = DeviceReplayBuffer.load(path, batch_size=4)
    np.testing.assert_array_equal(reloaded.contents().action, contents.action)


def test_device_buffer_keeps_the_newest_of_a_batch_larger_than_it_and_its_dtypes():
    # A batch larger than the capacity failed a Chex assertion, and contents() gave int32 for a
    # buffer of int64 actions (JAX stores them as int32 without 64-bit mode).
    buffer = DeviceReplayBuffer(5, (3,), (), batch_size=2, action_dtype=np.int64)
    data = _transitions(0, 12)
    buffer.add(data._replace(action=np.arange(12, dtype=np.int64)))
    contents = buffer.contents()
    np.testing.assert_array_equal(contents.reward, [7, 8, 9, 10, 11])
    np.testing.assert_array_equal(contents.action, [7, 8, 9, 10, 11])
    assert contents.action.dtype == np.int64 and contents.obs.dtype == np.float32
    assert buffer.sample(3).action.dtype == np.int64


def test_sampling_with_pending_transitions_equals_sampling_after_appending_them():
    """What the SAC step relies on to sample before it appends: same key, same batch."""
    # Not full, then: wraps while filling / fills exactly; then full (overwriting the oldest).
    for counts in ((5, 5, 4, 5, 6, 2), (5, 5, 6, 7, 3)):
        buffer = DeviceReplayBuffer(16, (3,), (2,), batch_size=16, seed=0)
        start = 0
        for count in counts:
            pending = _transitions(start, count)
            keys = [jax.random.PRNGKey(start * 10 + k) for k in range(8)]
            before = [buffer.sample_fn(buffer.state, key, pending) for key in keys]
            buffer.add(pending)
            after = [buffer.sample_fn(buffer.state, key) for key in keys]
            for got, expected in zip(before, after, strict=True):
                for field_got, field_expected in zip(got, expected, strict=True):
                    np.testing.assert_array_equal(field_got, field_expected)
            drawn = set(np.concatenate([np.asarray(batch.reward) for batch in after]).tolist())
            stored = buffer.contents().reward
            assert drawn <= set(stored.tolist())
            assert {stored[0], stored[-1]} <= drawn  # the oldest and the newest are drawn
            start += count


def test_collector_steps_each_env_like_a_fresh_env_with_the_episode_seeds():
    """Transitions of the collector equal those of separate Gymnasium envs reset with the
    derived episode seeds: the true final observation in ``next_obs``, the next episode's first
    observation as the following ``obs``."""
    from jaxl.envs.collector import VectorCollector, episode_seed

    num_envs, seed, steps = 2, 5, 120
    collector = VectorCollector(EnvConfig(env_id="CartPole-v1", max_episode_steps=30), 2, seed)
    references = [gym.make("CartPole-v1", max_episode_steps=30) for _ in range(num_envs)]
    episode = [0] * num_envs
    obs = np.stack(
        [env.reset(seed=episode_seed(seed, i, 0))[0] for i, env in enumerate(references)]
    )
    actions = np.random.default_rng(0).integers(0, 2, size=(steps, num_envs))
    resets = 0
    for action in actions:
        got = collector.step(action)
        np.testing.assert_array_equal(got.obs, obs)
        for i, env in enumerate(references):
            next_obs, reward, terminated, truncated, _ = env.step(int(action[i]))
            np.testing.assert_array_equal(got.next_obs[i], next_obs)
            assert (got.reward[i], got.terminated[i], got.truncated[i]) == (
                reward,
                terminated,
                truncated,
            )
            if terminated or truncated:
                episode[i] += 1
                resets += 1
                next_obs, _ = env.reset(seed=episode_seed(seed, i, episode[i]))
            obs[i] = next_obs
        assert got.reward.dtype == np.float64 and got.terminated.dtype == bool
        assert got.next_obs.dtype == collector.observation_space.dtype
    assert resets >= 4  # episodes of at most 30 steps: both envs were reset several times
    assert len(collector.pop_completed()) == resets


def test_packed_layout_round_trips_inside_and_outside_jit():
    """Packing the small leaves of a state must give back every leaf exactly, in and out of jit,
    and pass the large ones through as the same arrays."""
    from jaxl.learners.packing import PackedLayout

    rng = np.random.default_rng(0)
    tree = {
        "kernel": jnp.asarray(rng.normal(size=(64, 80)), jnp.float32),  # large: passed through
        "bias": jnp.asarray(rng.normal(size=(80,)), jnp.float32),
        "scale": jnp.asarray(rng.normal(size=(2, 1)), jnp.float32),
        "count": jnp.asarray(7, jnp.int32),
        "key": jax.random.PRNGKey(3),
        "full": jnp.asarray(True),
        "index": jnp.arange(5, dtype=jnp.int32),
    }
    layout = PackedLayout.of(tree, max_packed_size=1000)
    assert layout.num_arrays == 1 + 4  # the kernel, then float32, int32, uint32 and bool

    def assert_same(got, expected):
        assert jax.tree.structure(got) == jax.tree.structure(expected)
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)

    packed = layout.pack_on_host(tree)
    assert packed[0][0] is tree["kernel"]
    assert_same(layout.unpack_on_host(packed), tree)
    assert_same(jax.jit(layout.unpack)(packed), tree)
    assert_same(layout.unpack_on_host(jax.jit(layout.pack)(tree)), tree)
    with pytest.raises(ValueError, match="does not match"):
        layout.pack_on_host({"kernel": tree["kernel"]})


def test_packed_sac_step_computes_what_the_unpacked_step_does(small_sac_config, tmp_path):
    """Packing is layout only: from the same state and inputs, the step on packed arguments
    must give the step on plain ones' parameters, key, counters, buffer and actions, up to
    float rounding (XLA may fuse the two programs differently)."""
    from conftest import write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner
    from jaxl.learners.packing import PackedLayout
    from jaxl.learners.sac.learner import make_sac_step

    learner = make_learner(load_config(write_config(tmp_path / "sac.json", small_sac_config)), 0)
    for _ in range(3):  # past the warm-up, so that the buffer holds data and learning runs
        learner.update()
    start = (learner.state, learner.replay.state)
    plain = PackedLayout.of(start, max_packed_size=-1)  # every leaf passed through as itself
    assert plain.num_arrays == len(jax.tree.leaves(start)) > learner._layout.num_arrays
    plain_step = make_sac_step(
        learner.networks,
        learner.replay,
        learner.optimizer,
        learner.hp,
        learner.target_entropy,
        plain,
    )
    results = []
    for layout, step in ((learner._layout, learner._step), (plain, plain_step)):
        carry = layout.pack_on_host(jax.tree.map(jnp.copy, start))  # the step donates it
        actions = []
        for _ in range(5):
            carry, action, _, _ = step(carry, learner._pending, learner.collector.obs, learn=True)
            actions.append(np.asarray(action))
        results.append((layout.unpack_on_host(carry), np.stack(actions)))
    (packed_tree, packed_actions), (plain_tree, plain_actions) = results
    assert int(packed_tree[0].gradient_steps) == int(start[0].gradient_steps) + 5
    for got, expected in zip(
        jax.tree.leaves(packed_tree), jax.tree.leaves(plain_tree), strict=True
    ):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        if jnp.issubdtype(got.dtype, jnp.floating):
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(packed_actions, plain_actions, rtol=1e-5, atol=1e-6)


def test_sac_step_appends_to_the_replay_storage_in_place(small_sac_config, tmp_path):
    """Sampling and appending share one jitted call; XLA must not copy the storage for it."""
    from conftest import write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    learner = make_learner(load_config(write_config(tmp_path / "sac.json", small_sac_config)), 0)
    learner.update()
    learner.update()
    carry = learner._layout.pack_on_host((learner.state, learner.replay.state))
    compiled = learner._step.lower(carry, learner._pending, learner.collector.obs, learn=True)
    compiled = compiled.compile()
    capacity = learner.replay.capacity
    storage_copies = [
        line
        for line in compiled.as_text().splitlines()
        if f"[1,{capacity}" in line and " copy(" in line
    ]
    assert storage_copies == []


def test_reinforce_and_a2c_run_on_continuous_actions(tmp_path):
    """The same learners serve Box actions through a Gaussian head (no per-action-space copy)."""
    from conftest import load_example, write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    for name in ("rl/cartpole-reinforce.json", "rl/cartpole-a2c.json"):
        data = load_example(name)
        data["learner_config"].update(env_config={"env_id": "Pendulum-v1"}, num_steps=200)
        learner = make_learner(load_config(write_config(tmp_path / "c.json", data)), seed=0)
        assert learner.networks.head.kind == "gaussian"
        metrics = [learner.update() for _ in range(3)]
        assert all(np.isfinite(m["policy_loss"]) and np.isfinite(m["value_loss"]) for m in metrics)
        assert learner.env_steps == 3 * learner.env_steps_per_update
        action = learner.act_fn()(np.zeros((2, 3), np.float32))
        assert action.shape == (2, 1)


def _stored_in_order(learner) -> Transitions:
    """The learner's replay contents, oldest first, with the pending transitions stored."""
    state = learner.replay.state
    learner.replay.state = learner._replay_state()
    try:
        return learner.replay.contents()
    finally:
        learner.replay.state = state


@pytest.mark.parametrize("capacity", [64, 1000])
def test_sac_warm_up_stores_every_random_step_in_order(small_sac_config, tmp_path, capacity):
    """The random-action warm-up runs on the host and stores its steps in one append: every
    step, in order, none twice, also when one append is longer than the buffer; learning then
    starts on the stored steps."""
    from conftest import write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    small_sac_config["learner_config"].update(learning_starts=250, steps_per_update=100)
    small_sac_config["learner_config"]["buffer_config"]["buffer_size"] = capacity
    small_sac_config["learner_config"]["batch_size"] = 64
    learner = make_learner(load_config(write_config(tmp_path / "sac.json", small_sac_config)), 0)
    for update in range(3):  # 100 + 100 + 50 warm-up steps, then 50 learning steps
        row = learner.update()
        assert row["buffer_size"] == min(100 * (update + 1), capacity)
        stored = _stored_in_order(learner)
        # Consecutive steps chain, except across an episode's end (Pendulum truncates at 200).
        chained = np.isclose(stored.next_obs[:-1], stored.obs[1:]).all(axis=1)
        assert np.all(chained | stored.truncated[:-1])
        np.testing.assert_array_equal(stored.obs[-1], np.float32(learner._pending.obs[-1]))
        assert np.all(np.abs(stored.action) <= 1.0)
    assert "q_loss" in row and learner.state.gradient_steps == 50


def test_sac_with_learning_starts_zero_takes_one_random_step_first(small_sac_config, tmp_path):
    from conftest import write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    small_sac_config["learner_config"].update(learning_starts=0, steps_per_update=10)
    learner = make_learner(load_config(write_config(tmp_path / "sac.json", small_sac_config)), 0)
    learner.update()
    assert int(learner.state.gradient_steps) == 9
    assert int(learner.state.env_steps) == 10


@pytest.mark.parametrize(
    ("learning_starts", "num_envs", "train_freq", "gradient_steps"),
    [(0, 1, 1, 1), (5, 2, 1, 1), (7, 3, 2, 1), (0, 2, 3, 2)],
)
def test_sac_counts_the_gradient_steps_it_takes(
    small_sac_config, tmp_path, learning_starts, num_envs, train_freq, gradient_steps
):
    """``total_gradient_steps`` (the horizon of learning-rate schedules) is what a run takes."""
    from conftest import write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    small_sac_config["learner_config"].update(
        learning_starts=learning_starts,
        num_envs=num_envs,
        train_freq=train_freq,
        gradient_steps=gradient_steps,
        steps_per_update=12,
        batch_size=8,
    )
    small_sac_config["train_config"]["total_env_steps"] = 12 * num_envs * 3
    learner = make_learner(load_config(write_config(tmp_path / "sac.json", small_sac_config)), 0)
    while learner.update_count < learner.total_updates:
        learner.update()
        # The progress line restarts its rate when this turns false (see loop.train).
        assert learner.warming_up == (int(learner.state.gradient_steps) == 0)
    assert int(learner.state.gradient_steps) == learner.total_gradient_steps
    assert not learner.warming_up


def test_sac_budget_with_one_gradient_step_on_a_train_freq_boundary(small_sac_config, tmp_path):
    """Random steps 0 and 1, then vector step 2 learns (a multiple of train_freq 2): one
    gradient step, which the budget check used to count as none and refuse."""
    from conftest import write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    small_sac_config["learner_config"].update(
        learning_starts=2, train_freq=2, steps_per_update=3, batch_size=2
    )
    small_sac_config["train_config"]["total_env_steps"] = 3
    learner = make_learner(load_config(write_config(tmp_path / "sac.json", small_sac_config)), 0)
    assert learner.total_gradient_steps == 1
    learner.update()
    assert int(learner.state.gradient_steps) == 1


def test_sac_fixed_temperature_stays_fixed_while_the_networks_learn(small_sac_config, tmp_path):
    """``autotune_alpha: false`` keeps the temperature at ``init_alpha`` (the original SAC's
    fixed temperature, as in ``configs/rl/hopper-sac.json``) and leaves its optimiser state
    untouched, while the actor and critics still take their gradient steps."""
    from conftest import write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    small_sac_config["learner_config"].update(autotune_alpha=False, init_alpha=0.2)
    learner = make_learner(load_config(write_config(tmp_path / "sac.json", small_sac_config)), 0)
    alpha_opt, params = jax.tree.map(np.asarray, (learner.state.alpha_opt, learner.state.params))
    rows = [learner.update() for _ in range(4)]
    assert int(learner.state.gradient_steps) > 0
    assert float(jnp.exp(learner.state.log_alpha)) == pytest.approx(0.2, rel=1e-6)
    assert rows[-1]["alpha"] == pytest.approx(0.2, rel=1e-6)
    for got, before in zip(
        jax.tree.leaves(learner.state.alpha_opt), jax.tree.leaves(alpha_opt), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(got), before)
    leaves = zip(jax.tree.leaves(learner.state.params), jax.tree.leaves(params), strict=True)
    assert all(not np.array_equal(np.asarray(got), before) for got, before in leaves)


class _ShiftedActions(gym.ActionWrapper):
    """CartPole with ``Discrete(2, start=-1)`` actions: -1 pushes left, 0 pushes right."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.action_space = gym.spaces.Discrete(2, start=-1)

    def action(self, action):
        assert action in (-1, 0), f"env action {action!r} outside Discrete(2, start=-1)"
        return int(action) + 1


def test_discrete_actions_with_a_start_reach_the_env_offset(tmp_path):
    """The policy acts in 0..n-1; the env gets start + i, and rollouts store the policy's i."""
    from conftest import load_example, write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    env_id = "JaxlTestShiftedCartPole-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=lambda: _ShiftedActions(gym.make("CartPole-v1").unwrapped))
    for name in ("rl/cartpole-a2c.json", "rl/cartpole-ppo.json"):
        data = load_example(name)
        data["learner_config"]["env_config"] = {"env_id": env_id}
        learner = make_learner(load_config(write_config(tmp_path / "c.json", data)), seed=0)
        assert learner.networks.action.start == -1
        metrics = learner.update()
        assert np.isfinite(metrics["policy_loss"])
        actions = learner.act_fn(deterministic=False)(np.zeros((64, 4), np.float32))
        assert set(np.unique(actions)) == {-1, 0}


def test_sampled_actions_depend_on_the_evaluation_seed(tmp_path):
    # The keys of sampled actions were PRNGKey(0), PRNGKey(1), ... whatever the seed: stochastic
    # evaluations with different seeds, and datasets gathered with different --env-seed, drew
    # the same action noise.
    from conftest import load_example, write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    data = load_example("rl/cartpole-ppo.json")
    learner = make_learner(load_config(write_config(tmp_path / "c.json", data)), seed=0)
    obs = np.zeros((256, 4), np.float32)

    def two_calls(seed: int) -> list[np.ndarray]:
        policy = learner.act_fn(deterministic=False, seed=seed)
        return [policy(obs), policy(obs)]

    first, again, other = two_calls(3), two_calls(3), two_calls(4)
    np.testing.assert_array_equal(np.stack(first), np.stack(again))
    assert not np.array_equal(first[0], first[1])  # each call draws anew
    assert not np.array_equal(first[0], other[0]) and not np.array_equal(first[1], other[1])


def test_reinforce_leaves_its_parameters_after_a_rollout_in_which_no_episode_ends(tmp_path):
    # Every weight is 0 then, and so is the gradient, but Adam's momentum from the previous
    # update moved the parameters anyway.
    from conftest import load_example, write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    data = load_example("rl/cartpole-reinforce.json")
    data["learner_config"].update(num_envs=1, num_steps=5)
    data["train_config"].update(total_env_steps=5 * 40)
    # Annealed, so that the logged rate shows which step of the schedule was used: it was the
    # update count's, which runs ahead of the optimiser's steps once a rollout takes none.
    linear = {"schedule": "linear", "init_value": 1e-3, "end_value": 0.0}
    data["optimizer_config"]["learning_rate"] = linear
    learner = make_learner(load_config(write_config(tmp_path / "c.json", data)), seed=0)
    learned_before, optimiser_steps = False, 0
    for _ in range(40):
        before = jax.device_get((learner.state.params, learner.state.opt_state))
        metrics = learner.update()
        weight = metrics["weight"]
        assert metrics["learning_rate"] == pytest.approx(1e-3 * (1 - optimiser_steps / 40))
        after = jax.device_get((learner.state.params, learner.state.opt_state))
        if weight == 0 and learned_before:
            for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True):
                np.testing.assert_array_equal(a, b)
            assert int(learner.state.env_steps) == 5 * learner.update_count
            assert optimiser_steps < learner.update_count - 1
            return
        learned_before = weight > 0
        optimiser_steps += weight > 0
    pytest.fail("no rollout without an episode end followed one with an end")


def test_adamw_decays_arrays_but_not_scalar_parameters():
    """Weight decay would pull SAC's log-temperature (a scalar) towards 0, i.e. alpha towards 1."""
    from jaxl.config.schema import OptimizerConfig
    from jaxl.optimizers import make_optimizer

    optimizer, _ = make_optimizer(
        OptimizerConfig(optimizer="adamw", learning_rate=0.1, weight_decay=0.5), total_steps=10
    )
    params = {"kernel": jnp.full((2, 2), 2.0), "bias": jnp.full((2,), 2.0), "log_alpha": 2.0}
    params = jax.tree.map(jnp.asarray, params)
    zero_grads = jax.tree.map(jnp.zeros_like, params)
    updates, _ = optimizer.update(zero_grads, optimizer.init(params), params)
    new = optax.apply_updates(params, updates)
    np.testing.assert_allclose(np.asarray(new["kernel"]), 2.0 - 0.1 * 0.5 * 2.0, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(new["bias"]), 2.0 - 0.1 * 0.5 * 2.0, rtol=1e-6)
    assert float(new["log_alpha"]) == 2.0


def test_rmsprop_steps_as_pytorch_and_sb3_do():
    """PyTorch's RMSprop (SB3's A2C optimiser, whose eps 1e-5 cartpole-a2c.json copies) divides
    by ``sqrt(nu) + eps``; optax's default, ``sqrt(nu + eps)``, made the first steps of small
    gradients 29 to 158 times smaller here."""
    from jaxl.config.schema import OptimizerConfig
    from jaxl.optimizers import make_optimizer

    lr, decay, eps = 7e-4, 0.99, 1e-5
    config = OptimizerConfig(optimizer="rmsprop", learning_rate=lr, rmsprop_decay=decay, eps=eps)
    optimizer, _ = make_optimizer(config, total_steps=10)
    params = jnp.zeros(3)
    state = optimizer.init(params)
    nu = np.zeros(3)
    for grad in ([1e-4, 1e-3, 1e-1], [3e-4, -2e-3, 5e-2]):
        updates, state = optimizer.update(jnp.asarray(grad), state, params)
        nu = decay * nu + (1 - decay) * np.square(grad)  # torch.optim.RMSprop, alpha = decay
        np.testing.assert_allclose(
            np.asarray(updates), -lr * np.asarray(grad) / (np.sqrt(nu) + eps), rtol=1e-5
        )


def test_a_seeds_key_is_the_one_prngkey_gives_in_64_bit_mode():
    """Seed ``2**32 + s`` was the key of ``s`` with 1 folded in, which equals one of the keys
    that splitting ``s``'s key gives: the two runs shared random streams."""
    import json
    import os
    import subprocess
    import sys

    from jaxl.seeds import prng_key

    seeds = [5, 2**32 + 5, 2**63 - 1]
    script = f"import jax; print([jax.random.PRNGKey(s).tolist() for s in {seeds!r}])"
    env = {**os.environ, "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert [np.asarray(prng_key(s)).tolist() for s in seeds] == json.loads(result.stdout)
    low = prng_key(5)
    derived = [jax.random.split(low, n)[i] for n in (2, 3, 4) for i in range(n)]
    derived += [jax.random.fold_in(low, i) for i in range(4)]
    assert not any(np.array_equal(prng_key(2**32 + 5), key) for key in derived)


def test_seeds_that_differ_above_32_bits_start_from_different_parameters(tmp_path):
    """jax.random.PRNGKey keeps only 32 bits of a seed without 64-bit mode."""
    from conftest import load_example, write_config

    from jaxl.config import load_config
    from jaxl.learners import make_learner

    config = load_config(write_config(tmp_path / "c.json", load_example("rl/cartpole-ppo.json")))
    low, high = (make_learner(config, seed) for seed in (5, 2**32 + 5))
    kernels = [jax.tree.leaves(learner.state.params)[-1] for learner in (low, high)]
    assert not np.array_equal(np.asarray(kernels[0]), np.asarray(kernels[1]))


def test_scaled_rewards_are_clipped_as_sb3_and_cleanrl_clip_them():
    """A reward far above the return's spread so far is clipped to ``reward_clip`` (SB3's
    ``VecNormalize`` and CleanRL clip at 10); the statistics still see the raw rewards."""
    from jaxl.normalization import init_reward_scale, scale_rewards

    rewards = jnp.array([[0.1], [-0.1], [0.1], [1000.0]])
    dones = jnp.zeros((4, 1), bool)
    state = init_reward_scale(1)
    unclipped_state, unclipped = scale_rewards(state, rewards, dones, 0.99)
    clipped_state, clipped = scale_rewards(state, rewards, dones, 0.99, clip=1.0)
    assert float(unclipped[3, 0]) > 1.0 and float(clipped[3, 0]) == 1.0
    np.testing.assert_array_equal(clipped[:3], jnp.clip(unclipped[:3], -1.0, 1.0))
    for a, b in zip(jax.tree.leaves(unclipped_state), jax.tree.leaves(clipped_state), strict=True):
        np.testing.assert_array_equal(a, b)
