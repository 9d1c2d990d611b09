"""Run directories: the single source of truth for a training run.

runs/<run_id>/
    config.json      the TrainConfig as written at start (updated on resume)
    metrics.jsonl    one JSON row per optimizer step: step, epoch, time, metrics
    quality.jsonl    one JSON row per quality probe (train --quality-every): step, fid, kid_mean,
                     kid_std, n, seconds, diversity, input_distance (gan_core.quality)
    status.json      state (running|paused|stopped|finished|failed), message, timestamps
    samples/         step_000100.png ... fixed-noise grids
    checkpoints/     step_000500.pt ... (the newest few; atomic writes)
                     best.pt, best.json: the checkpoint of the lowest probe FID and its probe row
                     (never rotated)
"""
from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

STATES = ("running", "paused", "stopped", "finished", "failed")
# Names a user may give instead of a checkpoint file (export, sample, translate, fork, the studio).
CHECKPOINT_NAMES = ("best", "latest")


def runs_root(runs_dir: str | os.PathLike | None = None) -> Path:
    """The explicit argument, then $GAN_STUDIO_RUNS, then runs/ in the working directory."""
    if runs_dir:
        return Path(runs_dir)
    return Path(os.environ.get("GAN_STUDIO_RUNS") or "runs")


def write_text_atomic(path: Path, text: str) -> None:
    from gan_core import atomic  # the one atomic writer (unique temporary, fsync, rename)

    atomic.write_text(path, text)


def write_json_atomic(path: Path, obj) -> None:
    from gan_core import atomic

    atomic.write_json(path, obj, indent=2, default=str)


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON-lines file; a torn last line (a kill mid-write) is ignored."""
    rows = []
    if not path.exists():
        return rows
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return rows


def truncate_jsonl(path: Path, step: int) -> None:
    """Keep the rows up to `step` (a resume drops what a killed process wrote after its checkpoint)."""
    if not path.exists():
        return
    rows = [r for r in read_jsonl(path) if r.get("step", 0) <= step]
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))


def _read_json_object(path: Path) -> tuple[dict | None, str | None]:
    """(the JSON object in path, None), or (None, why it is not one)."""
    try:
        value = json.loads(path.read_text())
    except FileNotFoundError:
        return None, f"{path.name} is missing"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return None, f"{path.name} is damaged ({type(e).__name__}: {e})"
    if not isinstance(value, dict):
        return None, f"{path.name} is damaged (not a JSON object)"
    return value, None


@dataclass
class Run:
    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    def config(self, strict: bool = False) -> dict:
        """The saved settings; {} when config.json is missing or damaged (see problems()), or with
        strict a ValueError saying so (resume, fork: guessing settings would train the wrong run)."""
        p = self.path / "config.json"
        values, problem = _read_json_object(p)
        if problem and strict:
            raise ValueError(f"run {self.path} cannot be used: {problem}. Its checkpoints still hold their "
                             f"settings; restore config.json or start a new run")
        return values or {}

    def status(self) -> dict:
        p = self.path / "status.json"
        if not p.exists():
            return {"state": "unknown", "message": "no status.json"}
        values, problem = _read_json_object(p)
        return values if problem is None else {"state": "unknown", "message": problem}

    def problems(self) -> list[str]:
        """Why this run's own files cannot be read (config.json, status.json); [] when they can."""
        found = []
        for name in ("config.json", "status.json"):
            path = self.path / name
            problem = _read_json_object(path)[1] if path.exists() else None
            if problem:
                found.append(problem)
        return found

    def set_status(self, state: str, message: str = "", **extra) -> dict:
        assert state in STATES, state
        old = self.status()
        now = time.time()
        status = {k: v for k, v in old.items() if k not in ("state", "message")}
        status.update(extra)
        status.update(state=state, message=message, updated=now)
        status.setdefault("created", now)
        if state == "running" and old.get("state") != "running":
            status["started"] = now
        if state in ("stopped", "finished", "failed"):
            status["ended"] = now
        write_json_atomic(self.path / "status.json", status)
        return status

    def metrics(self) -> list[dict]:
        return read_jsonl(self.metrics_path)

    def samples(self) -> list[Path]:
        return sorted(self.samples_dir.glob("step_*.png"))

    def checkpoints(self) -> list[Path]:
        return sorted(self.checkpoints_dir.glob("step_*.pt"))

    def latest_checkpoint(self) -> Path | None:
        ckpts = self.checkpoints()
        return ckpts[-1] if ckpts else None

    @property
    def quality_path(self) -> Path:
        return self.path / "quality.jsonl"

    def quality(self) -> list[dict]:
        """The quality probe's rows, in step order."""
        return read_jsonl(self.quality_path)

    @property
    def best_path(self) -> Path:
        return self.checkpoints_dir / "best.pt"

    def best_checkpoint(self) -> Path | None:
        return self.best_path if self.best_path.exists() else None

    def best_quality(self) -> dict | None:
        """The probe row of best.pt (step, fid, ...), or None when the run has no best checkpoint."""
        p = self.checkpoints_dir / "best.json"
        if not (p.exists() and self.best_path.exists()):
            return None
        try:
            return json.loads(p.read_text())
        except json.JSONDecodeError:
            return None

    def resolve_checkpoint(self, name: str | os.PathLike | None = None) -> Path:
        """'latest' (also None), 'best', a file name in checkpoints/ or a path -> an existing file.
        Raises FileNotFoundError saying what to do."""
        if name is None or str(name) == "latest":
            found = self.latest_checkpoint()
            if found is None:
                raise FileNotFoundError(f"run {self.path} has no checkpoint yet in {self.checkpoints_dir}: train "
                                        f"it for at least --checkpoint-every steps, or until it ends")
            return found
        if str(name) == "best":
            found = self.best_checkpoint()
            if found is None:
                raise FileNotFoundError(f"run {self.path} has no best checkpoint (checkpoints/best.pt): it is "
                                        f"written by the quality probe, so train with --quality-every N, or "
                                        f"use --checkpoint latest")
            return found
        for candidate in (Path(name), self.checkpoints_dir / str(name)):
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(f"checkpoint {name} is neither a file nor one of {self.checkpoints_dir}; give "
                                f"best, latest, a file name there, or a path")

    def summary(self) -> dict:
        """One row for run tables: id, model, state, steps, last losses, best score."""
        cfg, st, problems = self.config(), self.status(), self.problems()
        rows = self.metrics()
        last = rows[-1] if rows else {}
        scores = self.scores()
        best = min((s.get("fid") for s in scores if s.get("fid") is not None), default=None)
        probe = self.best_quality()
        return {
            "run": self.id, "model": cfg.get("model"), "state": "damaged" if problems else st.get("state"),
            "step": last.get("step", 0),
            "epoch": last.get("epoch"), "loss_d": last.get("loss_d", last.get("loss_D")),
            "loss_g": last.get("loss_g", last.get("loss_G")), "best_fid": best,
            "probe_fid": probe.get("fid") if probe else None, "probe_step": probe.get("step") if probe else None,
            "message": "; ".join(problems) or st.get("message", ""), "updated": st.get("updated"),
        }

    def scores(self) -> list[dict]:
        return read_jsonl(self.path / "scores.jsonl")


