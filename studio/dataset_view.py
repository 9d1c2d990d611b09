"""Home's dataset panel: choosing the dataset (path, upload, environment) and its inspection
report, computed once per path in a background job and then kept by st.cache_data."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from gan_core.data import InspectionReport, inspect_dataset
from gan_core.uploads import ArchiveError, save_upload
from studio import settings
from studio.datasets import dataset_problem, known_datasets, uploads_dir
from studio.jobs import registry
from studio.widgets import choose_dataset, dataset_path, show_job_progress
from studio.tables import show_table

MAX_UPLOAD_MB = 512            # matches server.maxUploadSize in .streamlit/config.toml
MAX_UNCOMPRESSED = 2 * 2**30   # the competition zip expands to well under 1 GiB
POLL_S = 1.0


@st.cache_data(show_spinner=False, max_entries=16)
def inspection(path: str, stamp: float, _callbacks=None) -> dict:
    """The report for path (stamp: its mtime, so a changed dataset is inspected again)."""
    return inspect_dataset(path, callbacks=_callbacks).to_dict()


def _stamp(path: str) -> float:
    return os.stat(path).st_mtime


def _start_inspection(path: str):
    stamp = _stamp(path)
    return registry().start("inspect", f"Inspecting {path}",
                            lambda callbacks, control: inspection(path, stamp, callbacks), exclusive=False)


def dataset_report(path: str) -> InspectionReport | None:
    """The inspection report, or None while the background job decodes the dataset (the first
    time only: the engine caches the decoded images) or when it could not."""
    job = next((j for j in registry().jobs("inspect") if j.label == f"Inspecting {path}"), None)
    job = job or _start_inspection(path)
    if job.running:
        _inspection_progress(job.id, time.monotonic())
        return None
    if job.state == "failed":
        st.error(f"Cannot read {path}: {job.error}")
        if st.button("Inspect again", icon=":material/refresh:"):
            _start_inspection(path)
            st.rerun()
        return None
    return InspectionReport.from_dict(inspection(path, _stamp(path)))


@st.fragment(run_every=POLL_S)
def _inspection_progress(job_id: str, drawn: float) -> None:
    job = registry().get(job_id)
    # Once the job ends the whole page reruns to show the report, but only from the fragment's own
    # reruns (they keep `drawn`, the time the page drew it): a rerun inside the page's run would
    # drop the click it is handling (a dataset chosen below, while this dataset's job just ended).
    if not job.running and time.monotonic() - drawn >= POLL_S / 2:
        st.rerun()
    st.caption("Decoding the dataset once; later visits read the cache.")
    show_job_progress(job)


def show_report(report: InspectionReport) -> None:
    columns = st.columns(4 + len(report.counts))
    columns[0].metric("Usable images", f"{report.total:,}")
    for column, (domain, count) in zip(columns[1:], sorted(report.counts.items())):
        column.metric(domain, f"{count:,}")
    columns[-3].metric("Skipped", len(report.skipped))
    columns[-2].metric("Converted", len(report.converted))
    columns[-1].metric("Resized", report.resized)
    st.caption(f"{report.kind} dataset · decoded at {report.image_size}×{report.image_size} · "
               f"{report.channels} channel{'s' if report.channels > 1 else ''}")
    for title, entries, what in (("Skipped files", report.skipped, "reason"),
                                 ("Converted files", report.converted, "conversion")):
        if entries:
            with st.expander(f"{title} ({len(entries)})"):
                show_table(pd.DataFrame(entries, columns=["file", what]))


def dataset_chooser() -> None:
    by_path, by_upload, by_env = st.tabs(["Folder or file path", "Upload the competition zip", "Known datasets"])
    with by_path:
        with st.form("dataset_path_form", border=False):
            typed = st.text_input("Dataset path", placeholder="/data/gan-getting-started or /data/MNIST/raw",
                                  help="A competition folder or zip, an image folder, *.tfrec, or MNIST's raw/ "
                                       "folder.")
            if st.form_submit_button("Use this dataset") and typed:
                _choose(typed.strip())
    with by_upload:
        _upload()
    with by_env:
        known = known_datasets(settings.load().recent)
        if not known:
            st.caption("Set `GAN_STUDIO_DATA` (and `GAN_STUDIO_MNIST`) before starting the studio, upload "
                       "a zip, or choose a path: they are listed here, and kept across restarts.")
        for label, path in known.items():
            if st.button(label, key=f"known_{label}", icon=":material/folder_open:"):
                _choose(path)


def _choose(path: str) -> None:
    """Use path when it can be read (a zip must open and hold images); else say why in one line,
    and the dataset in use stays the one it was."""
    problem = dataset_problem(path)
    if problem:
        st.error(problem, icon=":material/folder_off:")
        return
    choose_dataset(str(Path(path).expanduser()))
    st.rerun()


def _upload() -> None:
    uploaded = st.file_uploader("gan-getting-started.zip", type="zip", max_upload_size=MAX_UPLOAD_MB,
                                help=f"At most {MAX_UPLOAD_MB} MB. Kept in {uploads_dir()}.")
    if uploaded is None or st.session_state.get("accepted_upload") == uploaded.file_id:
        return
    try:
        with st.spinner("Checking the archive…"):
            saved = save_upload(uploaded, uploaded.name, uploads_dir(), MAX_UPLOAD_MB * 2**20, MAX_UNCOMPRESSED)
    except ArchiveError as e:  # one line naming the archive and what to do; nothing was kept
        st.error(str(e), icon=":material/folder_zip:")
        return
    except OSError as e:  # the uploads folder itself: full disk, permissions
        st.error(f"Cannot keep {uploaded.name} in {uploads_dir()}: {e.strerror or e}. Free some space or set "
                 f"GAN_STUDIO_UPLOADS to a writable folder.", icon=":material/folder_zip:")
        return
    st.session_state["accepted_upload"] = uploaded.file_id
    st.toast(f"Accepted {uploaded.name}: it is now the dataset in use.", icon=":material/check_circle:")
    choose_dataset(str(saved))
    st.rerun()


def current_dataset_panel() -> None:
    path = dataset_path()
    if path is None:
        return
    st.markdown(f"**In use:** `{path}`")
    report = dataset_report(path)
    if report is not None:
        show_report(report)
