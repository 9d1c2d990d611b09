"""Widgets every page shares: the runs folder, the dataset in use, run/checkpoint pickers and job
progress. Other pages (Dataset EDA, Latent explorer, Export & score) rely on these names."""
from __future__ import annotations

import os
import time
from pathlib import Path

import streamlit as st

from gan_core.runs import Run, list_runs, runs_root
from studio import charts, settings
from studio.datasets import dataset_problem, environment_problem
from studio.jobs import Job, run_state
from studio.navigation import page
from studio.samples import step_number

DATASET_KEY = "dataset_path"


def runs_dir() -> Path:
    """$GAN_STUDIO_RUNS, else runs/."""
    return runs_root()


@st.cache_resource(show_spinner=False)
def _server_choice() -> dict:
    """The dataset last chosen in any session, so a new tab starts with it (the settings file,
    studio.settings, keeps it across restarts)."""
    return {}


SAVE_PROBLEM_KEY = "settings_save_problem"


def choose_dataset(path: str) -> None:
    """Use path from now on: in this session, in new tabs, and after a restart (the settings file).
    A settings file that cannot be written leaves a one-line warning for settings_notice()."""
    st.session_state[DATASET_KEY] = path
    _server_choice()["path"] = path
    try:
        settings.remember_dataset(path)
        st.session_state.pop(SAVE_PROBLEM_KEY, None)
    except OSError as e:
        st.session_state[SAVE_PROBLEM_KEY] = (
            f"Cannot remember the choice in {settings.settings_path()}: {e.strerror or e}. It holds until the "
            f"studio restarts; make the runs folder writable (or set GAN_STUDIO_RUNS) to keep it.")


def _chosen() -> list[str]:
    """The choices made, most specific first: this session's, the server's, the settings file's."""
    candidates = [st.session_state.get(DATASET_KEY), _server_choice().get("path"), settings.load().dataset]
    return list(dict.fromkeys(c for c in candidates if c))


def dataset_choice() -> tuple[str | None, str | None]:
    """(the dataset in use, None), or (None, why there is none, in one line). In use: this
    session's choice, else the server's last choice, else the one saved in the settings file, else
    $GAN_STUDIO_DATA, else data/: the first that can be read (studio.datasets.dataset_problem)."""
    problems = []
    for chosen in _chosen():
        problem = dataset_problem(chosen)
        if problem is None:
            return chosen, None
        problems.append(f"the chosen dataset cannot be used: {problem}")
    path, problem = environment_problem()
    if problem is None:
        return path, None
    if os.environ.get("GAN_STUDIO_DATA"):
        problems.append(f"$GAN_STUDIO_DATA cannot be used: {problem}")
    return None, problems[0] if problems else "no dataset is chosen yet"


def dataset_path() -> str | None:
    """The dataset in use (see dataset_choice); None when none is usable."""
    return dataset_choice()[0]


def settings_notice() -> None:
    """One-line warnings about the settings file: damaged (and so ignored), or not writable, or
    naming a dataset that can no longer be read."""
    saved = settings.load()
    for problem in (saved.problem, st.session_state.get(SAVE_PROBLEM_KEY)):
        if problem:
            st.warning(problem, icon=":material/settings_alert:")
    if saved.dataset and (problem := dataset_problem(saved.dataset)):
        st.warning(f"The dataset chosen earlier cannot be used now: {problem}. Choose another one below.",
                   icon=":material/folder_off:")


def no_dataset_notice() -> None:
    st.info("**No dataset yet.** Choose one on the Home page (a folder path, or upload the competition "
            "zip `gan-getting-started.zip`), or start the studio with `GAN_STUDIO_DATA=/path/to/data`. "
            "MNIST's `raw/` folder works too.", icon=":material/photo_library:")
    st.page_link(page("home"), label="Go to Home", icon=":material/home:")


def require_dataset() -> str:
    """The dataset in use; without one, says how to get one and stops the page."""
    path = dataset_path()
    if path is None:
        no_dataset_notice()
        st.stop()
    return path


STATE_LABELS = {"elsewhere": "running in another process"}


def run_picker(label: str = "Run", models: tuple[str, ...] | None = None, key: str | None = None,
               states=None, url_param: str | None = None) -> Run | None:
    """A selectbox over the runs (newest first), optionally only some models or states. With
    url_param (and a key), the URL's ?url_param=ID chooses the run and the choice is written back
    to the URL, so a run's address opens it."""
    runs = {}
    for run in list_runs(runs_dir()):
        model, state = run.config().get("model"), run_state(run)
        if (models is None or model in models) and (states is None or state in states):
            runs[run.id] = (run, f"{run.id} · {model} · {STATE_LABELS.get(state, state)}")
    if not runs:
        kinds = "/".join(m.upper() for m in models) + " " if models else ""
        st.info(f"No {kinds}runs in `{runs_dir()}` yet: train one on the Train page.")
        return None
    if url_param and key:
        _choose_from_url(url_param, key, runs)
    choice = st.selectbox(label, list(runs), key=key, format_func=lambda rid: runs[rid][1])
    if url_param and key and choice is not None:
        if st.query_params.get(url_param) != choice:
            st.query_params[url_param] = choice
        st.session_state[_url_key(key)] = choice
    return runs[choice][0] if choice in runs else None


