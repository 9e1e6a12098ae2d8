"""Learning curves from run directories: evaluation return against environment steps.

Runs whose resolved configs differ only in seed (and in description, or in logging settings
other than the experiment name: where and how often they were logged and checkpointed) form one
group, drawn as the mean over runs with a band from the lowest to the highest
run where every run has values; where only some do (runs of different lengths, or evaluated at
other steps), each run is drawn on its own, thin. A group of one run is a plain line, a curve of
one value a point. Groups of one algorithm, env and experiment name (a sweep's) are told apart in
the legend by the config values that differ between them.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jaxl.config import ExperimentConfig
from jaxl.errors import InputError
from jaxl.output_paths import check_output_parent, reporting_write_errors
from jaxl.training.metrics import read_metrics
from jaxl.training.run_dir import open_run_directory

#: Keys of a resolved config that do not say what was trained: the seed, the version, prose, and
#: ``task_params``, which ``env_config`` determines (listing the drawn values of a sweep over task
#: seeds would crowd the legend out).
_NOT_PART_OF_A_CONFIG = ("seed", "jaxl_version", "description", "task_params")
#: At most this many differing config values name a group in the legend.
_MAX_NAMED_DIFFERENCES = 3
#: Mean curves of at most this many points have each point marked (evaluations are sparse: the
#: shipped configs evaluate 4 to 20 times per run); denser curves are plain lines.
_MARKED_POINTS = 60
#: Legend labels are wrapped to lines of at most this many characters, so that they fit the
#: figure's width.
_LEGEND_LINE = 90
#: Line styles that tell groups apart once the ten colours are used up (a sweep of 11 or more).
_LINE_STYLES = ("-", "--", "-.", ":")
#: Columns of counts, labelled in engineering notation (``100k``, ``1M``) on the x axis.
_COUNT_COLUMNS = ("env_steps", "update")


def _comparable(config: dict) -> dict:
    """The part of a resolved config that says what was trained: no seed, version, prose
    description, drawn physics (``env_config`` says which) or logging settings (output folder,
    log and checkpoint intervals, ...), except the experiment's name."""
    config = {k: v for k, v in config.items() if k not in _NOT_PART_OF_A_CONFIG}
    config["logging_config"] = {
        k: v for k, v in config["logging_config"].items() if k == "experiment_name"
    }
    return config


def _group_key(config: dict) -> str:
    return json.dumps(_comparable(config), sort_keys=True)


_ABSENT = object()


def _json(value: Any) -> str:
    """A config value as compact JSON (``absent`` where a config lacks it)."""
    if value is _ABSENT:
        return "absent"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _differing_paths(trees: list[Any], path: str = "") -> dict[str, list[str]]:
    """The dotted key paths at which ``trees`` differ, each with every tree's value there as
    JSON. Sections that all trees have are compared key by key; anything else (a value, or a
    section that one tree replaces by a value, such as a schedule by a constant rate) whole."""
    if all(isinstance(tree, dict) and tree for tree in trees):
        differing: dict[str, list[str]] = {}
        for key in sorted(set().union(*trees)):
            values = [tree.get(key, _ABSENT) for tree in trees]
            differing.update(_differing_paths(values, f"{path}.{key}" if path else key))
        return differing
    values = [_json(tree) for tree in trees]
    return {path: values} if len(set(values)) > 1 else {}


def _key_paths(tree: Any, prefix: str = "") -> set[str]:
    """Every dotted key path in a config, of sections and of values."""
    if not isinstance(tree, dict):
        return set()
    paths = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        paths |= {path} | _key_paths(value, f"{path}.")
    return paths


def _short_name(path: str) -> str:
    """A dotted path without its ``*_config`` sections: ``learning_rate.init_value`` for
    ``optimizer_config.learning_rate.init_value``."""
    return ".".join(part for part in path.split(".") if not part.endswith("_config")) or path


def _short_names(paths: list[str], every_path: set[str]) -> dict[str, str]:
    """Each of ``paths`` by its :func:`_short_name`, or whole where another path of
    ``every_path`` (all the configs' paths) has the same short name."""
    counts = Counter(_short_name(path) for path in every_path)
    return {path: path if counts[_short_name(path)] > 1 else _short_name(path) for path in paths}


