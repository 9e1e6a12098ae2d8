"""The built-in end-to-end demo: PPO on CartPole, expert data, behaviour cloning, both returns."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from jaxl.config import load_config
from jaxl.training.session import (
    check_dataset_output,
    evaluate_run,
    gather_dataset,
    start_training,
)


def _packaged_config(name: str) -> Path:
    return Path(str(resources.files("jaxl") / "configs" / name))


def run_demo(out: str = "runs/demo", seed: int = 0, episodes: int = 20) -> dict[str, float]:
    """Train PPO on CartPole-v1, evaluate it, gather ``episodes`` expert episodes, train BC on
    them, evaluate the clone, and print both returns.

    :param out: folder for the two runs and the dataset.
    :param seed: seed of both runs.
    :return: ``{"expert_return": ..., "bc_return": ...}``.
    """
    root = Path(out)
    dataset = root / "cartpole-expert.npz"
    # Checked before the first run trains: gather would refuse it only after it.
    check_dataset_output(
        dataset, remedy="the demo writes its expert data there; name another --out folder"
    )
    print(f"[1/4] training PPO on CartPole-v1 (seed {seed}) ...", flush=True)
    expert = start_training(_packaged_config("rl/cartpole-ppo.json"), seed, out=str(root))
    expert_eval = evaluate_run(expert.run.path, episodes=10, deterministic=True)
    print(f"      run: {expert.run.path}", flush=True)
    print(f"[2/4] expert return: {expert_eval['mean_return']:.1f} over 10 episodes", flush=True)
    summary = gather_dataset(expert.run.path, episodes, dataset, deterministic=True, env_seed=seed)
    print(
        f"[3/4] gathered {summary['transitions']} transitions from {episodes} episodes -> {dataset}",
        flush=True,
    )
    bc_config = load_config(
        _packaged_config("il/cartpole-bc.json"),
        [f"learner_config.buffer_config.load_path={dataset.resolve()}"],
    )
    clone = start_training(bc_config, seed, out=str(root))
    clone_eval = evaluate_run(clone.run.path, episodes=10, deterministic=True)
    print(f"[4/4] behaviour cloning run: {clone.run.path}", flush=True)
    print()
    print(f"PPO expert return: {expert_eval['mean_return']:.1f}")
    print(f"BC clone return:   {clone_eval['mean_return']:.1f}")
    return {"expert_return": expert_eval["mean_return"], "bc_return": clone_eval["mean_return"]}
