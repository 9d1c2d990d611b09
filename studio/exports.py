"""A run's exports, for the Export & score page: each export kept under its own name, beside its
manifest, with the scores of its own bytes.

    <run>/exports/images-step005787-20261201-1703.zip    the images (downloaded as images.zip)
    <run>/exports/images-step005787-20261201-1703.json   its manifest (gan_core.export.export_zip)

A zip written elsewhere in exports/ (`python -m gan_core export --out <run>/exports/images.zip`,
or an older studio, which always wrote images.zip) is listed too: its manifest is the newest
<time>.json that names it as its output. A score (gan_core.metrics.append_score) records the zip it
scored ("images") and, from the studio, the zip's sha256: a score belongs to an export when it
scored that path and those bytes.
"""
from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gan_core import metrics  # its names load on first use: the Inception stack only when scoring
from gan_core.config import default_reference
from gan_core.runs import Run, read_json_object

EXPORTS = "exports"
DOWNLOAD_NAME = "images.zip"  # what Kaggle expects, whatever the export is called here
STEM = "images"


@dataclass
class Export:
    """One zip of a run's exports/ folder."""
    path: Path
    size: int
    made: float  # the zip's modification time: when it was renamed into place, validated
    manifest_path: Path | None = None
    details: dict = field(default_factory=dict)  # the manifest; {} when there is none (or it is damaged)
    scores: list[dict] = field(default_factory=list)  # the scores of these bytes, oldest first

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def step(self) -> int | None:
        return self.details.get("step")

    @property
    def latest_score(self) -> dict | None:
        return self.scores[-1] if self.scores else None


def exports_dir(run_path: str | Path) -> Path:
    return Path(run_path) / EXPORTS


def local_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


# --- naming a new export ---------------------------------------------------------------------------
def checkpoint_step(run: Run, checkpoint: Path) -> int | None:
    """The training step a checkpoint holds, without loading it: step_000500.pt -> 500, best.pt ->
    its probe row's step; None when the name does not say."""
    checkpoint = Path(checkpoint)
    if checkpoint.name == run.best_path.name and checkpoint.parent == run.checkpoints_dir:
        step = (run.best_quality() or {}).get("step")
        return step if isinstance(step, int) else None
    number = checkpoint.stem.rsplit("_", 1)[-1]
    return int(number) if checkpoint.stem.startswith("step_") and number.isdigit() else None


def new_export_path(run: Run, checkpoint: Path, now: float | None = None) -> Path:
    """A zip name in the run's exports/ that no export has yet: images-step<step>-<YYYYmmdd-HHMM>.zip
    (-2, -3... when one was made in the same minute from the same step)."""
    step = checkpoint_step(run, checkpoint)
    made = time.strftime("%Y%m%d-%H%M", time.localtime(now if now is not None else time.time()))
    base = f"{STEM}-step{step:06d}-{made}" if step is not None else f"{STEM}-{Path(checkpoint).stem}-{made}"
    folder = exports_dir(run.path)
    for n in range(1, 1000):
        stem = base if n == 1 else f"{base}-{n}"
        if not (folder / f"{stem}.zip").exists() and not (folder / f"{stem}.json").exists():
            return folder / f"{stem}.zip"
    raise FileExistsError(f"{folder} already holds 999 exports named {base}*: delete some")


def manifest_path(zip_path: Path) -> Path:
    """Where the studio writes an export's manifest: beside the zip, under the same name."""
    return Path(zip_path).with_suffix(".json")