def _telling_apart(differing: dict[str, list[str]], most: int) -> list[str]:
    """At most ``most`` of the paths in ``differing`` (each with every config's value), chosen
    to tell the configs apart: one at a time, the path whose values separate the most configs
    that the paths chosen so far do not; then, once every config is told apart (or no path
    separates more), the first of the others. In ``differing``'s order."""
    paths = list(differing)

    def told_apart(chosen: list[str]) -> int:
        return len(set(zip(*(differing[path] for path in chosen), strict=True))) if chosen else 1

    chosen: list[str] = []
    while len(chosen) < most:
        candidates = [path for path in paths if path not in chosen]
        best = max(candidates, key=lambda path: told_apart([*chosen, path]), default=None)
        if best is None or told_apart([*chosen, best]) == told_apart(chosen):
            break
        chosen.append(best)
    chosen += [path for path in paths if path not in chosen][: most - len(chosen)]
    return sorted(chosen, key=paths.index)


def _differences(configs: list[dict]) -> list[str]:
    """For configs that share a legend label, what sets each apart: ``name=value`` for config
    values that differ among them (at most :data:`_MAX_NAMED_DIFFERENCES`, those that tell the
    configs apart first (:func:`_telling_apart`), then a count of the rest), each named by its
    key path without the ``*_config`` sections."""
    comparable = [_comparable(config) for config in configs]
    differing = _differing_paths(comparable)
    names = _short_names(list(differing), set().union(*map(_key_paths, comparable)))
    shown = _telling_apart(differing, _MAX_NAMED_DIFFERENCES)
    more = len(differing) - len(shown)
    return [
        ", ".join(f"{names[path]}={differing[path][index]}" for path in shown)
        + (f", +{more} more" if more else "")
        for index in range(len(configs))
    ]


def _curve(metrics_path: Path, metric: str, x: str) -> tuple[np.ndarray, np.ndarray]:
    """A run's ``(x, metric)`` values, from the rows that have both, sorted by x."""
    if not metrics_path.is_file():
        raise InputError(f"{metrics_path.parent}: no metrics.csv yet")
    rows = read_metrics(metrics_path)
    for column in (metric, x):
        if rows and column not in rows[0]:
            raise InputError(
                f"{metrics_path}: no column {column!r} (columns: {', '.join(rows[0])})"
            )
    filled = [r for r in rows if r.get(metric) not in ("", None) and r.get(x) not in ("", None)]
    try:
        points = [(float(r[x]), float(r[metric])) for r in filled]
    except ValueError as error:
        raise InputError(f"{metrics_path}: a value is not a number ({error})") from None
    points = [(a, b) for a, b in points if not (math.isnan(a) or math.isnan(b))]
    if not points:
        raise InputError(f"{metrics_path}: no rows with values of both {metric} and {x} yet")
    points.sort(key=lambda point: point[0])  # stable: rows with equal x keep their order
    xs, ys = zip(*points, strict=True)
    return np.asarray(xs), np.asarray(ys)


def _x_column(x: str, configs: dict[str, ExperimentConfig]) -> str:
    """``x``, with ``auto`` resolved: ``env_steps`` for online runs, ``update`` for offline ones
    (which take no env steps)."""
    offline = [
        run for run, config in configs.items() if config.learner_config.task != "reinforcement"
    ]
    if x == "env_steps" and offline:
        raise InputError(
            f"--x env_steps: {offline[0]} is offline and takes no env steps; use --x update"
        )
    if x != "auto":
        return x
    if offline and len(offline) < len(configs):
        online = next(run for run in configs if run not in offline)
        raise InputError(
            f"--x auto: {offline[0]} is offline (no env steps) and {online} is online; "
            "plot them with --x update, or separately"
        )
    return "update" if offline else "env_steps"


