"""``jaxl plot`` on runs that do not line up: different lengths, other evaluation steps, one
evaluation. Each is drawn from what the runs measured, nothing extrapolated."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
from conftest import load_example, write_config

from jaxl.cli import main
from jaxl.plotting import (
    _align,
    _curve,
    _differences,
    _draw_group,
    _name_groups_that_share_a_label,
    _outside,
    _style,
    plot_runs,
)
from jaxl.training.metrics import read_metrics


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory):
    """A tiny PPO CartPole run of 6 updates (a row each), evaluated after every second one."""
    from jaxl.training.session import start_training

    root = tmp_path_factory.mktemp("plot")
    data = load_example("rl/cartpole-ppo.json")
    data["logging_config"]["log_interval"] = 1
    data["train_config"].update(total_env_steps=256 * 6, eval_interval=2, eval_episodes=1)
    result = start_training(write_config(root / "c.json", data), seed=0, out=str(root / "runs"))
    return result.run.path


def _copy_run(run, to, keep_rows: int | None = None, shift_env_steps: int = 0):
    """A copy of ``run`` whose metrics.csv keeps its first ``keep_rows`` rows (as a run stopped
    there has) and/or has its env steps moved by ``shift_env_steps`` (evaluated elsewhere)."""
    shutil.copytree(run, to)
    rows = read_metrics(to / "metrics.csv")[:keep_rows]
    for row in rows:
        row["env_steps"] = str(int(row["env_steps"]) + shift_env_steps)
    with open(to / "metrics.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return to


def _eval(run) -> dict[float, float]:
    return {
        float(r["env_steps"]): float(r["eval_return_mean"])
        for r in read_metrics(run / "metrics.csv")
        if r["eval_return_mean"]
    }


def test_runs_of_different_lengths_keep_their_own_final_values(evaluated_run, tmp_path, capsys):
    full = evaluated_run
    stopped = _copy_run(full, tmp_path / "stopped", keep_rows=4)
    full_eval, stopped_eval = _eval(full), _eval(stopped)
    (group,) = plot_runs([full, stopped], tmp_path / "curve.png")
    # The mean ends where both runs have values; the full run's later values are not dropped.
    assert group["env_steps"] == 1024
    both = [full_eval[1024.0], stopped_eval[1024.0]]
    assert group["min"] == min(both) and group["max"] == max(both)
    assert {f["run"]: f["env_steps"] for f in group["finals"]} == {
        str(full): 1536.0,
        str(stopped): 1024.0,
    }
    assert group["finals"][0]["eval_return_mean"] == full_eval[1536.0]

    assert main(["plot", str(full), str(stopped), "--out", str(tmp_path / "c.png")]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert "at env_steps 1024, the last all runs reach; each run's last:" in line, line
    assert f"{full_eval[1536.0]:.2f} at 1536" in line, line


def test_runs_evaluated_at_other_steps_are_not_extrapolated(evaluated_run, tmp_path):
    shifted = _copy_run(evaluated_run, tmp_path / "shifted", shift_env_steps=128)
    (group,) = plot_runs([evaluated_run, shifted], tmp_path / "curve.png")
    assert group["env_steps"] == 1536
    # The common range runs from 640 (the shifted run's first evaluation) to 1536 (the other's
    # last). Before, both were put on the other run's steps from 512 on, where the shifted run
    # was given its first value, measured at 640.
    curves = [
        _curve(run / "metrics.csv", "eval_return_mean", "env_steps")
        for run in (evaluated_run, shifted)
    ]
    grid, values = _align(curves)
    assert grid.tolist() == [640.0, 1024.0, 1152.0, 1536.0]
    assert values[1, 0] == _eval(shifted)[640.0] and values[0, -1] == _eval(evaluated_run)[1536.0]


def test_a_run_with_one_evaluation_is_drawn_as_a_point(evaluated_run, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    single = _copy_run(evaluated_run, tmp_path / "single", keep_rows=2)
    curve = _curve(single / "metrics.csv", "eval_return_mean", "env_steps")
    figure, axes = plt.subplots()
    summary = _draw_group(axes, [curve], "one", _style(0))
    # Before, a line through one point: nothing visible but the axes and the legend.
    assert [line.get_marker() for line in axes.lines] == ["o"]
    plt.close(figure)
    assert summary["x"] == 512 and summary["mean"] == _eval(single)[512.0]
    (group,) = plot_runs([single], tmp_path / "one.png")
    assert group["env_steps"] == 512


def test_sparse_curves_mark_their_points_and_step_axes_read_in_thousands(
    evaluated_run, tmp_path, monkeypatch
):
    # Before, an evaluation every 10% of a run was a bare polyline, and 1M env steps read 1e6.
    import matplotlib.pyplot as plt

    import jaxl.plotting

    drawn = []
    monkeypatch.setattr(jaxl.plotting, "save_figure", lambda figure, out: drawn.append(figure))
    plot_runs([evaluated_run], tmp_path / "c.png")
    (axes,) = drawn[0].axes
    (line,) = axes.lines
    assert len(line.get_xdata()) == 3 and line.get_marker() == "o"
    formatter = axes.xaxis.get_major_formatter()
    assert [formatter(v) for v in (512, 1536, 100_000, 1_000_000)] == [
        "512",
        "1.536k",
        "100k",
        "1M",
    ]
    assert formatter(0.5) == "0.5"  # not 500m: a count below a thousand reads as it is
    plt.close(drawn[0])
    figure, axes = plt.subplots()
    _draw_group(axes, [(np.arange(100.0), np.zeros(100))], "dense", _style(0))
    assert axes.lines[0].get_marker() in ("None", None, "")  # a dense curve is a plain line
    plt.close(figure)


def test_x_column_with_empty_cells_skips_those_rows(evaluated_run, tmp_path):
    # policy_loss has a value in every row, eval_return_std only in rows with an evaluation.
    # Before, "could not convert string to float: ''", naming neither the file nor the column.
    (group,) = plot_runs(
        [evaluated_run], tmp_path / "c.png", metric="policy_loss", x="eval_return_std"
    )
    stds = [float(r["eval_return_std"]) for r in read_metrics(evaluated_run / "metrics.csv")[1::2]]
    assert group["x"] == "eval_return_std" and group["eval_return_std"] == max(stds)
    # The stds are not in row order; the run's last value is its value at the largest x.
    assert group["finals"][0]["eval_return_std"] == max(stds)


def test_parts_outside_a_single_shared_x_are_drawn_from_it():
    # Runs sharing one x: the second run's part beyond it starts there (it was drawn 3, 4, 2).
    first = (np.array([0.0, 1.0, 2.0]), np.array([5.0, 6.0, 7.0]))
    second = (np.array([2.0, 3.0, 4.0]), np.array([1.0, 2.0, 3.0]))
    grid, _ = _align([first, second])
    assert grid.tolist() == [2.0]
    ((before_x, before_y),) = _outside(*first, grid)
    assert before_x.tolist() == [0.0, 1.0, 2.0] and before_y.tolist() == [5.0, 6.0, 7.0]
    ((after_x, after_y),) = _outside(*second, grid)
    assert after_x.tolist() == [2.0, 3.0, 4.0] and after_y.tolist() == [1.0, 2.0, 3.0]


def _with_config_change(run, to, path: str, value):
    """A copy of ``run`` whose config.json sets the dotted ``path`` to ``value``, as a run of a
    sweep's other point has."""
    import json

    shutil.copytree(run, to)
    config = json.loads((to / "config.json").read_text())
    *sections, key = path.split(".")
    tree = config
    for section in sections:
        tree = tree[section]
    tree[key] = value
    (to / "config.json").write_text(json.dumps(config))
    return to