# --- listing --------------------------------------------------------------------------------------
def _manifests(folder: Path) -> list[tuple[Path, dict | None]]:
    """Every manifest of the folder, newest first; None for a damaged one."""
    found = []
    for path in folder.glob("*.json"):
        if path.name.startswith(".") or not path.is_file():
            continue
        details, damaged = read_json_object(path)
        found.append((path, None if damaged else details))
    return sorted(found, key=lambda item: _mtime(item[0]), reverse=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _describes(details: dict | None, zip_path: Path) -> bool:
    return bool(details) and Path(str(details.get("output", ""))) == zip_path.resolve()


def _manifest_of(zip_path: Path, manifests) -> tuple[Path | None, dict]:
    """(path, details) of the zip's manifest: the one beside it, else the newest naming it as its output."""
    beside = manifest_path(zip_path)
    for path, details in sorted(manifests, key=lambda item: item[0] != beside):  # beside first, then newest
        if _describes(details, zip_path):
            return path, details
    return None, {}


def export_manifest(zip_path: Path) -> dict | None:
    """The manifest of this zip (what it holds: step, checkpoint, seed, options...), or None."""
    zip_path = Path(zip_path)
    path, details = _manifest_of(zip_path, _manifests(zip_path.parent))
    return details if path else None


def score_matches(score: dict, zip_path: Path, details: dict, made: float) -> bool:
    """Whether a score row scored this zip's current bytes: the same path, and the same sha256 (or,
    for rows without one, scored after the zip was written)."""
    if not score.get("images") or Path(str(score["images"])).resolve() != Path(zip_path).resolve():
        return False
    if score.get("sha256") and details.get("sha256"):
        return score["sha256"] == details["sha256"]
    scored = score.get("time")
    return isinstance(scored, (int, float)) and scored >= made


def list_exports(run: Run) -> list[Export]:
    """The run's exports, newest first, each with its manifest and its scores."""
    folder = exports_dir(run.path)
    if not folder.is_dir():
        return []
    manifests, scores = _manifests(folder), run.scores()
    exports = []
    for path in folder.glob("*.zip"):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            stat = path.stat()
        except OSError:  # deleted meanwhile
            continue
        found, details = _manifest_of(path, manifests)
        export = Export(path, stat.st_size, stat.st_mtime, found, details)
        export.scores = [s for s in scores if score_matches(s, path, details, stat.st_mtime)]
        exports.append(export)
    return sorted(exports, key=lambda e: (e.made, e.name), reverse=True)


def options_summary(details: dict) -> str:
    """How an export manifest says the images were made (older manifests say less): "" when it does not."""
    parts = []
    if details.get("source") == "photo translations" and "resolution" in details:
        parts += [f"{details['resolution']} resolution", f"TTA {details['tta']}"]
    if "subsampling" in details:
        parts.append(f"JPEG {':'.join(details['subsampling'])} q{details['quality']}")
    if details.get("colour", "none") != "none":
        parts.append(f"colour {details['colour']}")
    if "bf16" in details:
        parts.append("bf16" if details["bf16"] else "fp32")
    return ", ".join(parts)


def describe(export: Export) -> str:
    """One sentence: what the export holds and when it was made."""
    details = export.details
    if details.get("count") is not None:
        options = options_summary(details)
        holds = (f"{details['count']:,} images from step {details.get('step')} "
                 f"(`{Path(str(details.get('checkpoint'))).name}`, seed {details.get('seed')}"
                 f"{'; ' + options if options else ''})")
    else:
        holds = "An export without a manifest"
    return f"{holds}, made {local_time(export.made)}"


def exports_table(exports: list[Export]) -> pd.DataFrame:
    """The exports as the page lists them, newest first, with each one's latest score."""
    rows = []
    for e in exports:
        latest = e.latest_score or {}
        rows.append({
            "export": e.name, "step": e.step if e.step is not None else "",
            "images": e.details.get("count") if e.details.get("count") is not None else "",
            "options": options_summary(e.details), "MB": round(e.size / 1e6, 1), "made": local_time(e.made),
            "latest FID": latest.get("fid"), "latest MiFID": latest.get("mifid"),
            "scored": (f"{'estimate: ' if latest.get('estimate') else ''}{latest.get('n_generated', 0):,} images"
                       if latest else "not yet"),
        })
    return pd.DataFrame(rows, columns=["export", "step", "images", "options", "MB", "made", "latest FID",
                                       "latest MiFID", "scored"])


# --- deleting -------------------------------------------------------------------------------------
def delete_export(run_path: str | Path, zip_path: str | Path, confirmed: bool = False) -> list[Path]:
    """Remove one export: its zip and the manifest(s) that describe it (the one beside it, and any
    older one naming it as output). Only a .zip directly in the run's exports/ folder, and only when
    `confirmed`. Returns the files removed; raises ValueError or FileNotFoundError otherwise."""
    if not confirmed:
        raise ValueError("deleting an export needs confirming: it cannot be undone")
    folder = exports_dir(run_path).resolve()
    given = Path(zip_path)
    given = given if given.is_absolute() else folder / given
    # The folder resolved, not the name: a link named like an export is removed itself, never where it leads.
    target = given.parent.resolve() / given.name
    if target.parent != folder or target.suffix.lower() != ".zip" or target.name.startswith("."):
        raise ValueError(f"{zip_path} is not an export of this run: only a .zip in {folder} can be deleted")
    if not (target.is_file() or target.is_symlink()):
        raise FileNotFoundError(f"{target} does not exist (deleted already?)")
    beside = manifest_path(target)
    manifests = [path for path, details in _manifests(folder)
                 if _describes(details, target) or (path == beside and details is None)]
    target.unlink()
    for path in manifests:
        path.unlink(missing_ok=True)
    return [target, *manifests]


# --- scoring --------------------------------------------------------------------------------------
def score_and_record(run_path: Path, zip_path: Path, reference: Path, max_images: int | None, details: dict,
                     callbacks, control) -> dict:
    """Score the zip (a background job) and append the result to the run's scores.jsonl, with the
    zip's path, the manifest's step, checkpoint and seed, and the zip's sha256 that links the score
    to these bytes."""
    result = metrics.evaluate(Path(zip_path).resolve(), reference, max_images=max_images, callbacks=callbacks,
                              control=control)
    result.update({k: details.get(k) for k in ("step", "checkpoint", "seed")})
    if details.get("sha256"):
        result["sha256"] = details["sha256"]
    metrics.append_score(run_path, result)
    return result


def score_problem(score: dict) -> str | None:
    """Why a score's memorisation pairs cannot be shown from its zip any more, or None when they can."""
    generated = Path(str(score.get("images", "")))
    if not generated.exists():
        return f"`{generated.name}`, the zip this score was made from, was deleted: its closest pairs are gone."
    if generated.is_file():
        details = export_manifest(generated) or {}
        if not score_matches(score, generated, details, _mtime(generated)):
            return (f"`{generated.name}` was exported again after this score, so its images no longer match: "
                    f"score it again to see the closest pairs.")
    return None


def reference_paintings() -> Path | None:
    """The chosen dataset's monet_jpg/ folder, or the chosen competition zip (scored as its
    paintings), else the default reference."""
    from studio.widgets import dataset_path

    chosen = dataset_path()
    candidates = [Path(chosen) / "monet_jpg", Path(chosen)] if chosen else []
    for candidate in candidates + [default_reference()]:
        if candidate.is_dir() and candidate.name == "monet_jpg" or zipfile.is_zipfile(candidate):
            return candidate
    return None


def image_bytes(container: Path, name: str) -> bytes | None:
    """One image of a folder or zip, or None when it cannot be read."""
    try:
        if container.is_dir():
            return (container / name).read_bytes()
        with zipfile.ZipFile(container) as archive:
            return archive.read(name)
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
