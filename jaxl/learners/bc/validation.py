"""Hold out whole episodes of a dataset, to measure how well behaviour cloning generalises.

Transitions of one episode are alike, so a held-out set of single transitions drawn across
episodes would measure memorisation; whole episodes measure what the policy does on states it
has not trained on.
"""

from __future__ import annotations

import numpy as np

#: The held-out episodes are drawn with this seed, not the run's: every run on a dataset (other
#: seeds, other hyperparameters) is validated on the same episodes, so their losses compare.
SPLIT_SEED = 0


def episode_ids(terminated: np.ndarray, truncated: np.ndarray) -> np.ndarray:
    """Each transition's episode number, counting episode ends (termination or truncation) in
    dataset order; transitions after the last end form one more, unfinished, episode."""
    ends = np.logical_or(terminated, truncated).astype(np.int64)
    return np.concatenate([[0], np.cumsum(ends)[:-1]])


def held_out_mask(
    terminated: np.ndarray, truncated: np.ndarray, fraction: float, where: str
) -> np.ndarray:
    """Which transitions belong to the held-out episodes: ``round(fraction * episodes)`` of
    them (at least one), drawn with :data:`SPLIT_SEED`.

    :param where: names the dataset in errors.
    :raises ValueError: the dataset has too few episodes to hold one out and train on the rest.
    """
    ids = episode_ids(terminated, truncated)
    episodes = int(ids[-1]) + 1 if ids.size else 0
    count = max(1, round(fraction * episodes))
    if count >= episodes:
        raise ValueError(
            f"learner_config.validation_fraction: {fraction} of the {episodes} episode"
            f"{'' if episodes == 1 else 's'} in {where} leaves none to train on; lower it or "
            "gather more episodes"
        )
    chosen = np.random.default_rng(SPLIT_SEED).choice(episodes, size=count, replace=False)
    return np.isin(ids, chosen)