def plot_runs(
    run_dirs: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    metric: str = "eval_return_mean",
    x: str = "auto",
    title: str | None = None,
) -> list[dict]:
    """Draw the learning curves of ``run_dirs`` into the image ``out`` (format from its suffix).

    :param metric: the ``metrics.csv`` column on the y axis.
    :param x: the column on the x axis (``env_steps``, ``update`` or ``wall_time``); ``auto``:
        ``env_steps`` for online runs, ``update`` for offline ones.
    :return: one summary per group: ``label``, ``runs``, the x column and its final value, and
        the final ``mean``/``min``/``max``.
    :raises ValueError: a folder is not a run directory, has no values of ``metric`` yet or no
        column ``x``, offline runs are to be drawn against env steps, or ``out`` cannot name an
        image (:func:`check_image_path`).
    """
    check_image_path(out)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = dict(open_run_directory(run_dir, needs_dataset=False) for run_dir in run_dirs)
    x = _x_column(x, {str(run.path): config for run, config in runs.items()})
    groups: dict[str, dict] = {}
    for run, config in runs.items():
        resolved = config.to_json_dict()
        group = groups.setdefault(
            _group_key(resolved),
            {"label": _label(config), "config": resolved, "curves": [], "runs": []},
        )
        group["curves"].append(_curve(run.metrics_path, metric, x))
        group["runs"].append(str(run.path))
    _name_groups_that_share_a_label(list(groups.values()))

    figure, axes = plt.subplots(figsize=(7, 4.5), layout="constrained")
    summaries = []
    for index, group in enumerate(groups.values()):
        label = group["label"]
        summary = _draw_group(axes, group["curves"], label, _style(index))
        finals = [
            {"run": run, x: float(xs[-1]), metric: float(ys[-1])}
            for run, (xs, ys) in zip(group["runs"], group["curves"], strict=True)
        ]
        summaries.append(
            {
                "label": label,
                "runs": group["runs"],
                "x": x,
                x: summary["x"],
                "mean": summary["mean"],
                "min": summary["min"],
                "max": summary["max"],
                "finals": finals,
            }
        )
    axes.set_xlabel(x.replace("_", " "))
    if x in _COUNT_COLUMNS:
        _label_counts(axes.xaxis)
    axes.set_ylabel(metric.replace("_", " "))
    several = any(len(group["runs"]) > 1 for group in groups.values())
    axes.set_title(title or ("mean over runs; band: min to max" if several else ""))
    axes.grid(alpha=0.3)
    _legend_below(figure, axes)
    save_figure(figure, out)
    return summaries


def check_image_path(out: str | os.PathLike[str]) -> str:
    """Check that ``out`` can name an image, before any work goes into drawing it.

    :return: the image format, ``out``'s suffix without the dot (``png``, ``pdf``, ``svg``, ...).
    :raises ValueError: ``out`` is a directory, has no suffix, names a format matplotlib
        does not write, or lies in a folder that cannot be written
        (:func:`~jaxl.output_paths.check_output_parent`).
    """
    from matplotlib.backend_bases import FigureCanvasBase

    out = Path(out)
    if out.is_dir():
        raise InputError(f"--out: {out} is a directory; name the image, e.g. {out / 'curve.png'}")
    check_output_parent(out, "--out")
    image_format = out.suffix.lstrip(".").lower()
    if not image_format:
        raise InputError(f"--out: {out} has no image suffix; use e.g. {out}.png")
    formats = FigureCanvasBase.get_supported_filetypes()
    if image_format not in formats:
        raise InputError(
            f"--out: {out}: matplotlib cannot write .{image_format} images; "
            f"use one of {', '.join('.' + name for name in sorted(formats))}"
        )
    return image_format


def save_figure(figure, out: str | os.PathLike[str], dpi: int = 120) -> None:
    """Write a matplotlib figure atomically (temp file + rename) and close it.

    The image format is ``out``'s suffix (``.png``, ``.pdf``, ``.svg``, ...).

    :raises ValueError: as :func:`check_image_path`.
    """
    import matplotlib.pyplot as plt

    out = Path(out)
    tmp = out.with_name(f".{out.stem}.tmp-{os.getpid()}{out.suffix}")
    try:
        image_format = check_image_path(out)
        with reporting_write_errors(out):
            out.parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(tmp, dpi=dpi, format=image_format)
            os.replace(tmp, out)
    finally:
        plt.close(figure)
        if tmp.exists():
            tmp.unlink()


def _label(config) -> str:
    learner = config.learner_config
    env = learner.env_config.env_id if learner.env_config is not None else "dataset env"
    return f"{learner.learner} {env} ({config.logging_config.experiment_name})"


def _name_groups_that_share_a_label(groups: list[dict]) -> None:
    """Add to the label of each group that shares it with others the config values that set it
    apart (a sweep's learning rates, say), so that every legend entry says what it shows."""
    by_label: dict[str, list[dict]] = {}
    for group in groups:
        by_label.setdefault(group["label"], []).append(group)
    for label, sharing in by_label.items():
        if len(sharing) == 1:
            continue
        differences = _differences([g["config"] for g in sharing])
        counts = Counter(differences)
        for index, (group, difference) in enumerate(zip(sharing, differences, strict=True)):
            # Groups that differ only beyond the values shown still get labels of their own.
            alike = counts[difference] > 1
            group["label"] = f"{label}: {difference}" + (f" #{index}" if alike else "")


