"""Starting and resuming training jobs, and reading a run's progress from its directory."""
from __future__ import annotations

import dataclasses
import time

from gan_core.config import TrainConfig, resume_config
from gan_core.runs import Run, runs_root
from gan_core.trainer import default_run_id, train
from studio.datasets import dataset_problem
from studio.jobs import Job, registry

ACTIVE_STATES = ("running", "paused")
# A run whose status says running but that no process has written to for this long was killed.
STALE_AFTER_S = 300


def _start(cfg: TrainConfig, resume: bool) -> Job:
    run_path = runs_root(cfg.runs_dir) / cfg.run_id
    verb = "Resuming" if resume else "Training"
    return registry().start(
        "train", f"{verb} {cfg.run_id}",
        lambda callbacks, control: train(cfg, callbacks, control, resume=resume),
        run_path=str(run_path), device=None if cfg.device == "auto" else cfg.device)


def launch(cfg: TrainConfig) -> Job:
    """Start a new run in the background. Raises ValueError if the run exists, JobBusyError if
    the device is busy."""
    cfg = dataclasses.replace(cfg, run_id=cfg.run_id or default_run_id(cfg))
    if (runs_root(cfg.runs_dir) / cfg.run_id / "config.json").exists():
        raise ValueError(f"run {cfg.run_id} already exists: choose another run_id, or resume it below")
    return _start(cfg, resume=False)


def resume(run: Run, fallback_data: str | None = None) -> Job:
    """Continue a stopped, failed or killed run from its newest checkpoint."""
    saved = run.config(strict=True)
    overrides = {"runs_dir": str(run.path.parent), "run_id": run.id}
    if dataset_problem(saved.get("data") or "") and fallback_data:
        overrides["data"] = fallback_data  # the run's own data moved or was deleted
    return _start(resume_config(saved, overrides), resume=True)


def last_write(run: Run) -> float:
    paths = [run.metrics_path, run.path / "status.json", run.path / "config.json"]
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


def run_state(run: Run, job: Job | None) -> str:
    """The state to show: status.json's, except a run marked running/paused that no job here
    drives is "interrupted" once nothing has written to it for STALE_AFTER_S (else "elsewhere":
    another process, e.g. the CLI, is training it)."""
    state = run.status().get("state", "unknown")
    if state not in ACTIVE_STATES or (job is not None and job.running):
        return state
    return "interrupted" if time.time() - last_write(run) > STALE_AFTER_S else "elsewhere"


def progress(rows: list[dict], status: dict, window: int = 50) -> dict:
    """Steps done and total, steps/s and images/s over the last `window` steps since the run last
    (re)started running (a pause or a resume is no slowdown), and the ETA."""
    done = rows[-1]["step"] if rows else status.get("step", 0)
    total = status.get("total_steps")
    recent = [row for row in rows if row["time"] >= status.get("started", 0)][-window:]
    rate = None
    if len(recent) > 1 and recent[-1]["time"] > recent[0]["time"]:
        rate = (recent[-1]["step"] - recent[0]["step"]) / (recent[-1]["time"] - recent[0]["time"])
    speeds = [r["images_per_s"] for r in recent if "images_per_s" in r]
    return {"done": done, "total": total, "steps_per_s": rate,
            "images_per_s": sum(speeds) / len(speeds) if speeds else None,
            "eta_s": (total - done) / rate if rate and total else None}
