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

A damaged config.json or status.json makes the run "damaged" (problems(): listed with the reason,
refused by resume and fork); damaged lines of metrics.jsonl, quality.jsonl or scores.jsonl are
skipped and counted (notes()), a torn last line (a kill mid-write) silently. Sweeps (sweep.json)
and comparison reports (report.json) beside the runs are listed and checked here too.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gan_core.config import type_problems

if TYPE_CHECKING:
    import pandas as pd

STATES = ("running", "paused", "stopped", "finished", "failed")
ACTIVE_STATES = ("running", "paused")
TAGS_FILE = "tags.json"
#: A training process refreshes status.json's heartbeat this often; a run on another host whose
#: heartbeat is older than HEARTBEAT_STALE_S is taken as interrupted (on this host the run's lock decides).
HEARTBEAT_S = 30.0
HEARTBEAT_STALE_S = 3 * HEARTBEAT_S
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


@dataclass
class JsonlContents:
    rows: list[dict]
    skipped: int = 0            # complete lines that are not a JSON object (damaged in place)
    error: str | None = None    # why the file could not be read at all

    def note(self, name: str) -> str | None:
        """What a run table should say about the file, or None when it read cleanly."""
        if self.error:
            return f"{name} cannot be read ({self.error}): its rows are left out"
        if self.skipped:
            return f"{name}: {self.skipped} unreadable line(s) skipped"
        return None


