"""Sweep: batch sizes x learning rates of a noise GAN, each combination an ordinary run, launched in
the background; the sweep's table and a heatmap of one of its columns."""
import time

import plotly.graph_objects as go
import streamlit as st

from gan_core.config import NOISE_MODELS, build_config
from gan_core.device import select_device
from gan_core.runs import sweep_problem
from gan_core.sweep import DEFAULT_KID_SAMPLES, list_sweeps, load_sweep, plan_sweep, read_plan, resume_sweep, run_sweep
from studio.jobs import JobBusyError, registry
from studio.widgets import dataset_path, no_dataset_notice, runs_dir, show_job_progress

CHOSEN_KEY = "sweep_chosen"
HEATMAP_DEFAULT = "kid_mean"


def numbers(text: str, kind, what: str) -> list:
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{what}: expected comma-separated numbers, got {text!r}") from None


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


def new_sweep_form(dataset: str | None) -> None:
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
        device = right.selectbox("Device", ("auto", "cuda", "mps", "cpu"))
        launched = st.form_submit_button("Launch sweep", type="primary", icon=":material/play_arrow:",
                                         disabled=dataset is None)
    if not launched:
        return
    sweep_id = sweep_id.strip() or f"sweep-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        cfg = build_config(dict(data=dataset, model=model, image_size=image_size, epochs=int(epochs), steps=int(steps),
                                device=device, runs_dir=str(runs_dir())))
        select_device(device)  # says so now if this machine lacks it
        grid = numbers(batch_sizes, int, "batch sizes"), numbers(lrs, float, "learning rates")
        if (runs_dir() / sweep_id).exists():
            raise ValueError(f"{sweep_id} already exists: choose another sweep id, or resume it below")
        plan_sweep(cfg, *grid, sweep_id, int(kid_samples))  # written now, so the list below shows it at once
    except ValueError as e:
        st.error(str(e))
        return
    start(sweep_id, lambda callbacks, control: run_sweep(cfg, *grid, sweep_id, int(kid_samples), callbacks, control),
          device)


def heatmap(table, column: str) -> go.Figure:
    grid = table.pivot_table(index="batch_size", columns="lr", values=column)
    fig = go.Figure(go.Heatmap(z=grid.values, x=[f"{lr:g}" for lr in grid.columns], y=[str(b) for b in grid.index],
                               colorscale="Viridis", texttemplate="%{z:.4g}", colorbar=dict(title=column)))
    fig.update_layout(title=f"{column} by batch size and learning rate", xaxis_title="learning rate",
                      yaxis_title="batch size", xaxis_type="category", yaxis_type="category", height=420,
                      margin=dict(l=10, r=10, t=40, b=10))
    return fig


def sweep_view(folder) -> None:
    try:
        plan, table = read_plan(folder), load_sweep(folder)
    except ValueError as e:  # a damaged sweep.json or sweep.csv: the reason, not a traceback
        st.error(str(e), icon=":material/broken_image:")
        return
    base = plan["base_config"]
    bound = f"{base['steps']} steps" if base["steps"] else f"{base['epochs']} epochs"
    st.caption(f"{base['model']} at {base['image_size']} px, {bound} per run · batch sizes {plan['batch_sizes']} × "
               f"learning rates {plan['lrs']} · KID on {plan['kid_samples']} samples · "
               f"{len(table)} of {len(plan['runs'])} combinations done")
    job = job_for(plan["sweep_id"])
    if job is not None and job.running:
        if st.button("Stop", icon=":material/stop:", disabled=job.control.should_stop()):
            job.control.stop.set()
        show_job_progress(job)
        logs = [e.data["message"] for e in job.events.copy() if e.kind == "log"]
        if logs:
            st.caption(logs[-1])
    elif len(table) < len(plan["runs"]):
        if job is not None:
            show_job_progress(job)
        if st.button("Resume sweep", icon=":material/replay:", type="primary"):
            start(plan["sweep_id"], lambda callbacks, control: resume_sweep(folder, callbacks, control),
                  base["device"])
    if table.empty:
        st.info("No combination has finished yet.")
        return
    st.dataframe(table, hide_index=True)
    numeric = [c for c in table.columns if c not in ("batch_size", "lr") and table[c].dtype.kind in "fi"]
    column = st.selectbox("Heatmap of", numeric, index=numeric.index(HEATMAP_DEFAULT)
                          if HEATMAP_DEFAULT in numeric else 0)
    st.plotly_chart(heatmap(table, column), key="sweep_heatmap")


@st.fragment(run_every=2)
def live_sweep_view(folder) -> None:
    sweep_view(folder)
    job = job_for(folder.name)
    if job is None or not job.running:
        st.rerun(scope="app")  # ended: redraw once, without the timer


st.title("Sweep")
dataset = dataset_path()
sweeps = {folder.name: folder for folder in list_sweeps(runs_dir())}
with st.expander("New sweep", expanded=not sweeps, icon=":material/grid_on:"):
    if dataset is None:
        no_dataset_notice()
    new_sweep_form(dataset)

st.subheader("Sweeps")
if not sweeps:
    st.info(f"No sweeps in `{runs_dir()}` yet: launch one above, or run `python -m gan_core sweep`.",
            icon=":material/grid_on:")
    st.stop()
damaged = {name: problem for name, folder in sweeps.items() if (problem := sweep_problem(folder))}
for name, problem in damaged.items():
    st.warning(f"Sweep `{name}` is damaged: {problem}. Its runs still show on the Runs page.",
               icon=":material/broken_image:")
if st.session_state.get(CHOSEN_KEY) not in sweeps:
    st.session_state.pop(CHOSEN_KEY, None)  # deleted meanwhile
# The usable sweeps first, so the one shown at first is one that can be shown.
choices = [name for name in sweeps if name not in damaged] + [name for name in sweeps if name in damaged]
chosen = st.selectbox("Sweep", choices, key=CHOSEN_KEY,
                      format_func=lambda name: f"{name} (damaged)" if name in damaged else name)
job = job_for(chosen)
(live_sweep_view if job is not None and job.running else sweep_view)(sweeps[chosen])
