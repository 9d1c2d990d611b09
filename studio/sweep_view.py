"""The Sweep page's pieces: the new-sweep form and what turns its fields into a planned sweep, the
background job that runs a sweep, and a sweep's view (its caption, table and heatmap, live while its
job runs). Planning, running and reading sweeps is gan_core.sweep's."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gan_core.config import NOISE_MODELS, TrainConfig, build_config
from gan_core.device import select_device
from gan_core.estimate import estimate_runs
from gan_core.runs import load_sweep
from gan_core.sweep import DEFAULT_KID_SAMPLES, combinations, plan_sweep, read_plan, resume_sweep, run_sweep
from studio.estimate_view import describe_sweep, show_estimate, start_estimate
from studio.jobs import JobBusyError, registry
from studio.widgets import runs_dir, show_job_progress
from studio.tables import show_table

CHOSEN_KEY = "sweep_chosen"
ESTIMATE_KEY = "sweep_estimate"
HEATMAP_DEFAULT = "kid_mean"
DEVICES = ("auto", "cuda", "mps", "cpu")


# --- the new-sweep form -------------------------------------------------------------------------------
def numbers(text: str, kind, what: str) -> list:
    """A comma-separated list ("32, 64,") as numbers of kind; ValueError naming `what` otherwise."""
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{what}: expected comma-separated numbers, got {text!r}") from None


def sweep_id_or_default(typed: str) -> str:
    """The sweep id typed, else sweep-<date>-<time>."""
    return typed.strip() or f"sweep-{time.strftime('%Y%m%d-%H%M%S')}"


@dataclass
class NewSweep:
    cfg: TrainConfig
    batch_sizes: list[int]
    lrs: list[float]
    sweep_id: str
    kid_samples: int
    configs: list[TrainConfig]  # one per combination, checked

    def run(self, callbacks, control):
        return run_sweep(self.cfg, self.batch_sizes, self.lrs, self.sweep_id, self.kid_samples, callbacks, control)


def new_sweep(dataset: str, model: str, batch_sizes: str, lrs: str, image_size: int, epochs: int, steps: int,
              kid_samples: int, sweep_id: str, device: str, runs: Path) -> NewSweep:
    """The form's fields as a sweep, checked. ValueError naming what is wrong: a setting, a device
    this machine lacks, a list that is not numbers, or a sweep id already taken."""
    cfg = build_config(dict(data=dataset, model=model, image_size=image_size, epochs=int(epochs), steps=int(steps),
                            device=device, runs_dir=str(runs)))
    select_device(device)  # says so now if this machine lacks it
    grid = numbers(batch_sizes, int, "batch sizes"), numbers(lrs, float, "learning rates")
    if (runs / sweep_id).exists():
        raise ValueError(f"{sweep_id} already exists: choose another sweep id, or resume it below")
    configs = combinations(cfg, *grid, sweep_id)  # raises for invalid combinations
    return NewSweep(cfg, *grid, sweep_id, int(kid_samples), configs)


def plan_new_sweep(*fields, **named) -> NewSweep:
    """new_sweep(...), with its sweep.json written now (so the list of sweeps shows it at once)."""
    sweep = new_sweep(*fields, **named)
    plan_sweep(sweep.cfg, sweep.batch_sizes, sweep.lrs, sweep.sweep_id, sweep.kid_samples)
    return sweep


def new_sweep_form(dataset: str | None) -> None:
    """The grid and base settings; Launch plans the sweep and starts it in the background."""
    with st.form("sweep_settings"):
        left, middle, right = st.columns(3)
        model = left.selectbox("Model", NOISE_MODELS)
        batch_sizes = middle.text_input("Batch sizes", "32,64,100")
        lrs = right.text_input("Learning rates (G and D)", "1e-4,2e-4,3e-4")
        image_size = left.selectbox("Image size", (32, 64, 128), index=1)
        epochs = middle.number_input("Epochs", min_value=1, value=5)
        steps = right.number_input("Steps (0: bounded by epochs)", min_value=0, value=0)
        kid_samples = left.number_input("KID samples", min_value=2, value=DEFAULT_KID_SAMPLES,
                                        help="Generated images per combination, scored against as many Monet "
                                             "paintings (all of them when fewer).")
        sweep_id = middle.text_input("Sweep id", "", placeholder="sweep-<date>-<time>")
        device = right.selectbox("Device", DEVICES)
        buttons = st.columns([1, 3])
        launched = buttons[0].form_submit_button("Launch sweep", type="primary", icon=":material/play_arrow:",
                                                 disabled=dataset is None)
        estimated = buttons[1].form_submit_button("Check and estimate time", icon=":material/timer:",
                                                  disabled=dataset is None,
                                                  help="Checks the settings, then times a few steps of each batch "
                                                       "size on this machine.")
    if launched or estimated:
        fields = (dataset, model, batch_sizes, lrs, image_size, epochs, steps, kid_samples,
                  sweep_id_or_default(sweep_id), device, runs_dir())
        try:
            sweep = plan_new_sweep(*fields) if launched else new_sweep(*fields)
        except ValueError as e:
            st.error(str(e))
            return
        if launched:
            start(sweep.sweep_id, sweep.run, device)  # reruns the page once started
            return
        start_estimate(ESTIMATE_KEY, f"Estimating {sweep.sweep_id}", device,
                       lambda callbacks, control: estimate_runs(sweep.configs, callbacks=callbacks, control=control))
    show_estimate(ESTIMATE_KEY, describe_sweep)


# --- the background job -------------------------------------------------------------------------------
def job_for(sweep_id: str):
    return next((j for j in registry().jobs("sweep") if j.label == f"Sweep {sweep_id}"), None)


def start(sweep_id: str, target, device: str) -> None:
    try:
        registry().start("sweep", f"Sweep {sweep_id}", target, device=None if device == "auto" else device)
    except JobBusyError as e:
        st.error(str(e))
        return
    st.session_state[CHOSEN_KEY] = sweep_id
    st.rerun()


# --- a sweep's view -----------------------------------------------------------------------------------
def sweep_choices(names, damaged) -> list[str]:
    """The usable sweeps first, so the one shown at first is one that can be shown."""
    return [name for name in names if name not in damaged] + [name for name in names if name in damaged]


def plan_caption(plan: dict, done: int) -> str:
    base = plan["base_config"]
    bound = f"{base['steps']} steps" if base["steps"] else f"{base['epochs']} epochs"
    return (f"{base['model']} at {base['image_size']} px, {bound} per run · batch sizes {plan['batch_sizes']} × "
            f"learning rates {plan['lrs']} · KID on {plan['kid_samples']} samples · "
            f"{done} of {len(plan['runs'])} combinations done")


def heatmap_columns(table: pd.DataFrame) -> tuple[list[str], int]:
    """The numeric columns a heatmap can show (not the grid's own), and the index of the default one."""
    numeric = [c for c in table.columns if c not in ("batch_size", "lr") and table[c].dtype.kind in "fi"]
    return numeric, numeric.index(HEATMAP_DEFAULT) if HEATMAP_DEFAULT in numeric else 0


def heatmap(table: pd.DataFrame, column: str) -> go.Figure:
    grid = table.pivot_table(index="batch_size", columns="lr", values=column)
    fig = go.Figure(go.Heatmap(z=grid.values, x=[f"{lr:g}" for lr in grid.columns], y=[str(b) for b in grid.index],
                               colorscale="Viridis", texttemplate="%{z:.4g}", colorbar=dict(title=column)))
    fig.update_layout(title=f"{column} by batch size and learning rate", xaxis_title="learning rate",
                      yaxis_title="batch size", xaxis_type="category", yaxis_type="category", height=420,
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def job_controls(folder: Path, plan: dict, done: int) -> None:
    """Stop and progress while its job runs; Resume (and the last job's progress) when unfinished."""
    job = job_for(plan["sweep_id"])
    if job is not None and job.running:
        if st.button("Stop", icon=":material/stop:", disabled=job.control.should_stop()):
            job.control.stop.set()
        show_job_progress(job)
        logs = [e.data["message"] for e in job.events.copy() if e.kind == "log"]
        if logs:
            st.caption(logs[-1])
    elif done < len(plan["runs"]):
        if job is not None:
            show_job_progress(job)
        if st.button("Resume sweep", icon=":material/replay:", type="primary"):
            start(plan["sweep_id"], lambda callbacks, control: resume_sweep(folder, callbacks, control),
                  plan["base_config"]["device"])


def sweep_view(folder: Path) -> None:
    try:
        plan, table = read_plan(folder), load_sweep(folder)
    except ValueError as e:  # a damaged sweep.json or sweep.csv: the reason, not a traceback
        st.error(str(e), icon=":material/broken_image:")
        return
    st.caption(plan_caption(plan, len(table)))
    job_controls(folder, plan, len(table))
    if table.empty:
        st.info("No combination has finished yet.")
        return
    show_table(table)
    numeric, default = heatmap_columns(table)
    column = st.selectbox("Heatmap of", numeric, index=default)
    st.plotly_chart(heatmap(table, column), key="sweep_heatmap")


@st.fragment(run_every=2)
def live_sweep_view(folder: Path) -> None:
    sweep_view(folder)
    job = job_for(folder.name)
    if job is None or not job.running:
        st.rerun(scope="app")  # ended: redraw once, without the timer


def show_sweep(folder: Path) -> None:
    """The sweep, redrawn every 2 s while its job runs."""
    job = job_for(folder.name)
    (live_sweep_view if job is not None and job.running else sweep_view)(folder)
