"""The Train page's launch flow: settings -> background job -> the live view follows the new run
once its directory exists (the job first loads the data, which can take a while)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from gan_core.config import TrainConfig
from gan_core.estimate import estimate_training
from studio import training
from studio.datasets import dataset_problem
from studio.fork_view import cancel_fork, pending_fork
from studio.jobs import JobBusyError, registry
from studio.estimate_view import describe_training, show_estimate, start_estimate
from studio.train_form import config_from_form
from studio.widgets import runs_dir, show_job_progress

RUN_KEY = "train_run"          # the live view's run picker
PENDING_KEY = "train_pending"  # id of the job this session launched, until its run directory exists
FOLLOW_KEY = "train_follow"    # run id the picker should switch to on the next full run
ESTIMATE_KEY = "train_estimate"  # id of this session's latest estimate job


def checked_config(values: dict, preset: str, model: str, verb: str) -> TrainConfig | None:
    """The form's settings as a TrainConfig, or None after an error that names what is wrong."""
    if "data" in values:  # the form's Data field may have been edited to a path that cannot be read
        data = str(values["data"] or "").strip()
        problem = dataset_problem(data) if data else "no dataset path given"
        if problem:
            st.error(f"Cannot {verb}: {problem}. Choose a dataset on the Home page, or give a readable path in "
                     f"Data.", icon=":material/folder_off:")
            return None
    try:
        return config_from_form(values, preset, model, str(runs_dir()))
    except ValueError as e:
        st.error(f"Cannot {verb}: {e}")
        return None


def start_from_form(values: dict, preset: str, model: str) -> None:
    fork = pending_fork()
    cfg = checked_config(values, preset, model, "launch")
    if cfg is None:
        return
    try:
        job = training.launch(cfg)
    except (ValueError, JobBusyError) as e:
        st.error(str(e))
        return
    if fork:
        cancel_fork()  # launched: the form goes back to a new run's defaults
    st.session_state[PENDING_KEY] = job.id
    st.toast(f"{job.label} started on {job.device}", icon=":material/rocket_launch:")


def follow_new_run() -> None:
    """Call before the run picker: points it at a run launched in this session."""
    follow = st.session_state.pop(FOLLOW_KEY, None)
    if follow and (runs_dir() / follow / "config.json").exists():
        st.session_state[RUN_KEY] = follow


def _run_exists(job) -> bool:
    return bool(job.run_path) and (Path(job.run_path) / "config.json").exists()


def pending_launch() -> None:
    """Training jobs still loading their data (no run directory yet: the run picker cannot list
    them), and why this session's launch failed if it did so before its first step."""
    mine = registry().get(st.session_state.get(PENDING_KEY) or "")
    if mine is not None and _run_exists(mine):
        _follow(mine)
    if mine is not None and not mine.running:
        st.error(f"{mine.label} failed before its first step: {mine.error or mine.state}")
    loading = [job.id for job in registry().active("train") if not _run_exists(job)]
    if loading:
        _loading(tuple(loading))


def _follow(job) -> None:
    st.session_state.pop(PENDING_KEY, None)
    st.session_state[FOLLOW_KEY] = Path(job.run_path).name
    st.rerun()


@st.fragment(run_every=1)
def _loading(job_ids: tuple[str, ...]) -> None:
    jobs = [registry().get(job_id) for job_id in job_ids]
    if any(_run_exists(job) or not job.running for job in jobs):
        st.rerun()  # the whole page: the run picker lists the new run, or the error shows
    for job in jobs:
        st.caption(f"{job.label}: loading the data and building the model…")
        show_job_progress(job)


def estimate_from_form(values: dict, preset: str, model: str) -> None:
    """Check the settings, then time a few steps of them in the background (gan_core.estimate)."""
    cfg = checked_config(values, preset, model, "estimate")
    if cfg is not None:
        start_estimate(ESTIMATE_KEY, f"Estimating {cfg.run_id or 'the new run'}", cfg.device,
                       lambda callbacks, control: estimate_training(cfg, callbacks=callbacks, control=control))


def estimate_panel() -> None:
    show_estimate(ESTIMATE_KEY, describe_training)
