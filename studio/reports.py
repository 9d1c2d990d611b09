"""Comparison reports (`python -m gan_core compare`) and sweeps (`python -m gan_core sweep`) under the
runs folder, for the Runs page."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from gan_core.compare import list_reports, load_report
from gan_core.sweep import list_sweeps, load_sweep, read_plan

TABLE_COLUMNS = ["model", "state", "steps", "epochs", "train_s", "loss_d_final", "loss_g_final", "loss_d_mean",
                 "loss_g_mean", "kid_mean", "kid_std", "params_g", "params_d"]


def show_comparison(folder: Path) -> None:
    report = load_report(folder)
    table = pd.DataFrame(report["table"])
    st.dataframe(table[[c for c in TABLE_COLUMNS if c in table]], hide_index=True)
    st.caption(f"KID against the real images on {report['kid_samples']} generated samples per model "
               f"(lower is better); train_s counts time in optimizer steps.")
    gifs = [(model, path) for model, path in report["gifs"].items() if path.exists()]
    for column, (model, gif) in zip(st.columns(max(len(gifs), 1)), gifs):
        column.image(str(gif), caption=f"{model}: samples over training", width="stretch")


def show_sweep(folder: Path) -> None:
    plan = read_plan(folder)
    table = load_sweep(folder)
    st.caption(f"batch sizes {plan.get('batch_sizes')} x learning rates {plan.get('lrs')}; "
               f"heatmaps on the Sweep page")
    if table.empty:
        st.caption("No combination has finished yet.")
    else:
        st.dataframe(table, hide_index=True)


def show_reports(root: Path) -> None:
    comparisons, sweeps = list_reports(root), list_sweeps(root)
    if not comparisons and not sweeps:
        st.caption(f"Reports written by `python -m gan_core compare` and sweeps from `python -m gan_core sweep` "
                   f"(or the Sweep page) in `{root}` appear here.")
    for i, folder in enumerate(comparisons):
        with st.expander(f"Comparison {folder.name}", icon=":material/leaderboard:", expanded=i == 0):
            show_comparison(folder)
    for folder in sweeps:
        with st.expander(f"Sweep {folder.name}", icon=":material/grid_on:"):
            show_sweep(folder)
