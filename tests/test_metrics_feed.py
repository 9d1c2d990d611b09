"""The live view's metrics (studio.metrics_feed): an incrementally read metrics.jsonl kept as the
same DataFrame a full read builds, through appends, torn lines, a resume and new columns."""
import json

import pandas as pd

from gan_core.runs import read_jsonl, truncate_jsonl
from studio import charts, training
from studio.metrics_feed import RECENT, MetricsFeed


def row(step: int, **extra) -> dict:
    return {"step": step, "epoch": 1 + step // 100, "time": 1000.0 + step, "loss_G": 1.0 + 1 / step,
            "loss_D": 0.5, "lr_g": 2e-4, "images_per_s": 3.0, **extra}


def write(path, rows, tail: str = "") -> None:
    with open(path, "a") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows) + tail)


def assert_full(feed: MetricsFeed) -> pd.DataFrame:
    frame, recent = feed.update()
    rows = read_jsonl(feed.path)
    pd.testing.assert_frame_equal(frame, charts.metrics_frame(rows))
    assert recent == rows[-RECENT:]
    return frame


def test_the_frame_is_appended_to_and_equals_a_full_read(tmp_path):
    path = tmp_path / "metrics.jsonl"
    feed = MetricsFeed(path)
    frame, recent = feed.update()
    assert frame.empty and recent == []
    write(path, [row(s) for s in range(1, 601)])
    first = assert_full(feed)
    write(path, [row(s) for s in range(601, 611)], tail=json.dumps(row(611))[:20])  # a torn last line
    assert len(assert_full(feed)) == 610 and len(first) == 600  # the old frame is left as it was
    write(path, [], tail=json.dumps(row(611))[20:] + "\n")
    write(path, [row(s, d_x=0.7) for s in range(612, 615)])  # a column appears
    frame = assert_full(feed)
    assert frame["d_x"].isna().sum() == 611 and frame.index[-1] == 614
    assert feed.update()[0] is frame  # nothing new: the same frame


def test_a_resume_truncating_the_file_starts_the_frame_over(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write(path, [row(s) for s in range(1, 51)])
    feed = MetricsFeed(path)
    assert_full(feed)
    truncate_jsonl(path, 30)  # what a resume from the step-30 checkpoint does (an atomic replace)
    write(path, [row(s) for s in range(31, 36)])
    frame = assert_full(feed)
    assert list(frame["step"]) == list(range(1, 36))


def test_damaged_lines_are_skipped_and_counted(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write(path, [row(1)], tail="{oops\n")
    write(path, [row(2)])
    feed = MetricsFeed(path)
    assert list(assert_full(feed)["step"]) == [1, 2] and feed.skipped == 1


def test_progress_from_the_recent_rows_is_progress_from_all(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write(path, [row(s) for s in range(1, 2001)])
    status = {"total_steps": 5000, "started": 1000.0 + 1500}  # resumed at step 1500
    recent = MetricsFeed(path).update()[1]
    assert len(recent) == RECENT
    assert training.progress(recent, status) == training.progress(read_jsonl(path), status)


def test_one_feed_per_run_path_is_shared(tmp_path):
    from studio import live

    live.feed.clear()
    a, b = (str(tmp_path / run / "metrics.jsonl") for run in "ab")
    assert live.feed(a) is live.feed(a) and live.feed(b) is not live.feed(a)
    live.feed.clear()