def _url_key(key: str) -> str:
    return f"{key}__from_url"


def _choose_from_url(param: str, key: str, runs: dict) -> None:
    """Point the picker `key` at the URL's run, when the URL names one this session has not yet
    followed (a fresh tab, or an address with another ?run=); an unknown one is said in one line."""
    wanted = st.query_params.get(param)
    if not wanted or (key in st.session_state and st.session_state.get(_url_key(key)) == wanted):
        return
    st.session_state[_url_key(key)] = wanted
    if wanted in runs:
        st.session_state[key] = wanted
    else:
        shown = st.session_state.get(key) if st.session_state.get(key) in runs else next(iter(runs))
        st.warning(f"No run `{wanted}` in `{runs_dir()}`: showing `{shown}`.", icon=":material/link_off:")


def chart_controls(key: str) -> dict:
    """TensorBoard's smoothing slider, a log scale and "ignore outliers" for the charts below
    them: keyword arguments for studio.charts' figures."""
    left, right = st.columns([3, 2], vertical_alignment="center")
    weight = left.slider("Smoothing", 0.0, charts.SMOOTHING_MAX, charts.SMOOTHING_DEFAULT, 0.01,
                         key=f"{key}_smoothing", help="An exponential moving average, as TensorBoard's slider: "
                         "0 draws the raw values, 0.99 the smoothest curve. The raw values stay faint behind.")
    log_y = right.toggle("Log scale", key=f"{key}_log_y", help="A logarithmic y axis (values ≤ 0 are not drawn).")
    ignore_outliers = right.toggle("Ignore outliers", value=True, key=f"{key}_outliers",
                                   help="Scale the y axis to the curves without their outliers (a first-step "
                                        "spike, a blow-up), as TensorBoard's option.")
    return {"weight": weight, "log_y": log_y, "ignore_outliers": ignore_outliers}


def checkpoint_options(run: Run) -> dict[str, str]:
    """The run's checkpoints as picker choices (name for Run.resolve_checkpoint -> label): best
    (the lowest probe FID) when the run has one, then latest, then every step_*.pt, newest first."""
    options = {}
    if run.best_checkpoint() is not None:
        best, about = run.best_quality() or {}, []
        if best.get("step") is not None:
            about.append(f"step {best['step']:,}")
        if best.get("fid") is not None:
            about.append(f"FID {best['fid']:.1f}")
        options["best"] = f"best ({', '.join(about)})" if about else "best"
    checkpoints = list(reversed(run.checkpoints()))
    if checkpoints:
        options["latest"] = f"latest (step {step_number(checkpoints[0]):,})"
    options.update({p.name: p.name for p in checkpoints})
    return options


def checkpoint_picker(run: Run, key: str | None = None, label: str = "Checkpoint") -> Path | None:
    """A selectbox over the run's checkpoints (best first when there is one, else latest); the
    chosen checkpoint's file."""
    options = checkpoint_options(run)
    if not options:
        st.info(f"Run `{run.id}` has no checkpoint yet: it writes one every `checkpoint_every` steps "
                "and when it ends.")
        return None
    if key and st.session_state.get(key) not in options:
        st.session_state.pop(key, None)  # another run's choice (or a rotated-out file)
    choice = st.selectbox(label, list(options), key=key, format_func=options.get,
                          help="best: the checkpoint of the lowest quality-probe FID (train with "
                               "--quality-every N); latest: the newest one.")
    try:
        return run.resolve_checkpoint(choice)
    except FileNotFoundError as e:  # deleted or rotated out since the list was made
        st.error(str(e))
        return None


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def show_job_progress(job: Job) -> None:
    """Progress bar (done/total, rate, ETA), the job's state and, if it failed, its message."""
    progress = job.last_progress
    done, total = progress.get("done", 0), progress.get("total")
    if total:
        rate = progress.get("rate")
        text = f"{progress.get('task', job.kind)}: {done}/{total}"
        if rate:
            text += f" · {rate:.2f}/s · ETA {format_duration(progress.get('eta_s'))}"
        st.progress(min(done / total, 1.0), text=text)
    elapsed = (job.ended or time.time()) - job.started
    st.caption(f"{job.label} — **{job.state}** on {job.device} · {format_duration(elapsed)}")
    if job.error:
        st.error(job.error)
    elif job.state == "cancelled":
        st.warning(f"{job.label} was cancelled.")
