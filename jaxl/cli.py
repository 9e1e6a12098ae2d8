"""The ``jaxl`` command line: train, resume, eval, gather, plot, envs and a built-in demo.

JAX is imported only after ``--device`` has been applied.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from jaxl import __version__
from jaxl.errors import InputError

if TYPE_CHECKING:  # imported for annotations only: the commands import them when they run
    from jaxl.learners import Learner
    from jaxl.training.session import TrainResult


def _checkpoint(text: str) -> int | str:
    if text == "latest":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'latest' or a step number, got {text!r}"
        ) from None


def seed_argument(text: str) -> int:
    """An argparse ``type`` for seeds: an integer from 0 to :data:`jaxl.seeds.MAX_SEED`."""
    from jaxl.seeds import check_seed

    try:
        return check_seed(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to 2**63 - 1, got {text!r}"
        ) from None


def _pixels(text: str) -> int:
    """An argparse ``type`` for frame sizes (:func:`jaxl.envs.catalog.check_frame_size`)."""
    from jaxl.envs.catalog import MAX_PIXELS, check_frame_size

    try:
        return check_frame_size(int(text), "size")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of pixels from 1 to {MAX_PIXELS}, got {text!r}"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxl", description="JAX reinforcement and imitation learning."
    )
    parser.add_argument("--version", action="version", version=f"jaxl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    device_help = "cpu, gpu or gpu:IDS (default: cpu)"

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--device", default="cpu", help=device_help)
        return sub

    train = add("train", "Train from a JSON config; prints the run directory.")
    train.add_argument("config", help="path of the JSON config")
    train.add_argument(
        "--seed",
        type=seed_argument,
        default=None,
        help="run seed (default: the config's seed key, else 0)",
    )
    train.add_argument("--out", help="root folder for runs (overrides logging_config.save_path)")
    train.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. learner_config.gamma=0.98 (value parsed as JSON)",
    )

    resume = add("resume", "Continue an interrupted run to its configured budget.")
    resume.add_argument("run_dir")

    evaluate = add("eval", "Evaluate a run's checkpoint.")
    evaluate.add_argument("run_dir")
    evaluate.add_argument(
        "--episodes", type=int, default=None, help="default: the config's eval_episodes"
    )
    evaluate.add_argument("--checkpoint", type=_checkpoint, default="latest", help="latest or STEP")
    evaluate.add_argument(
        "--deterministic",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="act with the policy's mode (default: the config's deterministic_eval)",
    )
    evaluate.add_argument("--seed", type=seed_argument, default=None, help="evaluation seed")
    evaluate.add_argument(
        "--task-seed",
        type=seed_argument,
        nargs="+",
        default=None,
        metavar="K",
        help="evaluate on these variants of a parameterized env (default: the run's own)",
    )
    evaluate.add_argument(
        "--json", action="store_true", help="print one JSON object (one line per variant)"
    )

    gather = add("gather", "Roll out a run's policy and write a transition dataset.")
    gather.add_argument("run_dir")
    gather.add_argument("--episodes", type=int, required=True)
    gather.add_argument("--out", required=True, help="dataset file (.npz)")
    gather.add_argument("--deterministic", action="store_true", help="act with the policy's mode")
    gather.add_argument(
        "--env-seed", type=seed_argument, default=0, help="seed of the episodes' resets"
    )
    gather.add_argument("--checkpoint", type=_checkpoint, default="latest")
    gather.add_argument(
        "--task-seed",
        type=seed_argument,
        default=None,
        help="gather on this variant of a parameterized env",
    )

    demo = add(
        "demo", "PPO on CartPole, gather expert data, behaviour-clone it; print both returns."
    )
    demo.add_argument(
        "--out", default="runs/demo", help="where the demo writes (default: runs/demo)"
    )
    demo.add_argument(
        "--seed", type=seed_argument, default=0, help="seed of both runs (default: 0)"
    )
    plot = add("plot", "Plot learning curves of run directories into an image.")
    plot.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directories")
    plot.add_argument("--out", default="curve.png", help="image path (default: curve.png)")
    plot.add_argument(
        "--metric", default="eval_return_mean", help="metrics.csv column (default: eval return)"
    )
    plot.add_argument(
        "--x",
        default="auto",
        help="x-axis metrics.csv column, e.g. env_steps, update or wall_time (default: auto, "
        "env_steps for online runs and update for offline ones)",
    )
    plot.add_argument("--title", default=None, help="figure title")

    envs = add("envs", "The parameterized environments: list, show parameters, render variants.")
    envs_commands = envs.add_subparsers(dest="envs_command", required=True)
    envs_commands.add_parser("list", help="every parameterized env and its parameter names")
    show = envs_commands.add_parser("show", help="one env's parameters and a variant's values")
    show.add_argument("env_id", help="e.g. jaxl/Hopper-v5")
    show.add_argument(
        "--task-seed", type=seed_argument, default=None, help="draw this variant's values"
    )
    render = envs_commands.add_parser("render", help="one offscreen frame per variant, in a grid")
    render.add_argument("env_id")
    render.add_argument("--task-seeds", type=seed_argument, nargs="+", default=[0, 1, 2, 3])
    render.add_argument("--out", default="variants.png", help="image path (default: variants.png)")
    render.add_argument("--width", type=_pixels, default=320, help="frame width (default: 320)")
    render.add_argument("--height", type=_pixels, default=240, help="frame height (default: 240)")
    for envs_command in envs_commands.choices.values():
        # Also after the subcommand (jaxl envs list --device cpu); 'jaxl envs' sets the default.
        envs_command.add_argument("--device", default=argparse.SUPPRESS, help=device_help)
    return parser


def _envs(args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    from jaxl.envs import catalog

    console = Console() if sys.stdout.isatty() else Console(width=160)
    if args.envs_command == "list":
        table = Table("env id", "kind", "base", "parameters")
        for row in catalog.list_envs():
            table.add_row(row["env_id"], row["kind"], row["base"], ", ".join(row["parameters"]))
        console.print(table)
    elif args.envs_command == "show":
        rows = catalog.show_env(args.env_id, args.task_seed)
        columns = ["parameter", "edits", "default", "range", "law"]
        if args.task_seed is not None:  # without one, the values are the defaults
            columns.append(f"task seed {args.task_seed}")
        table = Table(*columns)
        table.title = args.env_id
        for row in rows:
            cells = [
                row["name"],
                row["target"],
                _number(row["default"]),
                f"[{_number(row['low'])}, {_number(row['high'])}]",
                row["law"],
                _number(row["value"]) + ("" if row["read_back"] else " (drawn)"),
            ]
            table.add_row(*cells[: len(columns)])
        console.print(table)
    else:
        variants = catalog.render_variants(
            args.env_id, args.task_seeds, args.out, args.width, args.height
        )
        for variant in variants:
            values = ", ".join(f"{p['name']}={_number(p['value'])}" for p in variant["parameters"])
            print(f"task seed {variant['task_seed']}: {values}")
        print(args.out, flush=True)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _say_final_evaluation(result: TrainResult) -> None:
    """One line on stderr with a finished run's final evaluation (stdout keeps the run
    directory only)."""
    final = result.evaluation
    if not final:
        return
    episodes = final["episodes"]
    print(
        f"jaxl: final evaluation at update {final['checkpoint_step']} "
        f"({final['env_steps']:,} env steps): mean return {final['mean_return']:.2f} "
        f"(std {final['std_return']:.2f}) over {episodes} episode{'' if episodes == 1 else 's'}"
        f"; {result.run.evaluation_path}",
        file=sys.stderr,
        flush=True,
    )


def _run(args: argparse.Namespace) -> int:
    from jaxl.training import session

    if args.command == "train":
        result = session.start_training(
            args.config,
            args.seed,
            args.out,
            args.overrides,
            on_created=lambda run: print(run.path, flush=True),
        )
        _say_final_evaluation(result)
    elif args.command == "resume":

        def say_where(learner: Learner) -> None:
            print(
                f"jaxl: resuming {args.run_dir} from update {learner.update_count} of "
                f"{learner.total_updates} ({learner.env_steps:,} env steps)",
                file=sys.stderr,
                flush=True,
            )

        result = session.resume_training(args.run_dir, on_restored=say_where)
        if result.already_finished:
            where = (
                "evaluation.json was missing or unreadable; wrote it from the final checkpoint"
                if result.evaluation
                else "its final evaluation is in evaluation.json"
            )
            print(
                f"jaxl: {result.run.path} already reached its budget; nothing to resume ({where})",
                file=sys.stderr,
            )
        else:
            _say_final_evaluation(result)
        print(result.run.path, flush=True)
    elif args.command == "eval":
        if args.episodes is not None and args.episodes <= 0:
            raise InputError(f"--episodes: expected a positive integer, got {args.episodes}")
        results = session.evaluate_variants(
            args.run_dir,
            args.episodes,
            list(dict.fromkeys(args.task_seed or [None])),  # each variant once
            args.checkpoint,
            args.deterministic,
            args.seed,
        )
        for result in results:
            print(json.dumps(result) if args.json else _evaluation_line(result))
        if len(results) > 1 and not args.json:
            print(_variants_summary(results))
    elif args.command == "gather":
        if args.episodes <= 0:
            raise InputError(f"--episodes: expected a positive integer, got {args.episodes}")
        summary = session.gather_dataset(
            args.run_dir,
            args.episodes,
            args.out,
            args.deterministic,
            args.env_seed,
            args.checkpoint,
            args.task_seed,
        )
        episodes = summary["episodes"]
        print(
            f"wrote {summary['transitions']} transitions from {episodes} "
            f"episode{'' if episodes == 1 else 's'} "
            f"(mean return {summary['mean_return']:.2f}) to {summary['path']}"
        )
    elif args.command == "envs":
        _envs(args)
    elif args.command == "plot":
        from jaxl.plotting import plot_runs

        for group in plot_runs(args.run_dirs, args.out, args.metric, args.x, args.title):
            print(_plot_summary(group, args.metric))
        print(args.out, flush=True)
    else:
        from jaxl.demo import run_demo

        run_demo(args.out, args.seed)
    return 0


def _plot_summary(group: dict, metric: str) -> str:
    """One line for a group of ``jaxl plot``: its final values, and each run's own last value
    where the runs do not all end at the same x."""
    x = group["x"]
    runs = f"{group['label']}: {len(group['runs'])} run(s)"
    common = (
        f"mean {group['mean']:.2f} (min {group['min']:.2f}, max {group['max']:.2f})"
        if not math.isnan(group[x])
        else "no x range that every run covers"
    )
    ends = {final[x] for final in group["finals"]}
    if ends == {group[x]}:
        return f"{runs}, final {metric} {common}"
    own = ", ".join(f"{final[metric]:.2f} at {final[x]:g}" for final in group["finals"])
    where = "" if math.isnan(group[x]) else f" at {x} {group[x]:g}, the last all runs reach"
    return f"{runs}, {metric} {common}{where}; each run's last: {own}"


def _out_of_memory(error: BaseException) -> str | None:
    """The first line of ``error`` when it reports memory running out (NumPy's ``MemoryError``,
    XLA's ``RESOURCE_EXHAUSTED``), else ``None``."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    if isinstance(error, MemoryError):
        return first
    if type(error).__name__ == "JaxRuntimeError" and "RESOURCE_EXHAUSTED" in text:
        return first
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jaxl`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "envs" and args.envs_command == "render":
        from jaxl.offscreen_gl import configure_offscreen_gl, configure_offscreen_sdl

        # Rendering is this process's only job, so EGL may be chosen (before MuJoCo is imported).
        configure_offscreen_gl(allow_egl=True)
        configure_offscreen_sdl()
    from jaxl.compilation_cache import enable_compilation_cache
    from jaxl.device import check_device, configure_device
    from jaxl.training.interrupts import interrupt_after

    try:
        with interrupt_after():  # a Ctrl-C during the heavy imports stops the command after them
            configure_device(args.device)
            check_device(args.device)
            enable_compilation_cache()
            from jaxl.training import session  # noqa: F401 - JAX, Flax, orbax, Gymnasium
        return _run(args)
    except InputError as error:  # bad input: one line; any other exception is a defect
        print(f"jaxl: error: {error}", file=sys.stderr)
        _print_notes(error)
        return 2
    except Exception as error:  # running out of memory is no defect either
        reason = _out_of_memory(error)
        if reason is None:
            raise
        print(
            f"jaxl: error: out of memory ({reason}); a size in the config (batch_size, "
            "buffer_size, num_envs, num_steps, network layers) is too large for this machine",
            file=sys.stderr,
        )
        _print_notes(error)
        return 2
    except KeyboardInterrupt as interrupt:
        from jaxl.training.interrupts import TrainingInterrupted

        stopped = isinstance(interrupt, TrainingInterrupted)
        print(f"jaxl: {interrupt if stopped else 'interrupted'}", file=sys.stderr)
        return 128 + (interrupt.signal_number if stopped else 2)  # 130 for SIGINT, 143 SIGTERM


def _evaluation_line(result: dict) -> str:
    """One line of ``jaxl eval``: the env (and variant), checkpoint, episodes and returns."""
    variant = "" if result["task_seed"] is None else f" task seed {result['task_seed']}"
    episodes = result["episodes"]
    return (
        f"{result['env_id']}{variant} checkpoint {result['checkpoint_step']} "
        f"({episodes} episode{'' if episodes == 1 else 's'}, "
        f"{'deterministic' if result['deterministic'] else 'stochastic'}): "
        f"mean {result['mean_return']:.2f} std {result['std_return']:.2f} "
        f"min {result['min_return']:.2f} max {result['max_return']:.2f}"
    )


def _variants_summary(results: list[dict]) -> str:
    """The last line of ``jaxl eval --task-seed K1 K2 ...``: the mean over the variants of their
    mean returns, and the variants with the lowest and highest."""
    means = [r["mean_return"] for r in results]
    worst, best = (results[i] for i in (means.index(min(means)), means.index(max(means))))
    return (
        f"{len(results)} variants: mean of their means {sum(means) / len(means):.2f} "
        f"(lowest {worst['mean_return']:.2f} on task seed {worst['task_seed']}, "
        f"highest {best['mean_return']:.2f} on task seed {best['task_seed']})"
    )


def _print_notes(error: BaseException) -> None:
    """JAXL's notes added to an error on its way up (a removed run directory), one line each;
    not those of other libraries (JAX's on the frames it hid from the traceback)."""
    for note in getattr(error, "__notes__", ()):
        if note.startswith("jaxl: "):
            print(note, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