def _align(curves: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Put a group's runs on common x values: every x at which a run has a value, within the
    range that all the runs cover, each run interpolated linearly between its own values and
    never beyond them. Empty when the runs' ranges do not overlap.

    :return: ``(grid, values)``, ``values`` of shape ``[runs, len(grid)]``.
    """
    start = max(xs[0] for xs, _ in curves)
    end = min(xs[-1] for xs, _ in curves)
    grid = np.unique(np.concatenate([xs for xs, _ in curves]))
    grid = grid[(grid >= start) & (grid <= end)]
    return grid, np.stack([np.interp(grid, xs, ys) for xs, ys in curves])


def _style(index: int) -> dict:
    """The colour and line style of the ``index``-th group: matplotlib's ten colours, then the
    same colours dashed, dash-dotted and dotted."""
    return {"color": f"C{index % 10}", "linestyle": _LINE_STYLES[index // 10 % len(_LINE_STYLES)]}


def _legend_below(figure, axes) -> None:
    """The legend under the axes, where it covers no curve, its labels wrapped to the figure's
    width; the figure grows by the legend's height, so that the axes keep theirs."""
    import textwrap

    handles, labels = axes.get_legend_handles_labels()
    if not handles:
        return
    wrapped = [textwrap.fill(label, _LEGEND_LINE, subsequent_indent="  ") for label in labels]
    lines = sum(label.count("\n") + 1 for label in wrapped)
    width, height = figure.get_size_inches()
    figure.set_size_inches(width, height + 0.2 * lines + 0.2)
    figure.legend(handles, wrapped, loc="outside lower left", fontsize="small", frameon=False)


def _draw_group(axes, curves: list[tuple[np.ndarray, np.ndarray]], label: str, style: dict) -> dict:
    """Draw one group: the mean over its runs with a band from the lowest to the highest run
    where every run has values, and each run on its own, thin, where the others have none (runs
    of different lengths, or evaluated at other steps). A group of one run is its own curve.

    :return: ``x``, ``mean``, ``min`` and ``max`` at the last x where every run has a value
        (``nan`` when the runs share no x range).
    """
    n = len(curves)
    grid, values = _align(curves)
    name = f"{label} ({n}\N{NO-BREAK SPACE}run{'s' if n > 1 else ''})"  # wrapped as one word
    if len(grid):
        mean = values.mean(axis=0)
        axes.plot(grid, mean, label=name, **style, **_markers(len(grid)))
        color = style["color"]
        if n > 1 and len(grid) > 1:
            axes.fill_between(grid, values.min(axis=0), values.max(axis=0), color=color, alpha=0.2)
        elif n > 1:
            below, above = mean - values.min(axis=0), values.max(axis=0) - mean
            axes.errorbar(grid, mean, yerr=[below, above], color=color, capsize=4, fmt="none")
    alone = f"{name}, no common x range" if not len(grid) else f"{label}: single runs"
    for xs, ys in curves:
        for part in _outside(xs, ys, grid):
            thin = {"marker": "o"} if len(part[0]) == 1 else {}
            axes.plot(*part, **style, linewidth=0.8, alpha=0.6, label=alone, **thin)
            alone = None  # one legend entry
    if not len(grid):
        return {"x": math.nan, "mean": math.nan, "min": math.nan, "max": math.nan}
    return {
        "x": float(grid[-1]),
        "mean": float(mean[-1]),
        "min": float(values[:, -1].min()),
        "max": float(values[:, -1].max()),
    }


def _label_counts(axis) -> None:
    """Ticks of a count axis at whole numbers, labelled ``20k``, ``1M`` from a thousand up (a
    million env steps read ``1e6`` in an offset)."""
    from matplotlib.ticker import EngFormatter, FuncFormatter, MaxNLocator

    engineering = EngFormatter(sep="")

    def label(value: float, _) -> str:
        if abs(value) >= 1000:
            return engineering(value)
        return f"{value:g}".replace("-", "\N{MINUS SIGN}")  # the minus sign matplotlib uses

    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(label))


def _markers(points: int) -> dict:
    """Line options for a mean curve of ``points`` points: a mark at each x where there are few
    (at most :data:`_MARKED_POINTS`), so that a reader sees where the values are, and a single
    point drawn larger, as it has no line to show it."""
    if points == 1:
        return {"marker": "o"}
    return {"marker": "o", "markersize": 3} if points <= _MARKED_POINTS else {}


def _outside(
    xs: np.ndarray, ys: np.ndarray, grid: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The parts of one run before and after ``grid``'s range (each joined to the run's value at
    the range's edge), or the whole run when ``grid`` is empty."""
    if not len(grid):
        return [(xs, ys)]
    parts = []
    before, after = xs < grid[0], xs > grid[-1]
    if before.any():
        parts.append(np.concatenate([xs[before], grid[:1]]))
    if after.any():
        parts.append(np.concatenate([grid[-1:], xs[after]]))
    return [(part, np.interp(part, xs, ys)) for part in parts]
