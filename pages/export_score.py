"""Export & score: write the competition's images.zip from a run, then score it (FID, KID, MiFID)
against the Monet paintings. Both run as background jobs; a fragment polls them."""
import time
import zipfile
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from gan_core.export import export_zip
from gan_core.config import TRANSLATION_MODELS
from gan_core.export_options import (DEFAULT_RESOLUTION, DEFAULT_SUBSAMPLING, DEFAULT_TTA, RESOLUTIONS, SUBSAMPLINGS,
                                     TTAS)
from gan_core.export_validate import MAX_COUNT, MIN_SUBMISSION
from gan_core.metrics import append_score, default_reference, evaluate
from gan_core.runs import read_json_object
from studio.jobs import JobBusyError, registry
from studio.widgets import checkpoint_picker, dataset_path, run_picker, show_job_progress

POLL_S = 1.0
QUICK_IMAGES = 500
PAIRS_PER_ROW = 4
PAIR_IMAGE_PX = 96
RESOLUTION_LABELS = {"native": "Native: translate at 256 px", "training": "Training size, then resize to 256"}
TTA_LABELS = {"none": "None", "flip": "Flip: mean with the mirrored photo's"}
SUBSAMPLING_LABELS = {"444": "4:4:4 (full colour)", "420": "4:2:0 (half colour, smaller)"}


def latest_job(kind: str, run_path: Path):
    return next((j for j in registry().jobs(kind) if j.run_path and Path(j.run_path) == run_path), None)


def start_job(kind: str, label: str, target, run_path: Path) -> None:
    try:
        registry().start(kind, label, target, run_path=str(run_path))
    except JobBusyError as e:
        st.warning(str(e), icon=":material/hourglass:")


def job_status(kind: str, run_path: Path, polling: bool) -> None:
    """Progress, cancel and outcome of the run's newest `kind` job. Runs as a fragment that polls
    while the job runs; when it ends, the whole page reruns once to show the new results."""
    job = latest_job(kind, run_path)
    if job is None:
        return
    if polling and not job.running:
        st.rerun()
    show_job_progress(job)
    if job.running:
        st.button("Cancel", icon=":material/cancel:", key=f"cancel_{kind}", on_click=job.control.stop.set)
    elif job.state == "finished" and kind == "export":
        # export_zip renames the zip into place only once it validated, so a finished export is valid.
        st.success(f"Exported and validated: {job.result['validation']['count']:,} distinct 256×256 RGB JPEGs "
                   f"named image_00000.jpg onwards, in {job.result['seconds']:.0f} s.")
        for warning in job.result["warnings"]:
            st.warning(warning)


def job_panel(kind: str, run_path: Path) -> None:
    job = latest_job(kind, run_path)
    polling = bool(job and job.running)
    st.fragment(run_every=POLL_S if polling else None)(job_status)(kind, run_path, polling)


def export_manifest(zip_path: Path) -> dict | None:
    """The newest export manifest written for this zip (what it holds: step, checkpoint, seed...)."""
    for manifest in sorted(zip_path.parent.glob("*.json"), reverse=True):
        details, damaged = read_json_object(manifest)
        if damaged:  # a torn or edited manifest describes nothing: the others still may
            continue
        if Path(str(details.get("output", ""))) == zip_path.resolve():
            return details
    return None


def score_and_record(run_path: Path, zip_path: Path, reference: Path, max_images: int | None, details: dict,
                     callbacks, control) -> dict:
    result = evaluate(zip_path, reference, max_images=max_images, callbacks=callbacks, control=control)
    result.update({k: details.get(k) for k in ("step", "checkpoint", "seed")})
    append_score(run_path, result)
    return result