def read_jsonl_checked(path: Path) -> JsonlContents:
    """The rows of a JSON-lines file, with a count of the lines that are not JSON objects (each is
    skipped; the rows after it still count). A torn last line, without its newline (a kill
    mid-write), is dropped without counting: the writer appends whole lines, so that is all it is."""
    from gan_core.jsonl_tail import parse_line  # the one rule, shared with the live view's reader

    contents = JsonlContents([])
    try:
        with open(path, "rb") as f:
            for raw in f:
                row, damaged = parse_line(raw)
                if row is not None:
                    contents.rows.append(row)
                elif damaged:
                    contents.skipped += 1
    except FileNotFoundError:
        pass
    except OSError as e:
        contents.error = f"{type(e).__name__}: {e.strerror or e}"
    return contents


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON-lines file; a torn last line (a kill mid-write) and damaged lines are skipped
    (read_jsonl_checked counts them)."""
    return read_jsonl_checked(path).rows


def truncate_jsonl(path: Path, step: int) -> None:
    """Keep the rows up to `step` (a resume drops what a killed process wrote after its checkpoint)."""
    if not path.exists():
        return
    rows = [r for r in read_jsonl(path) if r.get("step", 0) <= step]
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))


def read_json_object(path: Path) -> tuple[dict | None, str | None]:
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



def _read_config(path: Path) -> tuple[dict | None, str | None]:
    """config.json's settings, or why they cannot be used: unreadable, or a value of the wrong
    type (resuming or forking with it would fail deep inside training)."""
    values, problem = read_json_object(path)
    if problem is None and (wrong := type_problems(values)):
        return None, f"{path.name} is damaged ({'; '.join(wrong)})"
    return values, problem


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
        values, problem = _read_config(p)
        if problem and strict:
            raise ValueError(f"run {self.path} cannot be used: {problem}. Its checkpoints still hold their "
                             f"settings; restore config.json or start a new run")
        return values or {}

    def status(self) -> dict:
        p = self.path / "status.json"
        if not p.exists():
            return {"state": "unknown", "message": "no status.json"}
        values, problem = read_json_object(p)
        return values if problem is None else {"state": "unknown", "message": problem}

    def live_state(self, status: dict | None = None) -> str:
        """status.json's state, except that a run marked running or paused whose training process
        is gone is "interrupted": on this host, when nothing holds the run's lock (claim_run; a dead
        process releases it at once), on another host when its heartbeat stopped. The one place
        the CLI, the studio's badges, tables and pickers ask."""
        status = self.status() if status is None else status
        state = status.get("state", "unknown")
        if state not in ACTIVE_STATES:
            return state
        if status.get("host", socket.gethostname()) == socket.gethostname():
            return state if is_claimed(self.path) else "interrupted"
        heartbeat = status.get("heartbeat") or status.get("updated") or 0
        return state if time.time() - heartbeat <= HEARTBEAT_STALE_S else "interrupted"

    def problems(self) -> list[str]:
        """Why this run's own files cannot be read (config.json, status.json); [] when they can."""
        found = []
        for name, read in (("config.json", _read_config), ("status.json", read_json_object)):
            path = self.path / name
            problem = read(path)[1] if path.exists() else None
            if problem:
                found.append(problem)
        return found

    def notes(self, metrics: JsonlContents | None = None) -> list[str]:
        """What is damaged in the run's records without making the run unusable: lines of
        metrics.jsonl, quality.jsonl or scores.jsonl that are skipped, an unreadable best.json.
        `metrics`: metrics.jsonl as already read (a long run's file is read once)."""
        found = [(metrics or read_jsonl_checked(self.metrics_path)).note(self.metrics_path.name)]
        found += [read_jsonl_checked(path).note(path.name) for path in (self.quality_path, self.scores_path)]
        best = self.checkpoints_dir / "best.json"
        if best.exists():
            found.append(read_json_object(best)[1])
        return [note for note in found if note]

    def set_status(self, state: str, message: str = "", **extra) -> dict:
        assert state in STATES, state
        old = self.status()
        now = time.time()
        status = {k: v for k, v in old.items() if k not in ("state", "message")}
        status.update(extra)
        status.update(state=state, message=message, updated=now)
        if state in ACTIVE_STATES:  # who trains it, for live_state(); heartbeat() keeps it fresh
            status.update(pid=os.getpid(), host=socket.gethostname(), heartbeat=now)
        status.setdefault("created", now)
        if state == "running" and old.get("state") != "running":
            status["started"] = now
        if state in ("stopped", "finished", "failed"):
            status["ended"] = now
        write_json_atomic(self.path / "status.json", status)
        return status

    def tags(self) -> list[str]:
        values, problem = read_json_object(self.path / TAGS_FILE) if (self.path / TAGS_FILE).exists() else ({}, None)
        tags = values.get("tags") if not problem else None
        return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []

    def set_tags(self, tags) -> list[str]:
        """Replace the run's tags (kept in tags.json): stripped, without empties or repeats."""
        cleaned = list(dict.fromkeys(t.strip() for t in tags if t and t.strip()))
        write_json_atomic(self.path / TAGS_FILE, {"tags": cleaned})
        return cleaned

    def heartbeat(self) -> None:
        """Refresh status.json's heartbeat (the training process, every HEARTBEAT_S)."""
        status = self.status()
        if status.get("state") in ACTIVE_STATES:
            write_json_atomic(self.path / "status.json", {**status, "heartbeat": time.time()})

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
        return read_json_object(p)[0]  # damaged: no best row (notes() says why)

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
        metrics = read_jsonl_checked(self.metrics_path)
        cfg, st, problems, notes = self.config(), self.status(), self.problems(), self.notes(metrics)
        rows = metrics.rows
        last = rows[-1] if rows else {}
        scores = self.scores()
        best = min((s["fid"] for s in scores if isinstance(s.get("fid"), (int, float))), default=None)
        probe = self.best_quality()
        return {
            "run": self.id, "model": cfg.get("model"), "state": "damaged" if problems else self.live_state(st),
            "step": last.get("step", 0),
            "epoch": last.get("epoch"), "loss_d": last.get("loss_d", last.get("loss_D")),
            "loss_g": last.get("loss_g", last.get("loss_G")), "best_fid": best,
            "probe_fid": probe.get("fid") if probe else None, "probe_step": probe.get("step") if probe else None,
            "message": "; ".join((problems or [m for m in [st.get("message")] if m]) + notes),
            "tags": ", ".join(self.tags()),
            "updated": st.get("updated"),
        }

    @property
    def scores_path(self) -> Path:
        return self.path / "scores.jsonl"

    def scores(self) -> list[dict]:
        return read_jsonl(self.scores_path)


def _lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


