"""The held-out episodes of behaviour cloning's validation split."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_example, write_config

from jaxl.cli import main
from jaxl.learners.bc.validation import episode_ids, held_out_mask


def _ends(lengths: list[int], unfinished: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Termination and truncation flags of episodes of ``lengths`` (odd ones truncated), then
    ``unfinished`` transitions of an episode that did not end."""
    terminated, truncated = [], []
    for index, length in enumerate(lengths):
        end = [False] * (length - 1) + [True]
        terminated += end if index % 2 == 0 else [False] * length
        truncated += end if index % 2 == 1 else [False] * length
    terminated += [False] * unfinished
    truncated += [False] * unfinished
    return np.array(terminated), np.array(truncated)


def test_episodes_are_counted_by_termination_and_truncation():
    terminated, truncated = _ends([2, 3, 1], unfinished=2)
    assert episode_ids(terminated, truncated).tolist() == [0, 0, 1, 1, 1, 2, 3, 3]


def test_whole_episodes_are_held_out_and_the_same_ones_every_time():
    lengths = [5, 7, 3, 9, 4, 6, 8, 2, 5, 5]
    terminated, truncated = _ends(lengths)
    mask = held_out_mask(terminated, truncated, 0.3, "d.npz")
    ids = episode_ids(terminated, truncated)
    held = sorted(set(ids[mask].tolist()))
    assert len(held) == 3
    # Every transition of a held-out episode is held out, and no other.
    assert mask.tolist() == np.isin(ids, held).tolist()
    assert (held_out_mask(terminated, truncated, 0.3, "d.npz") == mask).all()
    # Any fraction holds out one episode at least.
    assert len(set(ids[held_out_mask(terminated, truncated, 0.01, "d.npz")].tolist())) == 1


def test_a_dataset_too_small_to_split_is_refused():
    terminated, truncated = _ends([4])
    with pytest.raises(ValueError, match="of the 1 episode in d.npz leaves none to train on"):
        held_out_mask(terminated, truncated, 0.5, "d.npz")


def test_a_fraction_that_leaves_nothing_to_train_on_is_refused(tmp_path, capsys):
    from conftest import write_cartpole_dataset

    dataset = tmp_path / "expert.npz"
    write_cartpole_dataset(dataset)
    data = load_example("il/cartpole-bc.json")
    data["learner_config"]["buffer_config"]["load_path"] = str(dataset)
    data["learner_config"]["validation_fraction"] = 1.0
    config = write_config(tmp_path / "c.json", data)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    assert "learner_config.validation_fraction: 1.0 holds out every episode" in (
        capsys.readouterr().err
    )
    # The tiny dataset has one episode: nothing to hold out beside training.
    data["learner_config"]["validation_fraction"] = 0.5
    config = write_config(tmp_path / "c.json", data)
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 2
    assert "validation_fraction: 0.5 of the 1 episode in" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
