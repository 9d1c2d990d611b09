"""Starting and resuming training jobs, and reading a run's progress from its directory."""
from __future__ import annotations

import dataclasses

from gan_core.config import TrainConfig, resume_config
from gan_core.runs import Run, runs_root
from gan_core.trainer import default_run_id, train
from studio.datasets import dataset_problem
from studio.jobs import Job, registry


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