def is_claimed(path: Path) -> bool:
    """Whether a process holds the run's lock now (claim_run). Where the lock cannot be tried (a
    read-only runs folder), it is taken as held: a run is never called interrupted on a guess."""
    from filelock import FileLock, Timeout

    lock_path = _lock_path(Path(path))
    if not lock_path.exists():
        return False
    # Kept on release: deleting it could race a trainer that has just opened it.
    lock = FileLock(str(lock_path), timeout=0, is_singleton=False, preserve_lock_file=True)
    try:
        lock.acquire()
    except Timeout:
        return True
    except OSError:
        return True
    lock.release()
    return False


@contextlib.contextmanager
def claim_run(path: Path):
    """Hold the run directory `path` for one training process: a second trainer of the same run
    (another terminal, another studio tab) is refused at once instead of writing into it too.
    The lock file sits beside the run (.<run_id>.lock) and is released when the block ends or the
    process dies."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(_lock_path(path)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ValueError(f"run {path} is being trained by another process right now: wait for it to end, stop it, "
                         f"or choose another --run-id") from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _idle_run(run: Run, doing: str):
    """Hold an idle run's claim for a rename or delete: refused while a process trains it."""
    busy = f"run {run.id} is being trained right now: stop it before you {doing} it"
    if run.live_state() in ACTIVE_STATES:
        raise ValueError(busy)
    claim = claim_run(run.path)
    try:
        claim.__enter__()
    except ValueError:
        raise ValueError(busy) from None
    try:
        yield
    finally:
        claim.__exit__(None, None, None)


def rename_run(run: Run, new_id: str) -> Run:
    """Give an idle run a new id (its folder name and config.json's run_id)."""
    from gan_core import atomic
    from gan_core.config import run_id_problem

    problem = run_id_problem(new_id)
    if problem:
        raise ValueError(f"{new_id!r} cannot name a run: {problem}")
    target = run.path.parent / new_id
    if os.path.lexists(target):
        raise ValueError(f"a run named {new_id} already exists in {run.path.parent}: choose another name")
    with _idle_run(run, "rename"):
        atomic.move(run.path, target)
    renamed = Run(target)
    config, problem = _read_config(renamed.path / "config.json")
    if config and not problem:
        write_json_atomic(renamed.path / "config.json", {**config, "run_id": new_id})
    return renamed


def delete_run(run: Run) -> None:
    """Delete an idle run's folder, with everything in it (checkpoints, samples, exports)."""
    import shutil

    if not (run.path / "config.json").exists() and not (run.path / "status.json").exists():
        raise ValueError(f"{run.path} is not a run folder (no config.json or status.json): not deleted")
    with _idle_run(run, "delete"):
        shutil.rmtree(run.path)


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
    if not root.is_dir():
        raise NotADirectoryError(f"runs folder {root} is a file, not a folder: give --runs-dir (or "
                                 f"$GAN_STUDIO_RUNS) a folder")
    runs = [Run(p) for p in root.iterdir() if (p / "config.json").exists()]
    return sorted(runs, key=lambda r: (r.path / "config.json").stat().st_mtime, reverse=True)


# --- the other folders of the runs root: sweeps (gan_core.sweep) and comparison reports (gan_core.compare) ---
# Listed and checked here, without torch, for the runs command and the studio's listings.
# What a plan must hold for the Sweep page and a resume (written by plan_sweep).
PLAN_KEYS = {"sweep_id": str, "batch_sizes": list, "lrs": list, "kid_samples": int, "runs": list, "base_config": dict}
BASE_KEYS = ("model", "image_size", "epochs", "steps", "device")
# The table's columns a reader relies on (older sweeps may lack later ones).
TABLE_KEYS = ("batch_size", "lr")
SUMMARISED = ("loss_g", "loss_d", "d_x", "d_g_z1", "d_g_z2")
# sweep.csv's columns, one row per ended combination (gan_core.sweep writes it).
COLUMNS = ["run", "batch_size", "lr", "state", "steps",
           *[f"{name}_{kind}" for name in SUMMARISED for kind in ("final", "mean")],
           "images_per_s", "kid_mean", "kid_std", "kid_samples", "kid_reference_images"]


