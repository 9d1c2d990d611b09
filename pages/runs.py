"""Runs: every run, and chosen runs compared (loss curves, settings, scores, reports)."""
import streamlit as st

from gan_core.runs import list_runs
from studio.reports import show_reports
from studio.runs_view import compare_runs, manage_runs, show_runs_table
from studio.widgets import runs_dir

st.title("Runs")
runs = {r.id: r for r in list_runs(runs_dir())}
if runs:
    show_runs_table(list(runs.values()))
    manage_runs(runs)
    compare_runs(runs)
else:
    st.info(f"No runs in `{runs_dir()}` yet: start one on the Train page.", icon=":material/model_training:")
st.header("Comparison reports and sweeps", divider="gray")
show_reports(runs_dir())
