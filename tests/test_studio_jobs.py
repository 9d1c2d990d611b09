"""The studio's job registry and the run-directory helpers its live view relies on."""
import json
import os
import threading
import time

import pytest

from gan_core.events import CancelledError, Event, emit
from gan_core.runs import HEARTBEAT_STALE_S, claim_run, create_run
from studio import training
from studio.jobs import JobBusyError, JobRegistry, run_state


def wait_until_done(job, timeout=10):
    job.thread.join(timeout)
    assert not job.thread.is_alive()


def test_job_reports_progress_and_result():
    def target(callbacks, control):
        for done in range(1, 4):
            emit(callbacks, "progress", task="decode", done=done, total=3)
        return "ok"

    job = JobRegistry().start("cache", "Decoding", target, exclusive=False)
    wait_until_done(job)
    assert (job.state, job.result, job.error) == ("finished", "ok", None)
    assert job.last_progress["done"] == 3 and job.last_progress["total"] == 3
    assert [e.kind for e in job.events] == ["progress"] * 3
    assert job.ended >= job.started


def test_second_exclusive_job_is_refused_while_one_runs():
    registry, release = JobRegistry(), threading.Event()
    first = registry.start("train", "Training a", lambda callbacks, control: release.wait(10), device="cpu")
    with pytest.raises(JobBusyError, match="Training a is already running on cpu: stop it or wait"):
        registry.start("train", "Training b", lambda callbacks, control: None)
    side = registry.start("inspect", "Inspecting", lambda callbacks, control: None, exclusive=False)
    assert registry.active("train") == [first]
    release.set()
    wait_until_done(first)
    wait_until_done(side)
    assert registry.active() == []
    registry.start("train", "Training b", lambda callbacks, control: None, device="cpu")


def test_failure_keeps_one_line_and_no_traceback():
    def target(callbacks, control):
        raise ValueError("batch_size=64 is larger than the 10 training images")

    job = JobRegistry().start("train", "Training x", target, device="cpu")
    wait_until_done(job)
    assert job.state == "failed"
    assert job.error == "ValueError: batch_size=64 is larger than the 10 training images"
    assert "Traceback" not in job.error


def test_stop_cancel_and_end_events_set_the_state():
    registry = JobRegistry()

    def cancellable(callbacks, control):
        while not control.should_stop():
            time.sleep(0.01)
        raise CancelledError("stopped")

    job = registry.start("export", "Exporting", cancellable, exclusive=False)
    job.control.stop.set()
    wait_until_done(job)
    assert job.state == "cancelled"

    def trainer_like(callbacks, control):
        emit(callbacks, "start", run="/tmp/some-run", total_steps=10, resumed_from=0)
        emit(callbacks, "end", state="failed", message="loss_g became nan at step 3")

    job = registry.start("train", "Training y", trainer_like, device="cpu")
    wait_until_done(job)
    assert (job.state, job.error, job.run_path) == ("failed", "loss_g became nan at step 3", "/tmp/some-run")
    assert registry.for_run("/tmp/some-run") is job and registry.for_run("/tmp/some-run", "export") is None
    assert registry.get(job.id) is job and registry.get("nope") is None


def test_step_events_give_rate_and_eta():
    registry = JobRegistry()
    job = registry.start("train", "t", lambda callbacks, control: None, device="cpu")
    wait_until_done(job)
    for step, t in ((1, 100.0), (3, 101.0), (5, 102.0)):
        job.callback(Event("step", {"step": step, "total_steps": 11, "metrics": {}}, time=t))
    assert job.last_progress["rate"] == pytest.approx(2.0)
    assert job.last_progress["eta_s"] == pytest.approx(3.0)


def test_registry_is_one_per_server():
    from studio.jobs import registry

    assert registry() is registry()


def test_progress_from_metrics_rows():
    rows = [{"step": s, "time": 1000.0 + s / 2, "images_per_s": 16.0} for s in range(1, 11)]
    p = training.progress(rows, {"total_steps": 30})
    assert (p["done"], p["total"]) == (10, 30)
    assert p["steps_per_s"] == pytest.approx(2.0)
    assert p["eta_s"] == pytest.approx(10.0)
    assert p["images_per_s"] == 16.0
    assert training.progress([], {})["done"] == 0
    resumed = training.progress(rows + [{"step": 11, "time": 5000.0}, {"step": 13, "time": 5001.0}],
                                {"total_steps": 30, "started": 4999.0})
    assert resumed["steps_per_s"] == pytest.approx(2.0)  # the hour before the resume does not count


def test_a_killed_run_reads_as_interrupted_at_once(tmp_path):
    run = create_run(tmp_path, "killed")
    (run.path / "config.json").write_text(json.dumps({"model": "dcgan"}))
    with claim_run(run.path):  # a live trainer holds the run's lock
        run.set_status("running", "")
        assert run_state(run, None) == "elsewhere"
        assert run.live_state() == "running"
    # Its process gone (the lock released), the run reads interrupted at once, not minutes later.
    assert run.live_state() == "interrupted" and run_state(run, None) == "interrupted"
    assert run.summary()["state"] == "interrupted"
    status = run.status()
    assert status["pid"] == os.getpid() and status["host"] and status["heartbeat"] > 0
    # On another host the heartbeat decides.
    remote = {**status, "host": "another-node"}
    assert run.live_state(remote) == "running"
    assert run.live_state({**remote, "heartbeat": time.time() - HEARTBEAT_STALE_S - 5}) == "interrupted"
    run.set_status("stopped", "stopped at step 3")
    assert run_state(run, None) == "stopped"
