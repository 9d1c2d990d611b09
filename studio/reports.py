"""Comparison reports (`python -m gan_core compare`) and sweeps (`python -m gan_core sweep`) under the
runs folder, for the Runs page."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from gan_core.runs import (list_reports, list_sweeps, load_report, load_sweep, plan_problem, read_json_object,
                           report_problem, sweep_problem)
from studio.tables import show_table

TABLE_COLUMNS = ["model", "state", "steps", "epochs", "train_s", "loss_d_final", "loss_g_final", "loss_d_mean",
                 "loss_g_mean", "kid_mean", "kid_std", "params_g", "params_d"]


def show_comparison(folder: Path) -> None:
    try:
        report = load_report(folder)
    except ValueError as e:  # a damaged report.json: say so, and every other report still shows
        st.error(str(e), icon=":material/broken_image:")
        return
    table = pd.DataFrame(report["table"])
    show_table(table[[c for c in TABLE_COLUMNS if c in table]])
    st.caption(f"KID against the real images on {report['kid_samples']} generated samples per model "
               f"(lower is better); train_s counts time in optimizer steps.")
    gifs = [(model, path) for model, path in report["gifs"].items() if path.exists()]
    for column, (model, gif) in zip(st.columns(max(len(gifs), 1)), gifs):
        column.image(str(gif), caption=f"{model}: samples over training", width="stretch")


def show_sweep(folder: Path) -> None:
    plan, unreadable = read_json_object(folder / "sweep.json")
    try:
        if unreadable:
            raise ValueError(f"sweep {folder} cannot be shown: {unreadable}")
        table = load_sweep(folder)
    except ValueError as e:  # a damaged sweep.json or sweep.csv: the reason, and the other reports still show
        st.error(str(e), icon=":material/broken_image:")
        return
    problem = plan_problem(folder)
    if problem:  # readable, but not a whole plan
        st.warning(f"{problem}: the Sweep page can neither show nor resume it", icon=":material/broken_image:")
    st.caption(f"batch sizes {plan.get('batch_sizes')} x learning rates {plan.get('lrs')}; "
               f"heatmaps on the Sweep page")
    if table.empty:
        st.caption("No combination has finished yet.")
    else:
        show_table(table)


def show_reports(root: Path) -> None:
    comparisons, sweeps = list_reports(root), list_sweeps(root)
    if not comparisons and not sweeps:
        st.caption(f"Reports written by `python -m gan_core compare` and sweeps from `python -m gan_core sweep` "
                   f"(or the Sweep page) in `{root}` appear here.")
    for i, folder in enumerate(comparisons):
        damaged = report_problem(folder)
        with st.expander(f"Comparison {folder.name}" + (" (damaged)" if damaged else ""),
                         icon=":material/broken_image:" if damaged else ":material/leaderboard:",
                         expanded=i == 0 or bool(damaged)):
            show_comparison(folder)
    for folder in sweeps:
        damaged = sweep_problem(folder)
        with st.expander(f"Sweep {folder.name}" + (" (damaged)" if damaged else ""),
                         icon=":material/broken_image:" if damaged else ":material/grid_on:", expanded=bool(damaged)):
            show_sweep(folder)
