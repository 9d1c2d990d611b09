"""Forks in the studio: "Fork from this checkpoint" in a run's live view fills the Train page's New
run form with the parent's settings and the fork spec (RUN:CHECKPOINT), under a new run id; the
user changes learning rates etc. and launches. A fork is a new run that starts from the
checkpoint's weights, EMA and optimizer state and counts its steps from 0 (gan_core.fork)."""
from __future__ import annotations

import itertools

import streamlit as st

from gan_core.config import model_defaults
from gan_core.fork import ARCHITECTURE, fork_values
from gan_core.runs import Run
from studio.datasets import dataset_problem
from studio.widgets import checkpoint_options, runs_dir

FORK_KEY = "train_fork"  # session state: the fork the New run form is filled with, until it launches
HINT = ("Fork this run from its best (or latest) checkpoint with lower learning rates: Train page → Fork "
        "(below), which fills the New run form with its settings.")
_tokens = itertools.count(1)


def fixed_fields(fork: dict | None) -> tuple[str, ...]:
    """The form's greyed-out settings: with a fork, those that shape the networks (the parent's stay)."""
    return ARCHITECTURE if fork else ()


def suggested_run_id(run: Run) -> str:
    """parent-fork, else parent-fork2, parent-fork3... (the first that does not exist yet)."""
    root = run.path.parent
    for n in itertools.count(1):
        candidate = f"{run.id}-fork" + (str(n) if n > 1 else "")
        if not (root / candidate).exists():
            return candidate


def prepare_fork(run: Run, checkpoint: str) -> dict:
    """Fill the New run form with a fork of `run` from `checkpoint` (best, latest or a file name)."""
    spec = f"{run.path}:{checkpoint}"
    values = fork_values(spec, runs_dir())  # raises FileNotFoundError when the checkpoint is gone
    model = values.get("model") or run.config().get("model") or "dcgan"
    fork = {"spec": spec, "parent": run.id, "checkpoint": checkpoint, "model": model,
            "label": checkpoint_options(run).get(checkpoint, checkpoint), "run_id": suggested_run_id(run),
            "values": values, "token": next(_tokens)}  # token: the form's widgets are new ones for each fork
    st.session_state[FORK_KEY] = fork
    return fork


def pending_fork() -> dict | None:
    return st.session_state.get(FORK_KEY)


def cancel_fork() -> None:
    st.session_state.pop(FORK_KEY, None)


def fork_defaults(fork: dict, dataset: str | None) -> dict:
    """The form's starting values: the parent's settings, the new run id and the fork spec."""
    values = {**model_defaults(fork["model"]), **fork["values"], "run_id": fork["run_id"], "fork": fork["spec"]}
    if dataset and dataset_problem(values.get("data") or ""):
        values["data"] = dataset  # the parent's data moved or was deleted
    return values


def fork_header(fork: dict, dataset: str | None) -> tuple[str, str, dict]:
    """In place of the preset and model pickers while the form holds a fork: what is forked, and a
    way back. Returns (preset, model, defaults) for settings_form."""
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.info(f"**Fork of `{fork['parent']}`** from its {fork['label']} checkpoint, as the new run "
              f"`{fork['run_id']}`: it starts from that checkpoint's weights, EMA and optimizer state and counts "
              f"its steps from 0. Change the learning rates (or anything not greyed out) and press Launch "
              f"training; the settings that shape the networks stay the parent's ({fork['model']}).",
              icon=":material/fork_right:")
    if right.button("Cancel fork", icon=":material/close:", key="fork_cancel", width="stretch"):
        cancel_fork()
        st.rerun()
    return "", fork["model"], fork_defaults(fork, dataset)


def fork_panel(run: Run) -> None:
    """A run's "Fork from this checkpoint": choose best, latest or any checkpoint, press, and the
    New run form above holds the fork."""
    options = checkpoint_options(run)
    if not options:
        st.caption("No checkpoint to fork from yet.")
        return
    fork = pending_fork()
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    choice = left.selectbox("Fork from checkpoint", list(options), format_func=options.get,
                            key=f"fork_checkpoint_{run.id}",
                            help="best: the lowest quality-probe FID; latest: the newest checkpoint.")
    if right.button("Fork from this checkpoint", icon=":material/fork_right:", key=f"fork_{run.id}",
                    width="stretch"):
        try:
            prepare_fork(run, choice)
        except (FileNotFoundError, ValueError) as e:
            st.error(str(e))
        else:
            st.rerun(scope="app")  # the form above is outside this (maybe refreshing) fragment
    if fork and fork["parent"] == run.id:
        st.success(f"The New run form above holds the fork `{fork['run_id']}` of this run from "
                   f"{fork['label']}: change its learning rates, then Launch.", icon=":material/arrow_upward:")
    else:
        st.caption("A fork is a new run from this checkpoint's weights, EMA and optimizer state, with settings "
                   "you change (lower learning rates, another loss weight, more steps) in the New run form.")