def export_options_form(translation: bool) -> dict:
    """The export's options as export_zip arguments: resolution and TTA only for translation runs."""
    columns = st.columns(4 if translation else 2)
    options = {}
    if translation:
        options["resolution"] = columns[-4].selectbox(
            "Resolution", RESOLUTIONS, RESOLUTIONS.index(DEFAULT_RESOLUTION), format_func=RESOLUTION_LABELS.get,
            help="The generator is fully convolutional: it can translate the 256 px photos directly, or at "
                 "the size it was trained at, the result then upsampled (antialiased bicubic).")
        options["tta"] = columns[-3].selectbox(
            "Test-time augmentation", TTAS, TTAS.index(DEFAULT_TTA), format_func=TTA_LABELS.get,
            help="Flip averages each translation with the mirrored translation of the mirrored photo: "
                 "twice the work.")
    subsamplings = list(SUBSAMPLINGS)
    options["subsampling"] = columns[-2].selectbox(
        "JPEG chroma subsampling", subsamplings, subsamplings.index(DEFAULT_SUBSAMPLING),
        format_func=SUBSAMPLING_LABELS.get)
    options["fp32"] = columns[-1].toggle("fp32 inference", help="Otherwise bf16 autocast where the device "
                                         "supports it: faster, within about 1 level of 255.")
    return options


def options_summary(details: dict) -> str:
    """How an export manifest says the images were made (older manifests say less)."""
    parts = []
    if details.get("source") == "photo translations" and "resolution" in details:
        parts += [f"{details['resolution']} resolution", f"TTA {details['tta']}"]
    if "subsampling" in details:
        parts.append(f"JPEG {':'.join(details['subsampling'])} q{details['quality']}")
    if "bf16" in details:
        parts.append("bf16" if details["bf16"] else "fp32")
    return "; " + ", ".join(parts) if parts else ""


def reference_paintings() -> Path | None:
    """The chosen dataset's monet_jpg/ folder, or the chosen competition zip (scored as its
    paintings), else the default reference."""
    chosen = dataset_path()
    candidates = [Path(chosen) / "monet_jpg", Path(chosen)] if chosen else []
    for candidate in candidates + [default_reference()]:
        if candidate.is_dir() and candidate.name == "monet_jpg" or zipfile.is_zipfile(candidate):
            return candidate
    return None


def image_bytes(container: Path, name: str) -> bytes | None:
    try:
        if container.is_dir():
            return (container / name).read_bytes()
        with zipfile.ZipFile(container) as archive:
            return archive.read(name)
    except (OSError, KeyError, zipfile.BadZipFile):
        return None


def local_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def scores_table(scores: list[dict]) -> pd.DataFrame:
    rows = [{"time": local_time(s["time"]), "FID": s["fid"], "KID": s["kid_mean"], "KID std": s["kid_std"],
             "MiFID": s["mifid"], "memorisation d": s["memorisation_distance"], "step": s.get("step"),
             "scored": f"{'estimate: ' if s.get('estimate') else ''}{s['n_generated']:,} images"}
            for s in reversed(scores)]
    return pd.DataFrame(rows)


def memorisation_gallery(score: dict) -> None:
    generated, reference = Path(score["images"]), Path(score["reference"])
    if generated.exists() and generated.stat().st_mtime > score["time"]:
        st.info("The zip was exported again after this score, so its images no longer match: score it again "
                "to see the closest pairs.")
        return
    pairs = score["memorisation"]
    for start in range(0, len(pairs), PAIRS_PER_ROW):
        for column, pair in zip(st.columns(PAIRS_PER_ROW), pairs[start:start + PAIRS_PER_ROW]):
            images = [image_bytes(generated, pair["generated"]), image_bytes(reference, pair["reference"])]
            if None in images:
                column.caption(f"{pair['generated']} / {pair['reference']}: file no longer readable")
                continue
            column.image(images, caption=["generated", "painting"], width=PAIR_IMAGE_PX)
            column.caption(f"**{pair['distance']:.3f}** · {Path(pair['generated']).stem} ↔ "
                           f"{Path(pair['reference']).stem}")


st.title("Export & score")
run = run_picker("Run", key="export_run")
checkpoint = checkpoint_picker(run, key="export_checkpoint") if run else None
if checkpoint is None:
    st.stop()
zip_path = run.path / "exports" / "images.zip"

