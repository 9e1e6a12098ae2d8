"""metrics.csv keeps every metric, including those that first appear after the first row."""

import io
import os
import time
from pathlib import Path

import pytest

from jaxl.errors import InputError
from jaxl.training.metrics import MetricsLog, read_metrics


def _row(update: int, **metrics: float) -> dict:
    base = {"update": update, "env_steps": 10 * update, "wall_time": 1.0}
    return {**base, "steps_per_second": 1.0, "updates_per_second": 1.0, **metrics}


def test_late_metrics_get_columns_and_resume_truncates(tmp_path):
    path = tmp_path / "metrics.csv"
    log = MetricsLog(path, None)
    log.write(_row(1, buffer_size=10.0))  # SAC before learning starts: no losses yet
    log.write(_row(2, buffer_size=20.0, q_loss=3.0, eval_return_mean=-5.0))
    log.write(_row(3, buffer_size=30.0, q_loss=2.0))
    rows = read_metrics(path)
    assert [r["q_loss"] for r in rows] == ["", "3.0", "2.0"]
    assert rows[1]["eval_return_mean"] == "-5.0" and rows[0]["buffer_size"] == "10.0"

    resumed = MetricsLog(path, None)
    resumed.truncate_after(2)
    resumed.write(_row(3, buffer_size=31.0, q_loss=1.0, alpha=0.5))
    rows = read_metrics(path)
    assert [r["update"] for r in rows] == ["1", "2", "3"]
    assert rows[2]["alpha"] == "0.5" and rows[1]["alpha"] == "" and rows[2]["buffer_size"] == "31.0"


def test_resume_skips_blank_lines_and_names_a_damaged_metrics_file(tmp_path):
    # A blank line (an editor's trailing newline) made resume crash with an IndexError.
    path = tmp_path / "metrics.csv"
    log = MetricsLog(path, None)
    for update in (1, 2, 3):
        log.write(_row(update, loss=float(update)))
    path.write_text(path.read_text() + "\n\n")
    MetricsLog(path, None).truncate_after(2)
    assert [r["update"] for r in read_metrics(path)] == ["1", "2"]

    path.write_text(path.read_text() + "garbage,1,2\n")
    before = path.read_text()
    with pytest.raises(
        InputError, match=r"metrics.csv: a row starts with 'garbage', not an update"
    ):
        MetricsLog(path, None).truncate_after(2)
    assert path.read_text() == before


