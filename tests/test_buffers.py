"""NumPy buffers: wrap-around, seeded sampling, the file format and its errors."""

import json
import zipfile

import numpy as np
import pytest

from jaxl.buffers import (
    BufferFileError,
    TrajectoryNumPyBuffer,
    TransitionNumPyBuffer,
    Transitions,
    load_buffer,
)


def batch(start: int, count: int, done_every: int = 0) -> Transitions:
    ids = np.arange(start, start + count)
    done = (ids % done_every == done_every - 1) if done_every else np.zeros(count, bool)
    return Transitions(
        obs=np.stack([ids, ids], 1).astype(np.float32),
        action=ids.astype(np.int64),
        reward=ids.astype(np.float32),
        next_obs=np.stack([ids + 1, ids + 1], 1).astype(np.float32),
        terminated=done,
        truncated=np.zeros(count, bool),
    )


def test_wraps_around_keeping_the_newest():
    buffer = TransitionNumPyBuffer(5, (2,), (), np.float32, np.int64)
    buffer.add(batch(0, 3))
    buffer.add(batch(3, 4))
    assert len(buffer) == 5 and buffer.is_full
    np.testing.assert_array_equal(buffer.contents().reward, [2, 3, 4, 5, 6])


def test_sampling_is_seeded():
    first, second = (
        TransitionNumPyBuffer(10, (2,), (), np.float32, np.int64, seed=7) for _ in "ab"
    )
    for buffer in (first, second):
        buffer.add(batch(0, 10))
    np.testing.assert_array_equal(first.sample(32).reward, second.sample(32).reward)


def test_save_load_round_trip_with_metadata(tmp_path):
    buffer = TransitionNumPyBuffer(4, (2,), (), np.float32, np.int64)
    buffer.add(batch(0, 6))
    path = tmp_path / "data.npz"
    buffer.save(path, {"env": {"env_id": "CartPole-v1"}, "episodes": 2, "returns": [1.0, 2.0]})
    assert [p.name for p in tmp_path.iterdir()] == ["data.npz"]  # no temporary file left
    loaded = load_buffer(str(path))
    for a, b in zip(loaded.contents(), buffer.contents(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.metadata["env"] == {"env_id": "CartPole-v1"}
    assert loaded.metadata["returns"] == [1.0, 2.0]
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(str(data["metadata"]))
    assert header["format"] == "jaxl.buffer" and header["version"] == 1


def test_missing_and_corrupt_files_are_named(tmp_path):
    with pytest.raises(BufferFileError, match="not found: .*nope.npz"):
        load_buffer(str(tmp_path / "nope.npz"))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(BufferFileError, match="bad.npz") as error:
        load_buffer(str(bad))
    assert "not an .npz archive" in str(error.value) and "pickle" not in str(error.value)
    other = tmp_path / "other.npz"
    with zipfile.ZipFile(other, "w"):
        pass
    with pytest.raises(BufferFileError, match="other.npz"):
        load_buffer(str(other))


def test_trajectory_windows_stay_inside_episodes(tmp_path):
    buffer = TrajectoryNumPyBuffer(30, (2,), (), np.float32, np.int64, seed=1)
    buffer.add(batch(0, 40, done_every=7))  # wraps; episodes of 7 steps
    windows = buffer.sample_windows(64, horizon=4)
    assert windows.reward.shape == (64, 4)
    steps = windows.reward.astype(int)
    assert np.all(np.diff(steps, axis=1) == 1)  # consecutive steps
    assert np.all(steps[:, 0] // 7 == steps[:, -1] // 7)  # one episode each
    path = tmp_path / "traj.npz"
    buffer.save(path)
    loaded = load_buffer(str(path), seed=1)
    assert isinstance(loaded, TrajectoryNumPyBuffer)
    np.testing.assert_array_equal(loaded.sample_windows(64, 4).reward, windows.reward)
