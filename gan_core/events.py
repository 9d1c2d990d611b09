"""The one channel through which long jobs (training, cache builds, export, scoring) report.

A job takes `callbacks`: callables receiving an `Event`. The CLI turns events into tqdm bars;
the studio's job registry stores the latest ones for its live view. A job also takes a
`Control`, whose events the caller sets to pause or stop it cooperatively.

Event kinds used across gan_core:
    start       {"run": path, "total_steps": int, "resumed_from": int}
    step        {"step", "epoch", "total_steps", "metrics": {...}}
    sample      {"step", "path"}
    checkpoint  {"step", "path"}
    progress    {"task": str, "done": int, "total": int}   (non-training jobs, cache builds)
    log         {"message": str}
    end         {"state": "finished"|"stopped"|"failed", "message": str}
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

#: A run's control requests from other processes (the studio, for a run the CLI or torchrun started):
#: {"request": "pause" | "continue" | "stop", "time": ...}, honoured between training steps.
REQUEST_FILE = "control.json"
REQUESTS = ("pause", "continue", "stop")


@dataclass
class Event:
    kind: str
    data: dict = field(default_factory=dict)
    time: float = field(default_factory=time.time)


Callback = Callable[[Event], None]


def emit(callbacks: Iterable[Callback] | None, kind: str, **data) -> None:
    for cb in callbacks or ():
        cb(Event(kind, data))


def send_request(run_path: str | Path, request: str) -> Path:
    """Ask the process training run_path, wherever it was started, to pause, continue or stop."""
    from gan_core.atomic import atomic_open  # events stays free of heavy imports

    if request not in REQUESTS:
        raise ValueError(f"unknown request {request!r}: use {', '.join(REQUESTS)}")
    path = Path(run_path) / REQUEST_FILE
    with atomic_open(path, "w", fsync=False) as f:
        json.dump({"request": request, "time": time.time()}, f)
    return path


def read_request(run_path: str | Path, since: float = 0.0) -> str | None:
    """The run's last request, None when there is none, it cannot be read, or it was sent before
    `since` (pass status.json's "updated": a request the trainer has honoured is older than that)."""
    try:
        values = json.loads((Path(run_path) / REQUEST_FILE).read_text())
        request, sent = values.get("request"), float(values.get("time", 0))
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return request if request in REQUESTS and sent >= since else None


class Control:
    """Cooperative stop/pause, set from another thread (the studio), a signal handler (the CLI), or,
    once watch() is called, a request file in the run directory written by another process."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.pause = threading.Event()
        self._watched: Path | None = None
        self._seen: float | None = None

    def watch(self, run_path: str | Path) -> None:
        """Honour send_request() for this run from now on; a request left from before is dropped."""
        self._watched = Path(run_path)
        (self._watched / REQUEST_FILE).unlink(missing_ok=True)
        self._seen = None

    def poll(self) -> None:
        """Apply a new request from the watched run's file (one stat when nothing changed)."""
        if self._watched is None:
            return
        try:
            mtime = os.stat(self._watched / REQUEST_FILE).st_mtime_ns
        except OSError:
            return
        if mtime == self._seen:
            return
        self._seen = mtime
        request = read_request(self._watched)
        if request == "stop":
            self.stop.set()
        elif request == "pause":
            self.pause.set()
        elif request == "continue":
            self.pause.clear()

    def should_stop(self) -> bool:
        self.poll()
        return self.stop.is_set()

    def wait_while_paused(self, on_pause: Callable[[], None] | None = None,
                          on_resume: Callable[[], None] | None = None,
                          while_paused: Callable[[], None] | None = None) -> None:
        self.poll()
        if not self.pause.is_set():
            return
        if on_pause:
            on_pause()
        while self.pause.is_set() and not self.stop.is_set():
            time.sleep(0.1)
            self.poll()
            if while_paused:
                while_paused()
        if on_resume:
            on_resume()


class CancelledError(RuntimeError):
    """A non-training job (export, scoring, cache build) stopped because its Control asked."""
