"""The Export & score page's widgets: the export options, the background job panels, the list of
exports with its picker, download and delete, a score's figures and its memorisation gallery.
What they compute (names, manifests, which score belongs to which zip) is in studio.exports."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from gan_core.export_options import (COLOURS, DEFAULT_COLOUR, DEFAULT_RESOLUTION, DEFAULT_SUBSAMPLING, DEFAULT_TTA,
                                     JPEG_QUALITY, RESOLUTIONS, SUBSAMPLINGS, TTAS)
from gan_core.runs import Run
from studio.exports import DOWNLOAD_NAME, Export, delete_export, describe, exports_table, image_bytes, score_problem
from studio.jobs import JobBusyError, registry
from studio.widgets import show_job_progress
from studio.tables import show_table

POLL_S = 1.0
PAIRS_PER_ROW = 4
PAIR_IMAGE_PX = 96
CHOICE_KEY = "export_choice"
SEEN_EXPORT_KEY = "export_choice__followed_job"
DELETE_NOTE_KEY = "export_delete__note"
RESOLUTION_LABELS = {"native": "Native: translate at 256 px", "training": "Training size, then resize to 256"}
TTA_LABELS = {"none": "None", "flip": "Flip: mean with the mirrored photo's"}
SUBSAMPLING_LABELS = {"444": "4:4:4 (full colour)", "420": "4:2:0 (half colour, smaller)"}
COLOUR_LABELS = {"none": "None", "mean-std": "Match the paintings' mean and spread",
                 "histogram": "Match the paintings' histograms"}


# --- background jobs ------------------------------------------------------------------------------
def latest_job(kind: str, run_path: Path):
    return next((j for j in registry().jobs(kind) if j.run_path and Path(j.run_path) == run_path), None)


def job_running(run_path: Path) -> bool:
    return any(j.running for kind in ("export", "score") if (j := latest_job(kind, run_path)))


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
        st.success(f"Exported and validated `{Path(job.result['path']).name}`: "
                   f"{job.result['validation']['count']:,} distinct 256×256 RGB JPEGs named image_00000.jpg "
                   f"onwards, in {job.result['seconds']:.0f} s.")
        for warning in job.result["warnings"]:
            st.warning(warning)


def job_panel(kind: str, run_path: Path) -> None:
    job = latest_job(kind, run_path)
    polling = bool(job and job.running)
    st.fragment(run_every=POLL_S if polling else None)(job_status)(kind, run_path, polling)


# --- exporting ------------------------------------------------------------------------------------
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
    options["quality"] = columns[-1].number_input(
        "JPEG quality", 1, 100, JPEG_QUALITY, help=f"1 to 100. {JPEG_QUALITY} is the quality of the competition's own "
        f"JPEGs, and scored better than 95 (bench/RESULTS.md).")
    options["colour"] = st.columns(2)[0].selectbox(
        "Colour calibration", COLOURS, COLOURS.index(DEFAULT_COLOUR), format_func=COLOUR_LABELS.get,
        help="One table per RGB channel, computed from the first 512 images, moves the colours of the whole "
             "export toward the run's Monet paintings (bench/RESULTS.md has the measured effect).")
    options["fp32"] = st.toggle("fp32 inference", help="Otherwise bf16 autocast where the device supports it: "
                                "faster, within about 1 level of 255.")
    return options


# --- the exports ----------------------------------------------------------------------------------
def export_picker(run: Run, exports: list[Export]) -> Export | None:
    """The run's exports as a table, newest first, and a picker (the newest by default; the one just
    exported once its job finishes); the chosen export."""
    if not exports:
        return None
    by_name = {e.name: e for e in exports}
    job = latest_job("export", run.path)
    if job is not None and job.state == "finished" and st.session_state.get(SEEN_EXPORT_KEY) != job.id:
        st.session_state[SEEN_EXPORT_KEY] = job.id  # follow a new export once, then leave the choice alone
        st.session_state[CHOICE_KEY] = Path(job.result["path"]).name
    if st.session_state.get(CHOICE_KEY) not in by_name:
        st.session_state.pop(CHOICE_KEY, None)  # deleted, or another run's
    show_table(exports_table(exports), key="exports_table", column_config={
        "MB": st.column_config.NumberColumn("Size (MB)", format="%.1f"),
        "latest FID": st.column_config.NumberColumn("Latest FID", format="%.2f"),
        "latest MiFID": st.column_config.NumberColumn("Latest MiFID", format="%.2f"),
    })
    choice = st.selectbox("Export", list(by_name), key=CHOICE_KEY, help="The zip to download, score or delete.",
                          format_func=lambda n: f"{n} · step {by_name[n].step}" if by_name[n].step is not None
                          else n)
    return by_name.get(choice)


def _delete(run_path: Path, export: Export, sure_key: str) -> None:
    """The Delete button's callback: only once "I'm sure" is ticked."""
    if not st.session_state.get(sure_key):
        st.session_state[DELETE_NOTE_KEY] = ("warning", f"Tick “I'm sure” to delete `{export.name}`.")
        return
    try:
        removed = delete_export(run_path, export.path, confirmed=True)
    except (OSError, ValueError) as e:
        st.session_state[DELETE_NOTE_KEY] = ("error", f"Could not delete `{export.name}`: {e}")
        return
    st.session_state.pop(sure_key, None)
    st.session_state[DELETE_NOTE_KEY] = ("success", "Deleted " + ", ".join(f"`{p.name}`" for p in removed) + ".")