def plan_problem(folder: str | Path) -> str | None:
    """Why the sweep's sweep.json cannot be used, or None."""
    plan, problem = read_json_object(Path(folder) / "sweep.json")
    if problem:
        return problem
    wrong = [key for key, kind in PLAN_KEYS.items() if not isinstance(plan.get(key), kind)]
    if wrong:
        return f"sweep.json is damaged (missing or malformed: {', '.join(wrong)})"
    base = plan["base_config"]
    bad = [f"no {key}" for key in BASE_KEYS if key not in base] + type_problems(base)
    if bad:
        return f"sweep.json is damaged (base_config: {'; '.join(bad)})"
    return None


def sweep_problem(folder: str | Path) -> str | None:
    """Why the sweep cannot be shown or resumed (its sweep.json, or its sweep.csv), or None."""
    problem = plan_problem(folder)
    path = Path(folder) / "sweep.csv"
    if problem or not path.exists():
        return problem
    try:
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
            for _ in csv.reader(f):
                pass
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        return f"sweep.csv is damaged ({type(e).__name__}: {e})"
    missing = [column for column in TABLE_KEYS if column not in header]
    return f"sweep.csv is damaged (no column {', '.join(missing)})" if missing else None


def list_sweeps(runs_dir: str | Path | None = None) -> list[Path]:
    """Sweep folders under the runs root (damaged ones too: see plan_problem), newest first."""
    root = runs_root(runs_dir)
    found = [p.parent for p in root.glob("*/sweep.json")] if root.is_dir() else []
    return sorted(found, key=lambda p: (p / "sweep.json").stat().st_mtime, reverse=True)


def load_sweep(folder: str | Path) -> pd.DataFrame:
    """The sweep's table (empty, with its columns, before the first combination has ended).
    ValueError naming sweep.csv when it cannot be read."""
    import pandas as pd  # here: the runs command and run listings need no pandas

    path = Path(folder) / "sweep.csv"
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as e:  # pandas' ParserError and EmptyDataError are ValueErrors
        reason = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
    else:
        missing = [c for c in TABLE_KEYS if c not in table]
        if not missing:
            return table
        reason = f"no column {', '.join(missing)}"
    raise ValueError(f"{path} is damaged ({reason}): delete it and run the sweep again to rebuild it from its runs")


REPORT_KEYS = {"table": list, "gifs": dict, "grids": dict, "runs": dict, "kid_samples": int, "settings": dict}


def report_problem(folder: str | Path) -> str | None:
    """Why the folder's report.json cannot be shown, or None."""
    report, problem = read_json_object(Path(folder) / "report.json")
    if problem:
        return problem
    wrong = [key for key, kind in REPORT_KEYS.items() if not isinstance(report.get(key), kind)]
    if not wrong and not all(isinstance(row, dict) for row in report["table"]):
        wrong = ["table rows"]
    if not wrong and not all(isinstance(name, str) for name in report["gifs"].values()):
        wrong = ["gifs"]
    if not wrong and not all(isinstance(names, list) and all(isinstance(n, str) for n in names)
                             for names in report["grids"].values()):
        wrong = ["grids"]
    return f"report.json is damaged (missing or malformed: {', '.join(wrong)})" if wrong else None


def list_reports(runs_dir: str | Path | None = None) -> list[Path]:
    """Report folders directly under the runs root (damaged ones too: see report_problem), newest first."""
    root = runs_root(runs_dir)
    found = root.glob("*/report.json") if root.is_dir() else []
    return [p.parent for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]


def load_report(folder: str | Path) -> dict:
    """report.json with paths made absolute: table (rows), gifs {model: Path}, runs {model: Path},
    grids {model: [Path]}, kid_samples, settings."""
    folder = Path(folder)
    path = folder / "report.json"
    if not path.exists():
        raise FileNotFoundError(f"no comparison report at {path}: run `python -m gan_core compare` first")
    problem = report_problem(folder)
    if problem:
        raise ValueError(f"comparison {folder} cannot be shown: {problem}. Its runs are intact; run the same "
                         f"`python -m gan_core compare` with --out {folder} again to rewrite it")
    report = read_json_object(path)[0]
    report["gifs"] = {m: folder / name for m, name in report["gifs"].items()}
    report["grids"] = {m: [folder / name for name in names] for m, names in report["grids"].items()}
    report["runs"] = {m: Path(p) for m, p in report["runs"].items()}
    return report