def test_groups_of_one_sweep_are_named_by_the_values_that_differ(evaluated_run, tmp_path, capsys):
    # Before, the legend read "ppo CartPole-v1 (cartpole-ppo) #0" and "... #1": which was which
    # could only be found by opening each run's config.json.
    other_rate = _with_config_change(
        evaluated_run, tmp_path / "lr", "optimizer_config.learning_rate", 0.125
    )
    same = _with_config_change(evaluated_run, tmp_path / "same", "description", "another run")
    # Nor does a logging setting that does not change what was learned (it split them before).
    checkpointed = _with_config_change(
        evaluated_run, tmp_path / "ckpt", "logging_config.checkpoint_interval", 1
    )
    groups = plot_runs([evaluated_run, other_rate, same, checkpointed], tmp_path / "curve.png")
    assert len(groups) == 2
    base = "ppo CartPole-v1 (cartpole-ppo)"
    first, second = (g["label"] for g in groups)
    assert first.startswith(f"{base}: learning_rate=") and first != f"{base}: learning_rate=0.125"
    assert second == f"{base}: learning_rate=0.125"
    assert groups[0]["runs"] == [str(evaluated_run), str(same), str(checkpointed)]

    assert (
        main(["plot", str(evaluated_run), str(other_rate), "--out", str(tmp_path / "c.png")]) == 0
    )
    assert f"{base}: learning_rate=0.125: 1 run" in capsys.readouterr().out


