"""Pause, continue and stop a run trained by another process (a CLI training), through the request
file in its run directory; and a request left from before never touches a later resume."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from gan_core.events import REQUEST_FILE, Control, read_request, send_request
from gan_core.runs import Run
from conftest import REPO

pytestmark = pytest.mark.subprocess


def wait_for(predicate, timeout=240.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def state(run_path):
    try:
        return json.loads((run_path / "status.json").read_text()).get("state")
    except (OSError, ValueError):
        return None


def test_requests_are_validated_and_read_back(tmp_path):
    with pytest.raises(ValueError, match="unknown request 'halt'"):
        send_request(tmp_path, "halt")
    assert read_request(tmp_path) is None
    send_request(tmp_path, "pause")
    assert read_request(tmp_path) == "pause"
    (tmp_path / REQUEST_FILE).write_text("{not json")
    assert read_request(tmp_path) is None


def test_watch_drops_a_stale_request_and_applies_new_ones(tmp_path):
    send_request(tmp_path, "stop")
    control = Control()
    control.watch(tmp_path)
    assert not control.should_stop(), "a stop left by an earlier process is not this run's"
    send_request(tmp_path, "pause")
    control.poll()
    assert control.pause.is_set()
    time.sleep(0.01)
    send_request(tmp_path, "continue")
    control.wait_while_paused()
    assert not control.pause.is_set()
    send_request(tmp_path, "stop")
    assert control.should_stop()


def start_cli_training(data, runs_dir, run_id="cli"):
    command = [sys.executable, "-m", "gan_core", "train", "--data", str(data), "--model", "dcgan",
               "--image-size", "32", "--ngf", "8", "--ndf", "8", "--batch-size", "16", "--steps", "100000",
               "--sample-every", "100000", "--checkpoint-every", "100000", "--runs-dir", str(runs_dir),
               "--run-id", run_id]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    run_path = runs_dir / run_id
    wait_for(lambda: state(run_path) == "running" and len(Run(run_path).metrics()) >= 2, what="training")
    return process, run_path


def test_a_cli_run_is_paused_continued_and_stopped_from_outside(competition_data, runs_dir):
    process, run_path = start_cli_training(competition_data, runs_dir)
    try:
        send_request(run_path, "pause")
        wait_for(lambda: state(run_path) == "paused", what="paused")
        paused_at = len(Run(run_path).metrics())
        time.sleep(1.5)
        assert len(Run(run_path).metrics()) == paused_at, "no step while paused"
        send_request(run_path, "continue")
        wait_for(lambda: len(Run(run_path).metrics()) > paused_at + 1, what="steps after continue")
        send_request(run_path, "stop")
        assert process.wait(timeout=120) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
    status = json.loads((run_path / "status.json").read_text())
    assert status["state"] == "stopped" and "resume continues" in status["message"]
    assert Run(run_path).checkpoints(), "the stop wrote a checkpoint, as Ctrl-C does"


def test_the_train_page_pauses_and_stops_a_cli_run(competition_data, runs_dir, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from studio.live import STATE_BADGES
    from studio_support import APP, assert_no_exception, reset_studio, texts

    monkeypatch.setenv("GAN_STUDIO_RUNS", str(runs_dir))
    monkeypatch.setenv("GAN_STUDIO_DATA", str(competition_data))
    reset_studio()
    process, run_path = start_cli_training(competition_data, runs_dir)
    try:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.switch_page("../pages/train.py")
        at.query_params["run"] = "cli"
        at.run()
        assert_no_exception(at)
        assert "running in another process" in texts(at)
        assert "cli · dcgan · running in another process" in at.selectbox(key="train_run").format_func("cli")
        at.button(key="remote_pause_cli").click().run()
        wait_for(lambda: state(run_path) == "paused", what="paused from the page")
        at.run()
        assert at.button(key="remote_pause_cli").label == "Continue"
        at.button(key="remote_stop_cli").click().run()
        assert process.wait(timeout=120) == 0, process.stderr.read()
        at.run()
        assert_no_exception(at)
        assert state(run_path) == "stopped"
        assert "cli " + STATE_BADGES["stopped"] in texts(at) and at.button(key="resume_cli")
    finally:
        if process.poll() is None:
            process.kill()
        reset_studio()


def test_a_killed_cli_run_reads_interrupted_at_once(competition_data, runs_dir):
    process, run_path = start_cli_training(competition_data, runs_dir, "killed")
    assert Run(run_path).live_state() == "running"
    process.kill()
    process.wait(timeout=60)
    assert Run(run_path).status()["state"] == "running", "status.json still says running ..."
    assert Run(run_path).live_state() == "interrupted", "... but the run's lock says its process is gone"