@contextlib.contextmanager
def claim_run(path: Path):
    """Hold the run directory `path` for one training process: a second trainer of the same run
    (another terminal, another studio tab) is refused at once instead of writing into it too.
    The lock file sits beside the run (.<run_id>.lock) and is released when the block ends or the
    process dies."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path.parent / f".{path.name}.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ValueError(f"run {path} is being trained by another process right now: wait for it to end, stop it, "
                         f"or choose another --run-id") from None
    try:
        yield
    finally:
        lock.release()


def create_run(root: Path, run_id: str) -> Run:
    path = Path(root) / run_id
    (path / "samples").mkdir(parents=True, exist_ok=True)
    (path / "checkpoints").mkdir(parents=True, exist_ok=True)
    return Run(path)


def open_run(run: str | os.PathLike, runs_dir: str | os.PathLike | None = None) -> Run:
    """A run by directory path or by id under the runs root. Raises FileNotFoundError naming both."""
    p = Path(run)
    if (p / "config.json").exists():
        return Run(p)
    q = runs_root(runs_dir) / str(run)
    if (q / "config.json").exists():
        return Run(q)
    raise FileNotFoundError(f"no run at {p} or {q}: a run directory holds config.json "
                            f"(list runs with `python -m gan_core runs`)")


def list_runs(runs_dir: str | os.PathLike | None = None) -> list[Run]:
    """Every run under the root, newest first."""
    root = runs_root(runs_dir)
    if not root.exists():
        return []
    runs = [Run(p) for p in root.iterdir() if (p / "config.json").exists()]
    return sorted(runs, key=lambda r: (r.path / "config.json").stat().st_mtime, reverse=True)
