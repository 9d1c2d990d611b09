"""The Train page's live view of one run. It reads the run directory (the source of truth, so a
restarted studio shows every run as it was) and refreshes itself every REFRESH_S while the run is
active; the job registry is only asked for the controls. metrics.jsonl is followed incrementally
(studio.metrics_feed: a refresh reads only the rows written since the last one) and the charts
draw downsampled curves, so a refresh of a 60,000-step run costs tens of milliseconds of CPU, not
a second (bench/live_view.py)."""
from __future__ import annotations

import math
from pathlib import Path

import streamlit as st

from gan_core.config import TRANSLATION_MODELS, train_command
from gan_core.events import read_request, send_request
from gan_core.runs import ACTIVE_STATES, Run
from studio import charts, training
from studio.fork_view import HINT as FORK_HINT, fork_panel
from studio.jobs import Job, JobBusyError, registry, run_state
from studio.metrics_feed import MetricsFeed
from studio.quality_view import quality_section, show_collapse_warnings
from studio.samples import evolution_gif, step_number
from studio.widgets import chart_controls, dataset_path, format_duration

REFRESH_S = 2
STATE_BADGES = {"running": ":blue-badge[running]", "paused": ":orange-badge[paused]",
                "stopped": ":gray-badge[stopped]", "finished": ":green-badge[finished]",
                "failed": ":red-badge[failed]", "interrupted": ":orange-badge[interrupted]",
                "elsewhere": ":violet-badge[running in another process]", "damaged": ":red-badge[damaged]"}


def live_view(run: Run) -> None:
    job = registry().for_run(run.path, "train")
    state = run_state(run, job)
    if state in ACTIVE_STATES or state == "elsewhere" or (job is not None and job.running):
        _refreshing_panel(str(run.path), state)
    else:
        _panel(str(run.path))


@st.cache_resource(max_entries=32, show_spinner=False)
def feed(metrics_path: str) -> MetricsFeed:
    """A run's metrics.jsonl, read incrementally: one reader per file, shared by every rerun and tab."""
    return MetricsFeed(metrics_path)


@st.fragment(run_every=REFRESH_S)
def _refreshing_panel(run_path: str, shown_state: str) -> None:
    state = _panel(run_path)
    if state != shown_state:
        st.rerun(scope="app")  # e.g. finished: the whole page redraws, without the timer


def _panel(run_path: str) -> str:
    run = Run(Path(run_path))
    job = registry().for_run(run.path, "train")
    state = run_state(run, job)
    status = run.status()
    frame, recent = feed(str(run.metrics_path)).update()
    top = st.columns([3, 2], vertical_alignment="center")
    top[0].markdown(f"#### {run.id} {STATE_BADGES.get(state, state)}")
    with top[1]:
        _controls(run, job, state)
    config = run.config()  # read once per refresh: progress, sample caption and command use it
    _progress(recent, status, state, config)
    if state == "failed":
        st.error(status.get("message") or (job.error if job else None) or "the run failed")
        st.info(FORK_HINT, icon=":material/fork_right:")
        _fork(run, expanded=True)  # right here, not at the bottom of the page
    elif state == "interrupted":
        st.warning("This run stopped without saying so (the studio or its process was killed). "
                   "Resume continues from its newest checkpoint.")
    elif state == "elsewhere":
        pending = read_request(run.path, since=status.get("updated", 0))
        st.caption("Another process (the command line, torchrun) is training this run: Pause and Stop ask it "
                   "between steps" + (f"; asked to {pending}, waiting for its next step." if pending else "."))
    elif status.get("message"):
        st.caption(status["message"])
    if job and job.error and state != "failed":
        st.error(job.error)
    show_collapse_warnings(run)
    _charts_and_samples(run, frame, config)
    if state != "failed":
        _fork(run, expanded=False)
    _command(config)
    return state


def _command(config: dict) -> None:
    if not config:
        return
    with st.expander("Command line", icon=":material/terminal:"):
        st.code(train_command(config), language="bash", wrap_lines=True)
        st.caption("The exact settings of this run as a `train` command (copy button on the right); add "
                   "`--resume` to continue this run, or change `--run-id` to train it again.")


def _fork(run: Run, expanded: bool) -> None:
    with st.expander("Fork", icon=":material/fork_right:", expanded=expanded):
        fork_panel(run)


def _remote_controls(run: Run) -> None:
    """Pause, continue and stop a run another process trains (CLI, torchrun, SLURM): a request in
    its run directory, honoured between steps (gan_core.events.send_request)."""
    left, right = st.columns(2)
    status = run.status()
    paused = status.get("state") == "paused"
    pending = read_request(run.path, since=status.get("updated", 0))
    if left.button("Continue" if paused else "Pause", icon=":material/play_arrow:" if paused else ":material/pause:",
                   key=f"remote_pause_{run.id}", width="stretch", disabled=pending == "stop"):
        send_request(run.path, "continue" if paused else "pause")
        st.rerun()
    if right.button("Stop", icon=":material/stop:", key=f"remote_stop_{run.id}", width="stretch",
                    disabled=pending == "stop"):
        send_request(run.path, "stop")
        st.rerun()


