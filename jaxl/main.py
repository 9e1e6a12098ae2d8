"""The original entry point, kept working.

``python jaxl/main.py --config_path=CONFIG --run_seed=N --device=D`` is equivalent to
``jaxl train CONFIG --seed N --device D``."""

import os
import sys

if __package__ in (None, ""):
    # Run as a script: drop this folder from the path so that modules inside the package never
    # shadow top-level ones, then import the installed (or checked-out) package.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, os.path.dirname(here))

import argparse  # noqa: E402

from jaxl.cli import main as cli_main  # noqa: E402
from jaxl.cli import seed_argument  # noqa: E402


def main(argv=None) -> int:
    """Parse the original flags and run ``jaxl train``."""
    parser = argparse.ArgumentParser(description="Run one JAXL experiment (original interface).")
    parser.add_argument("--config_path", required=True, help="the JSON experiment config")
    parser.add_argument(
        "--run_seed", type=seed_argument, default=None, help="run seed (default: as jaxl train)"
    )
    parser.add_argument(
        "--device", default="cpu", help="cpu, gpu or gpu:<device_ids>, e.g. gpu:0,1"
    )
    args = parser.parse_args(argv)
    seed = [] if args.run_seed is None else ["--seed", str(args.run_seed)]
    return cli_main(["train", args.config_path, *seed, "--device", args.device])


if __name__ == "__main__":
    sys.exit(main())
