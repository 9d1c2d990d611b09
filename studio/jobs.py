"""Background jobs (training, exports, scoring) that outlive a page's script run.

The registry is process-wide (one per Streamlit server, via st.cache_resource), so a browser
refresh, a second tab or a rerun finds the job instead of starting it again. Jobs report through
gan_core's event channel; the run directory stays the source of truth for training results.
"""
from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

from gan_core.events import CancelledError, Control, Event

log = logging.getLogger(__name__)

_ids = itertools.count(1)


class JobBusyError(RuntimeError):
    """An exclusive job was asked for while another exclusive job holds the device."""


def default_device() -> str:
    from gan_core.device import select_device  # imports torch; only needed when a job starts

    return str(select_device("auto"))


class Job:
    """One background job. state: running, then finished, failed (error holds one line for the
    user, never a traceback), cancelled (a CancelledError) or stopped (a training run asked to stop)."""

    def __init__(self, kind: str, label: str, run_path: str | None = None, device: str | None = None,
                 exclusive: bool = True, max_events: int = 200):
        self.id = f"{kind}-{next(_ids)}"
        self.kind, self.label, self.run_path, self.exclusive = kind, label, run_path, exclusive
        self.device = device or default_device()
        self.control = Control()
        self.thread: threading.Thread | None = None
        self.state = "running"
        self.error: str | None = None
        self.result: Any = None
        self.started, self.ended = time.time(), None
        self.events: collections.deque[Event] = collections.deque(maxlen=max_events)
        self.last_progress: dict = {}
        self._end_event: dict | None = None
        self._rate_origin: tuple[float, int] | None = None  # (time, done) of the first progress report

    def callback(self, event: Event) -> None:
        """Passed to gan_core functions as one of their `callbacks`."""
        self.events.append(event)
        data = event.data
        if event.kind == "start":
            self.run_path = data.get("run") or self.run_path
            self._rate_origin = None
        elif event.kind == "step":
            self._progress(event.time, "training", data["step"], data.get("total_steps"))
        elif event.kind == "progress":
            self._progress(event.time, data.get("task", self.kind), data.get("done", 0), data.get("total"))
        elif event.kind == "end":
            self._end_event = data

    def _progress(self, now: float, task: str, done: int, total: int | None) -> None:
        if self._rate_origin is None or self.last_progress.get("task") != task:
            self._rate_origin = (now, done)
        t0, done0 = self._rate_origin
        rate = (done - done0) / (now - t0) if now > t0 and done > done0 else None
        eta = (total - done) / rate if rate and total else None
        self.last_progress = {"task": task, "done": done, "total": total, "rate": rate, "eta_s": eta,
                              "time": now}

    @property
    def running(self) -> bool:
        return self.state == "running"

    def _run(self, target: Callable[..., Any]) -> None:
        try:
            self.result = target(callbacks=[self.callback], control=self.control)
            self.state, message = self._final_state()
            if self.state == "failed":
                self.error = message
        except CancelledError:
            self.state = "cancelled"
        except Exception as e:  # the user sees one line; the console keeps the traceback
            log.exception("job %s (%s) failed", self.id, self.label)
            self.state, self.error = "failed", f"{type(e).__name__}: {e}"
        finally:
            self.ended = time.time()

    def _final_state(self) -> tuple[str, str]:
        if self._end_event:
            return self._end_event.get("state", "finished"), self._end_event.get("message", "")
        return ("stopped" if self.control.should_stop() else "finished"), ""


class JobRegistry:
    """Thread-safe: every Streamlit session of the server shares it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}

    def start(self, kind: str, label: str, target: Callable[..., Any], exclusive: bool = True,
              run_path: str | None = None, device: str | None = None) -> Job:
        """Run target(callbacks=[job.callback], control=job.control) in a daemon thread.
        Raises JobBusyError while another exclusive job runs."""
        with self._lock:
            busy = next((j for j in self._jobs.values() if j.exclusive and j.running), None) if exclusive else None
            if busy:
                raise JobBusyError(f"{busy.label} is already running on {busy.device}: stop it or wait")
            job = Job(kind, label, run_path, device, exclusive)
            job.thread = threading.Thread(target=job._run, args=(target,), name=job.id, daemon=True)
            self._jobs[job.id] = job
            job.thread.start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self, kind: str | None = None) -> list[Job]:
        """Newest first."""
        with self._lock:
            found = [j for j in self._jobs.values() if kind is None or j.kind == kind]
        return sorted(found, key=lambda j: j.started, reverse=True)

    def active(self, kind: str | None = None) -> list[Job]:
        return [j for j in self.jobs(kind) if j.running]

    def for_run(self, run_path, kind: str | None = None) -> Job | None:
        """The newest job (of kind, if given) working on the run at run_path."""
        wanted = Path(run_path).resolve()
        return next((j for j in self.jobs(kind) if j.run_path and Path(j.run_path).resolve() == wanted), None)


def registry() -> JobRegistry:
    """The server's one registry (st.cache_resource: shared by every session and rerun)."""
    import streamlit as st

    @st.cache_resource(show_spinner=False)
    def _server_registry() -> JobRegistry:
        return JobRegistry()

    return _server_registry()


def run_state(run, job: Job | None = None) -> str:
    """The state the studio shows for a run, in badges, tables and pickers alike: the run's live
    state (gan_core.runs.Run.live_state: "interrupted" as soon as its training process is gone),
    and "elsewhere" for a live run that no job of this studio drives (the command line, torchrun,
    another studio). job: this studio's job for the run, if known (else looked up)."""
    from gan_core.runs import ACTIVE_STATES

    state = run.live_state()
    if state not in ACTIVE_STATES:
        return state
    job = job or registry().for_run(run.path, "train")
    return state if job is not None and job.running else "elsewhere"