st.header("Export images.zip", divider="gray")
with st.form("export_form"):
    left, right = st.columns(2)
    count = left.number_input("Images", 1, MAX_COUNT, MIN_SUBMISSION, step=500,
                              help=f"The competition accepts {MIN_SUBMISSION:,} to {MAX_COUNT:,}.")
    seed = right.number_input("Seed", 0, 2 ** 31 - 1, 0, help="Noise models: the z of `gan_core sample` for this "
                              "seed. Translation runs translate the photo set and ignore it.")
    options = export_options_form(run.config().get("model") in TRANSLATION_MODELS)
    st.caption(f"Writes `{zip_path}` (replacing any earlier export), validates it, and records a manifest.")
    if st.form_submit_button("Export", icon=":material/ios_share:", type="primary"):
        start_job("export", f"Export {count:,} images from {run.id}/{checkpoint.name}",
                  partial(export_zip, run.path, count=count, out=zip_path, seed=seed, checkpoint=checkpoint,
                          **options), run.path)
job_panel("export", run.path)

export_job = latest_job("export", run.path)
export_running = bool(export_job and export_job.running)
if zip_path.exists() and not export_running:
    st.download_button(f"Download images.zip ({zip_path.stat().st_size / 1e6:,.1f} MB)", zip_path.read_bytes,
                       key="download_zip", file_name="images.zip", mime="application/zip",
                       icon=":material/download:")
    made = local_time(zip_path.stat().st_mtime)
    details = export_manifest(zip_path)
    holds = (f"{details['count']:,} images from step {details.get('step')} (`{Path(details['checkpoint']).name}`, "
             f"seed {details['seed']}{options_summary(details)})" if details else "An export")
    st.caption(f"{holds}, made {made}. The file is read from disk only when you click.")

st.header("Score", divider="gray")
reference = reference_paintings()
if not zip_path.exists() or export_running:
    st.info("Export images.zip first: the score compares it with the Monet paintings.")
elif reference is None:
    st.warning("Scoring needs the Monet paintings (`monet_jpg/`): choose the competition dataset on the Home page.")
else:
    with st.form("score_form"):
        quick = st.checkbox("Quick estimate on a random subset", help="Scores fewer generated images: faster, "
                            "but FID is biased upwards on small sets, so compare estimates only with estimates.")
        max_images = st.number_input("Images in the estimate", 2, MAX_COUNT, QUICK_IMAGES)
        st.caption(f"Against `{reference}` (its Inception features are cached after the first score).")
        if st.form_submit_button("Score", icon=":material/leaderboard:", type="primary"):
            start_job("score", f"Score {run.id}/images.zip" + (f" (estimate, {max_images} images)" if quick else ""),
                      partial(score_and_record, run.path, zip_path, reference, max_images if quick else None,
                              export_manifest(zip_path) or {}), run.path)
    job_panel("score", run.path)

scores = run.scores()
if scores:
    latest = scores[-1]
    label = " (estimate)" if latest.get("estimate") else ""
    columns = st.columns(4)
    columns[0].metric(f"FID{label}", f"{latest['fid']:.2f}")
    columns[1].metric(f"KID{label} ± {latest['kid_std']:.4f}", f"{latest['kid_mean']:.4f}")
    columns[2].metric(f"MiFID{label}", f"{latest['mifid']:.2f}")
    columns[3].metric("Memorisation distance", f"{latest['memorisation_distance']:.3f}")
    if latest.get("estimate"):
        st.caption(f"Estimate: {latest['n_generated']:,} generated images scored against "
                   f"{latest['n_reference']:,} paintings, not the whole zip.")
    for side, skipped in (latest.get("skipped") or {}).items():
        if skipped:
            st.warning(f"{len(skipped)} unreadable {'generated' if side == 'images' else side} file(s) skipped, "
                       f"not scored: "
                       + "; ".join(f"{s['name']} ({s['reason']})" for s in skipped[:5])
                       + (" …" if len(skipped) > 5 else ""), icon=":material/broken_image:")
    st.subheader("Scores of this run")
    st.dataframe(scores_table(scores), hide_index=True)
    st.subheader("Closest generated / painting pairs")
    st.caption("The generated images nearest a painting in Inception feature space (distance 1 − |cos|): "
               "a very small distance suggests a memorised painting.")
    memorisation_gallery(latest)
