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


def test_an_archive_with_an_unknown_compression_method_is_named(tmp_path):
    # A damaged compression-method field made zipfile raise NotImplementedError, which escaped as
    # a traceback.
    path = tmp_path / "damaged.npz"
    buffer = TransitionNumPyBuffer(8, (2,), (), np.float32, np.int64)
    buffer.add(batch(0, 8, done_every=4))
    buffer.save(str(path))
    raw = bytearray(path.read_bytes())
    entry = raw.index(b"PK\x01\x02")  # the first central-directory entry
    raw[entry + 10 : entry + 12] = (77).to_bytes(2, "little")  # no such compression method
    path.write_bytes(bytes(raw))
    with pytest.raises(BufferFileError, match="damaged.npz is not a readable JAXL buffer file"):
        load_buffer(str(path))


def _rewrite(path, edit_arrays=None, edit_metadata=None):
    """Rewrite a saved buffer file with its arrays or metadata edited (a hand-made dataset)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    metadata = json.loads(str(arrays.pop("metadata")))
    if edit_arrays:
        edit_arrays(arrays)
    if edit_metadata:
        edit_metadata(metadata)
    np.savez(path, **arrays, metadata=np.array(json.dumps(metadata)))


@pytest.mark.parametrize("kind", [TransitionNumPyBuffer, TrajectoryNumPyBuffer])
def test_a_file_whose_arrays_disagree_with_its_metadata_is_refused(tmp_path, kind):
    # Before, a reward array 5 shorter than the others loaded silently (misaligned data), and a
    # file without "size" raised a bare KeyError.
    buffer = kind(8, (2,), (), np.float32, np.int64)
    buffer.add(batch(0, 8, done_every=4))
    cases = {
        "short reward": (
            lambda a: a.update(reward=a["reward"][:-5]),
            None,
            "reward has shape (3,), expected (8,)",
        ),
        "obs width": (
            lambda a: a.update(obs=a["obs"][:, :1]),
            None,
            "obs has shape (8, 1), expected (8, 2)",
        ),
        "size": (None, lambda m: m.update(size=80), "terminated has shape (8,), expected (80,)"),
        "no size": (None, lambda m: m.pop("size"), "metadata has no 'size'"),
        "size as text": (None, lambda m: m.update(size="8"), "'size': expected a JSON int"),
        "dtype": (None, lambda m: m.update(obs_dtype="float99"), "unknown dtype"),
        # These two gave a ValueError and a NumPy memory error, with tracebacks.
        "text dtype": (None, lambda m: m.update(obs_dtype="str"), "'str' is not a number type"),
        "capacity": (
            None,
            lambda m: m.update(capacity=10**15),
            "a buffer of 1000000000000000 transitions does not fit in this machine's memory",
        ),
    }
    if kind is TrajectoryNumPyBuffer:
        cases["episode ids"] = (
            lambda a: a.update(episode_id=a["episode_id"][:2]),
            None,
            "episode_id has shape (2,), expected (8,)",
        )
    for name, (edit_arrays, edit_metadata, message) in cases.items():
        path = tmp_path / f"{name}.npz"
        buffer.save(path)
        _rewrite(path, edit_arrays, edit_metadata)
        with pytest.raises(BufferFileError) as error:
            load_buffer(str(path))
        assert str(error.value).startswith(f"{path}: "), (name, str(error.value))
        assert message in str(error.value), (name, str(error.value))
    no_metadata = tmp_path / "arrays only.npz"
    np.savez(no_metadata, **buffer.contents()._asdict())
    with pytest.raises(BufferFileError, match=r"no 'metadata' entry; it holds \['action'"):
        load_buffer(str(no_metadata))
    buffer.save(tmp_path / "intact.npz")
    assert len(load_buffer(str(tmp_path / "intact.npz"))) == 8


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
