"""Time estimates before a long job (a training, a sweep, a score): a background job that times a few steps
(gan_core.estimate), its progress while it runs, then what it found."""
from __future__ import annotations

from typing import Callable

import streamlit as st

from gan_core.estimate import ScoringEstimate, TrainingEstimate
from studio.jobs import JobBusyError, registry
from studio.widgets import format_duration, show_job_progress


def start_estimate(key: str, label: str, device: str, target: Callable) -> None:
    """Start target(callbacks, control) as this session's estimate under `key`."""
    try:
        job = registry().start("estimate", label, target, device=None if device == "auto" else device)
    except JobBusyError as e:
        st.error(f"Cannot estimate now: {e} (a step timed beside it would read slow).")
        return
    st.session_state[key] = job.id


def show_estimate(key: str, describe: Callable[[object], str]) -> None:
    """The estimate under `key`: its progress while it runs, then describe(result), or why it failed."""
    job = registry().get(st.session_state.get(key) or "")
    if job is None:
        return
    if job.running:
        _estimating(job.id)
    elif job.state == "failed":
        st.error(f"Cannot estimate: {job.error}", icon=":material/timer_off:")
    elif job.result is not None:
        st.info(describe(job.result), icon=":material/timer:")


@st.fragment(run_every=1)
def _estimating(job_id: str) -> None:
    job = registry().get(job_id)
    if not job.running:
        st.rerun()
    show_job_progress(job)


ON_TOP = "quality probes, sample grids and checkpoints come on top"


def describe_training(estimate: TrainingEstimate) -> str:
    return (f"**{estimate.total_steps:,} steps**: {estimate.train_images:,} training images, "
            f"{estimate.steps_per_epoch:,} steps per epoch. Measured on {estimate.device}: "
            f"{estimate.seconds_per_step:.3g} s per step (median of {estimate.timed_steps}), so about "
            f"**{format_duration(estimate.seconds)}** of training steps; {ON_TOP}.")


def describe_sweep(estimates: list[TrainingEstimate]) -> str:
    """One estimate per combination (gan_core.estimate.estimate_runs)."""
    steps = sum(e.total_steps for e in estimates)
    per_batch = {}
    for e in estimates:
        per_batch.setdefault(e.batch_size, e)
    timings = ", ".join(f"batch {b}: {e.seconds_per_step:.3g} s per step ({e.total_steps:,} steps)"
                        for b, e in per_batch.items())
    return (f"**{len(estimates)} runs, {steps:,} steps** in all. Measured on {estimates[0].device}: {timings}. "
            f"About **{format_duration(sum(e.seconds for e in estimates))}** of training steps; each run's KID "
            f"score and {ON_TOP}.")


def describe_scoring(estimate: ScoringEstimate) -> str:
    paintings = ("the paintings' features are cached" if estimate.reference_cached else
                 f"the {estimate.n_reference:,} paintings' features are computed first, then cached")
    return (f"Scoring **{estimate.n_generated:,} images** takes about **{format_duration(estimate.seconds)}** "
            f"on {estimate.device} ({estimate.seconds_per_image:.3g} s per image measured; {paintings}).")