def test_differences_name_keys_by_their_path_without_config_sections():
    def config(seed, lr, q_layers, pi_layers, clip):
        return {
            "seed": seed,
            "description": f"run {seed}",
            "logging_config": {"save_path": f"runs{seed}", "experiment_name": "x"},
            "model_config": {"q": {"layers": q_layers}, "policy": {"layers": pi_layers}},
            "optimizer_config": {"learning_rate": lr, "clip": clip},
            "train_config": {"learning_rate": 0.5},
        }

    first = config(0, 0.1, [64], [64], 1.0)
    second = config(1, 0.2, [32, 32], [64], 1.0)
    assert _differences([first, second]) == [
        "q.layers=[64], optimizer_config.learning_rate=0.1",
        "q.layers=[32,32], optimizer_config.learning_rate=0.2",
    ]
    # A section one config replaces by a value (a schedule by a constant rate) is one difference.
    third = config(2, {"schedule": "linear", "init_value": 0.3}, [8], [8], None)
    third["model_config"]["extra"] = True
    labels = _differences([first, second, third])
    assert labels[2] == "extra=true, policy.layers=[8], q.layers=[8], +2 more"
    assert labels[0].startswith("extra=absent, ")
    # The values shown are those that tell the groups apart: "d" comes before "b" and "c",
    # which only repeat "a" (before, the labels read "a=1, b=1, c=1, +1 more" twice).
    groups = [
        {"label": "sac", "config": {"logging_config": {}, "a": a, "b": a, "c": a, "d": d}}
        for a, d in ((1, 1), (1, 2), (2, 2))
    ]
    _name_groups_that_share_a_label(groups)
    assert [g["label"] for g in groups] == [
        "sac: a=1, b=1, d=1, +1 more",
        "sac: a=1, b=1, d=2, +1 more",
        "sac: a=2, b=2, d=2, +1 more",
    ]
    # Groups alike in every value that fits in a label (they differ in a fourth, and the first
    # three each split off only one group) are numbered, so no two legend entries read the same.
    groups = [
        {"label": "sac", "config": {"logging_config": {}, **dict.fromkeys("abcd", 0), key: 1}}
        for key in "abcd"
    ] + [{"label": "sac", "config": {"logging_config": {}, **dict.fromkeys("abcd", 0)}}]
    _name_groups_that_share_a_label(groups)
    assert [g["label"] for g in groups] == [
        "sac: a=1, b=0, c=0, +1 more",
        "sac: a=0, b=1, c=0, +1 more",
        "sac: a=0, b=0, c=1, +1 more",
        "sac: a=0, b=0, c=0, +1 more #3",
        "sac: a=0, b=0, c=0, +1 more #4",
    ]
    # Runs on two variants of a parameterized env differ in task_seed; the drawn physics it
    # determines are left out of the label.
    variants = [
        {
            "logging_config": {},
            "learner_config": {"env_config": {"env_id": "jaxl/Hopper-v5", "task_seed": seed}},
            "task_params": {"torso_mass": mass, "foot_radius": 0.06 + mass / 100},
        }
        for seed, mass in ((3, 3.1), (4, 3.7))
    ]
    assert _differences(variants) == ["task_seed=3", "task_seed=4"]
    fourth = config(3, {"schedule": "linear", "init_value": 0.4}, [64], [64], 1.0)
    assert _differences([third | {"model_config": first["model_config"]}, fourth]) == [
        "clip=null, learning_rate.init_value=0.3",
        "clip=1.0, learning_rate.init_value=0.4",
    ]


def test_a_sweeps_legend_sits_under_the_curves_and_each_group_has_a_style_of_its_own(
    evaluated_run, tmp_path, monkeypatch
):
    # Before, the legend was drawn inside the axes over the curves, a label longer than the
    # figure ran off its left edge, and the eleventh group had the first one's colour.
    import matplotlib.pyplot as plt

    import jaxl.plotting

    drawn = []
    monkeypatch.setattr(jaxl.plotting, "save_figure", lambda figure, out: drawn.append(figure))
    runs = [
        _with_config_change(evaluated_run, tmp_path / f"g{index}", "learner_config.gamma", gamma)
        for index, gamma in enumerate(np.linspace(0.9, 0.99, 11).round(3).tolist())
    ]
    runs.append(
        _with_config_change(
            evaluated_run, tmp_path / "wide", "model_config.value.layers", [64] * 30
        )
    )
    plot_runs(runs, tmp_path / "c.png")
    figure = drawn[0]
    (axes,) = figure.axes
    assert axes.get_legend() is None and axes.get_title() == ""  # one run each: no band
    (legend,) = figure.legends
    figure.canvas.draw()
    box, frame = legend.get_window_extent(), axes.get_tightbbox()
    assert box.y1 <= frame.y0  # under the axes and their tick labels
    assert 0 <= box.x0 and box.x1 <= figure.bbox.width
    texts = [text.get_text() for text in legend.get_texts()]
    assert len(texts) == 12 and "\n" in texts[-1] and "\n" not in texts[0]
    styles = [(line.get_color(), line.get_linestyle()) for line in axes.lines]
    assert len(styles) == 12 and len(set(styles)) == 12
    plt.close(figure)