def export_actions(run: Run, export: Export) -> None:
    """What the chosen export holds; download it (as images.zip); delete it, once confirmed."""
    st.caption(f"{describe(export)}. The file is read from disk only when you click.")
    left, middle, right = st.columns([2, 1, 1], vertical_alignment="center")
    left.download_button(f"Download {DOWNLOAD_NAME} ({export.size / 1e6:,.1f} MB)", export.path.read_bytes,
                         key="download_zip", file_name=DOWNLOAD_NAME, mime="application/zip",
                         icon=":material/download:", help=f"`{export.name}`, saved as {DOWNLOAD_NAME}: the name "
                                                          "Kaggle expects.")
    busy = job_running(run.path)
    sure_key = f"export_delete_sure__{export.name}"
    middle.checkbox("I'm sure", key=sure_key, disabled=busy,
                    help=f"Deleting removes `{export.name}` and its manifest, and cannot be undone.")
    right.button("Delete", icon=":material/delete:", key="export_delete", disabled=busy,
                 on_click=_delete, args=(run.path, export, sure_key),
                 help="Not while an export or a score of this run is running." if busy else None)


def delete_notice() -> None:
    """What the last Delete click did (deleted, or why not), once."""
    note = st.session_state.pop(DELETE_NOTE_KEY, None)
    if note:
        getattr(st, note[0])(note[1])


# --- scores ---------------------------------------------------------------------------------------
def score_metrics(score: dict) -> None:
    label = " (estimate)" if score.get("estimate") else ""
    columns = st.columns(4)
    columns[0].metric(f"FID{label}", f"{score['fid']:.2f}")
    columns[1].metric(f"KID{label} ± {score['kid_std']:.4f}", f"{score['kid_mean']:.4f}")
    columns[2].metric(f"MiFID{label}", f"{score['mifid']:.2f}")
    columns[3].metric("Memorisation distance", f"{score['memorisation_distance']:.3f}")
    if score.get("estimate"):
        st.caption(f"Estimate: {score['n_generated']:,} generated images scored against "
                   f"{score['n_reference']:,} paintings, not the whole zip.")
    for side, skipped in (score.get("skipped") or {}).items():
        if skipped:
            st.warning(f"{len(skipped)} unreadable {'generated' if side == 'images' else side} file(s) skipped, "
                       f"not scored: "
                       + "; ".join(f"{s['name']} ({s['reason']})" for s in skipped[:5])
                       + (" …" if len(skipped) > 5 else ""), icon=":material/broken_image:")


def memorisation_gallery(score: dict) -> None:
    """The closest generated/painting pairs, read from the very zip the score was made from."""
    problem = score_problem(score)
    if problem:
        st.info(problem)
        return
    generated, reference = Path(score["images"]), Path(score["reference"])
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
