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

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable


@dataclass
class Event:
    kind: str
    data: dict = field(default_factory=dict)
    time: float = field(default_factory=time.time)


Callback = Callable[[Event], None]


def emit(callbacks: Iterable[Callback] | None, kind: str, **data) -> None:
    for cb in callbacks or ():
        cb(Event(kind, data))


class Control:
    """Cooperative stop/pause, set from another thread (the studio) or a signal handler (the CLI)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.pause = threading.Event()

    def should_stop(self) -> bool:
        return self.stop.is_set()

    def wait_while_paused(self, on_pause: Callable[[], None] | None = None,
                          on_resume: Callable[[], None] | None = None) -> None:
        if not self.pause.is_set():
            return
        if on_pause:
            on_pause()
        while self.pause.is_set() and not self.stop.is_set():
            time.sleep(0.1)
        if on_resume:
            on_resume()


class CancelledError(RuntimeError):
    """A non-training job (export, scoring, cache build) stopped because its Control asked."""