def test_a_metrics_file_that_is_not_text_is_named(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_bytes(b"update,env_steps\n\xff\xfe\x00\n")
    for read in (lambda: MetricsLog(path, None), lambda: read_metrics(path)):
        with pytest.raises(InputError, match="metrics.csv is not a readable CSV file"):
            read()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_metrics_write_that_fails_names_the_file():
    # A full disk mid-training gave a bare OSError traceback naming no file.
    with pytest.raises(InputError, match="cannot write /dev/full: No space left on device"):
        MetricsLog(Path("/dev/full"), None).write(_row(1))


def _tensorboard_events(directory, tag: str) -> list[tuple[int, float, float]]:
    """Every ``(step, value, wall time)`` of ``tag`` in every event file of ``directory``, raw
    (as TensorBoard would draw them, duplicates included)."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    points = []
    for path in sorted(p for p in directory.glob("events.out.tfevents.*") if p.is_file()):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.tag == tag:
                    number = float(tensor_util.make_ndarray(value.tensor))
                    points.append((event.step, number, event.wall_time))
    return sorted(points)


def _tensorboard_scalars(directory, tag: str) -> list[tuple[int, float]]:
    """Every ``(step, value)`` of ``tag`` in ``directory``'s event files."""
    return [(step, value) for step, value, _ in _tensorboard_events(directory, tag)]


def test_resume_rebuilds_tensorboard_without_the_dropped_rows(tmp_path):
    tensorboard = tmp_path / "tensorboard"
    log = MetricsLog(tmp_path / "metrics.csv", tensorboard)
    for update, q_loss in ((1, 4.0), (2, 3.0), (3, 2.0)):
        log.write(_row(update, q_loss=q_loss))
    log.close()
    assert _tensorboard_scalars(tensorboard, "train/q_loss") == [(10, 4.0), (20, 3.0), (30, 2.0)]

    resumed = MetricsLog(tmp_path / "metrics.csv", tensorboard)
    resumed.truncate_after(2)
    resumed.write(_row(3, q_loss=1.0))
    resumed.close()
    # Before, the first process's event file kept (30, 2.0) beside the resumed run's (30, 1.0).
    assert _tensorboard_scalars(tensorboard, "train/q_loss") == [(10, 4.0), (20, 3.0), (30, 1.0)]
    assert _tensorboard_scalars(tensorboard, "time/wall_time") == [(10, 1.0), (20, 1.0), (30, 1.0)]


def test_rebuilt_tensorboard_rows_keep_the_time_they_were_logged(tmp_path):
    """Rebuilt rows were stamped with the time of the resume, so TensorBoard's wall-time axis
    drew every row before it at that moment."""
    tensorboard = tmp_path / "tensorboard"
    log = MetricsLog(tmp_path / "metrics.csv", tensorboard)
    for update in (1, 2, 3):
        log.write(_row(update, q_loss=1.0))
        time.sleep(0.05)
    log.close()
    logged = {step: when for step, _, when in _tensorboard_events(tensorboard, "train/q_loss")}
    time.sleep(0.2)

    resumed = MetricsLog(tmp_path / "metrics.csv", tensorboard)
    resumed.truncate_after(2)
    resumed.write(_row(3, q_loss=1.0))
    resumed.close()
    rebuilt = {step: when for step, _, when in _tensorboard_events(tensorboard, "train/q_loss")}
    # Every scalar of a row is stamped with one time, so the rebuilt row's is the same. Before,
    # each scalar read the clock, and the q_loss of a loaded machine's row was 1.4 ms later
    # than the row's first scalar, whose time the rebuilt row takes.
    assert rebuilt[10] == logged[10] and rebuilt[20] == logged[20]
    assert logged[10] < logged[20] < logged[30] < rebuilt[30]


def test_a_damaged_event_file_does_not_stop_a_resume(tmp_path):
    tensorboard = tmp_path / "tensorboard"
    log = MetricsLog(tmp_path / "metrics.csv", tensorboard)
    for update in (1, 2, 3):
        log.write(_row(update, q_loss=float(update)))
    log.close()
    (event_file,) = tensorboard.glob("events.out.tfevents.*")
    event_file.write_bytes(event_file.read_bytes()[:-7])  # a crash cut the last record short
    (tensorboard / "events.out.tfevents.0.copied").mkdir()  # not readable as a file at all

    resumed = MetricsLog(tmp_path / "metrics.csv", tensorboard)
    resumed.truncate_after(2)
    resumed.close()
    assert _tensorboard_scalars(tensorboard, "train/q_loss") == [(10, 1.0), (20, 2.0)]


def test_progress_eta_leaves_out_the_compiling_first_updates():
    """The first updates include JAX's compilation; an ETA from the start of the run spread it
    over the whole run (about 41 minutes shown for a 25 s run)."""

    from jaxl.training.progress import Progress

    out = io.StringIO()
    progress = Progress(1000, stream=out, plain_every=0.0)
    time.sleep(2.0)  # "compiling"
    progress.update(1, 10, None)
    time.sleep(0.01)
    progress.update(2, 20, None)
    for update in range(3, 6):
        time.sleep(0.01)
        progress.update(update, 10 * update, None)
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("ETA ?") and lines[1].endswith("ETA ?")
    hours, minutes, seconds = map(int, lines[-1].rsplit("ETA ", 1)[1].split(":"))
    eta = 3600 * hours + 60 * minutes + seconds
    # About 995 updates at about 0.01 s each; from the start it would have been over 6 minutes.
    assert 5 <= eta <= 120, lines[-1]
    # So are the steps/s shown: 10 env steps per 0.01 s, not 50 steps over the 2 s of the
    # compiling update included (before, the line showed the run's average it was given).
    assert "steps/s" not in lines[1], lines[1]
    steps_per_second = float(lines[-1].split(" steps/s")[0].rsplit("| ", 1)[1].replace(",", ""))
    assert 200 <= steps_per_second <= 1000, lines[-1]


def test_a_progress_bars_line_fits_the_terminal_with_its_count_and_eta():
    """On an 80-column terminal the update count was cut to "2…" and the bar to 1 character."""
    from jaxl.training.progress import _BAR_TITLE, _beside_a_bar, _fit

    parts = _beside_a_bar(
        {
            "update": "update 212/1171",
            "env steps": "env steps 54,016",
            "steps/s": "1,234 steps/s",
            "eval": "eval return 458.7",
            "ETA": "ETA 0:12:34",
        }
    )
    bar, info = _fit(parts, 200)
    assert bar == 40 and info == (
        "212/1171 | 54,016 steps | 1,234 steps/s | eval 458.7 | ETA 0:12:34"
    )
    for width in (80, 60):
        bar, info = _fit(parts, width)
        assert len(_BAR_TITLE) + bar + len(info) + 2 < width, (width, bar, info)
        assert info.startswith("212/1171 | ") and info.endswith(" | ETA 0:12:34"), info
        assert bar >= 8 and "eval 458.7" in info
    assert "54,016 steps" in _fit(parts, 80)[1] and "steps/s" not in _fit(parts, 80)[1]


def test_progress_eta_restarts_its_rate_when_a_slower_phase_begins():
    """SAC's random-action updates are fast and its learning updates slow; a rate that mixed
    them showed a few seconds left for a run of ten minutes."""
    from jaxl.training.progress import Progress

    out = io.StringIO()
    progress = Progress(40, stream=out, plain_every=0.0)
    for update in range(1, 6):  # warm-up: fast
        time.sleep(0.005)
        progress.update(update, 10 * update, None)
    progress.restart_rate()
    for update in range(6, 11):  # learning: slow
        time.sleep(0.1)
        progress.update(update, 10 * update, None)
    lines = out.getvalue().splitlines()
    assert lines[5].endswith("ETA ?") and lines[6].endswith("ETA ?"), lines
    hours, minutes, seconds = map(int, lines[-1].rsplit("ETA ", 1)[1].split(":"))
    # 30 updates left at about 0.1 s: about 3 s. Mixed with the warm-up's rate it was under 2 s.
    assert 2 <= 3600 * hours + 60 * minutes + seconds <= 6, lines[-1]


def test_training_restarts_the_eta_once_sacs_warm_up_ends(tmp_path, small_sac_config, monkeypatch):
    """The loop, not only :class:`Progress`, must restart the rate, or the ETA of a SAC run
    mixes the warm-up's fast updates with the learning ones."""
    from conftest import write_config

    from jaxl.training.progress import Progress
    from jaxl.training.session import start_training

    restarted_after: list[int] = []
    original = Progress.update

    def update(self, update, *args, **kwargs):
        self.last_update = update
        return original(self, update, *args, **kwargs)

    monkeypatch.setattr(Progress, "update", update)
    monkeypatch.setattr(
        Progress, "restart_rate", lambda self: restarted_after.append(self.last_update)
    )
    small_sac_config["train_config"].update(total_env_steps=100 * 5, eval_interval=5)
    start_training(write_config(tmp_path / "c.json", small_sac_config), seed=0)
    # learning_starts 200 at 100 env steps per update: updates 1 and 2 act at random, and the
    # third is the first with gradient steps.
    assert restarted_after == [3]


def test_a_header_that_names_a_column_twice_is_named(tmp_path):
    # jaxl plot drew one of the two columns silently.
    path = tmp_path / "metrics.csv"
    path.write_text("update,env_steps,eval_return_mean,eval_return_mean\n1,10,1.0,2.0\n")
    with pytest.raises(InputError, match="its header names eval_return_mean more than once"):
        read_metrics(path)


def test_tensorboard_groups_scalars_into_train_validation_eval_and_time(tmp_path):
    # Before, every column was a top-level tag: the returns sat between the losses and the
    # timings in one unsorted TensorBoard section.
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    tensorboard = tmp_path / "tensorboard"
    log = MetricsLog(tmp_path / "metrics.csv", tensorboard)
    log.write(
        _row(
            1,
            q_loss=2.0,
            train_return=-3.0,
            validation_bc_loss=0.5,
            eval_return_mean=-5.0,
            eval_return_std=1.0,
        )
    )
    log.close()
    (events,) = tensorboard.glob("events.out.tfevents.*")
    tags = {
        value.tag for event in EventFileLoader(str(events)).Load() for value in event.summary.value
    }
    assert tags == {
        "train/q_loss",
        "train/return",
        "validation/bc_loss",
        "eval/return_mean",
        "eval/return_std",
        "time/wall_time",
        "time/steps_per_second",
        "time/updates_per_second",
    }
    assert _tensorboard_scalars(tensorboard, "eval/return_mean") == [(10, -5.0)]