def _controls(run: Run, job: Job | None, state: str) -> None:
    if job is not None and job.running:
        left, right = st.columns(2)
        paused = job.control.pause.is_set()
        if left.button("Continue" if paused else "Pause", icon=":material/play_arrow:" if paused
                       else ":material/pause:", key=f"pause_{run.id}", width="stretch"):
            (job.control.pause.clear if paused else job.control.pause.set)()
            st.rerun()
        if right.button("Stop", icon=":material/stop:", key=f"stop_{run.id}", width="stretch",
                        disabled=job.control.should_stop()):
            job.control.stop.set()
            st.rerun()
    elif state == "elsewhere":
        _remote_controls(run)
    elif state in ("stopped", "failed", "interrupted"):
        checkpoint = run.latest_checkpoint()
        label = f"Resume from step {step_number(checkpoint)}" if checkpoint else "Restart (no checkpoint yet)"
        if st.button(label, icon=":material/replay:", key=f"resume_{run.id}", type="primary", width="stretch"):
            try:
                training.resume(run, dataset_path())
            except (JobBusyError, ValueError) as e:
                st.error(str(e))
            else:
                st.rerun()


def _progress(rows: list[dict], status: dict, state: str, run_config: dict) -> None:
    """rows: the run's last MetricsFeed.RECENT rows (progress reads the last 50 since the start)."""
    p = training.progress(rows, status)
    if not p["total"]:
        if state in ACTIVE_STATES:
            st.progress(0, text="loading data and building the model…")
        return
    text = f"step {p['done']:,} of {p['total']:,}"
    per_epoch = run_config.get("steps_per_epoch")
    if per_epoch and rows:
        text += f" · epoch {rows[-1]['epoch']:,} of {math.ceil(p['total'] / per_epoch):,} ({per_epoch:,} steps each)"
    if state == "running" and p["eta_s"] is not None:
        text += f" · ETA {format_duration(p['eta_s'])}"
    if p["images_per_s"]:
        text += f" · {p['images_per_s']:,.1f} images/s"
    if run_config.get("precision"):
        text += f" · {run_config['precision']}"
    st.progress(min(p["done"] / p["total"], 1.0), text=text)


def _charts_and_samples(run: Run, frame, config: dict) -> None:
    """frame: the run's metrics (charts.metrics_frame); every chart downsamples its series
    (charts.MAX_POINTS) after smoothing them whole."""
    samples = run.samples()
    if frame.empty and not samples:
        st.info("No steps yet: metrics appear after the first optimizer step.")
        return
    left, right = st.columns([3, 2])
    controls = {}
    if not frame.empty:
        with left:
            controls = chart_controls("train")
    for title, names in (charts.loss_groups(frame) if not frame.empty else {}).items():
        left.plotly_chart(charts.line_figure(frame, {n: n for n in names}, title, "loss", **controls),
                          key=f"{title.split()[0].lower()}_{run.id}")
    with left:
        quality_section(run, key=f"quality_{run.id}")
    if samples:
        right.image(str(samples[-1]), caption=_sample_caption(config, step_number(samples[-1])), width="stretch")
    outputs = {k: v for k, v in charts.DISCRIMINATOR_OUTPUTS.items() if k in frame}
    rates = charts.learning_rate_names(frame) if not frame.empty else []
    sections = {"Sample evolution": lambda: _evolution(run, samples)}
    if outputs:
        sections["D(x) and D(G(z))"] = lambda: st.plotly_chart(
            charts.line_figure(frame, outputs, "Discriminator outputs", "mean sigmoid",
                               weight=controls.get("weight", 0.0),
                               ignore_outliers=controls.get("ignore_outliers", False)), key=f"d_outputs_{run.id}")
    if rates:
        sections["Learning rates"] = lambda: st.plotly_chart(
            charts.line_figure(frame, {n: n for n in rates}, "Learning rates", "lr"), key=f"lr_{run.id}")
    for tab, show in zip(st.tabs(list(sections)), sections.values()):
        with tab:
            show()


def _sample_caption(config: dict, step: int) -> str:
    model = config.get("model")
    if model == "cyclegan":
        return f"fixed photos → Monet → reconstructed photo, step {step}"
    if model in TRANSLATION_MODELS:
        return f"fixed photos → Monet, step {step}"
    return f"fixed-noise samples, step {step}"


def _evolution(run: Run, samples: list[Path]) -> None:
    if not samples:
        st.caption("No sample grid yet: one is written every `sample_every` steps.")
        return
    steps = [step_number(p) for p in samples]
    chosen = steps[0] if len(steps) == 1 else st.select_slider("Samples at step", steps, value=steps[-1])
    st.image(str(samples[steps.index(chosen)]), width=420)
    st.download_button("Download the evolution as a GIF", lambda: evolution_gif(run),
                       file_name=f"{run.id}-samples.gif", mime="image/gif", icon=":material/animated_images:")
