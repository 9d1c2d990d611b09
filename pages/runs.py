"""Runs: every run, and chosen runs compared (loss curves, settings, scores, reports)."""
import streamlit as st

from gan_core.runs import list_runs
from studio import charts
from studio.reports import find_reports, show_report
from studio.runs_view import config_table, differing_rows, highlight_differences, scores_frame, show_runs_table
from studio.widgets import runs_dir

st.title("Runs")
runs = {r.id: r for r in list_runs(runs_dir())}
if not runs:
    st.info(f"No runs in `{runs_dir()}` yet: start one on the Train page.", icon=":material/model_training:")
    st.stop()
show_runs_table(list(runs.values()))

st.header("Compare", divider="gray")
chosen = [runs[i] for i in st.multiselect("Runs", list(runs), default=list(runs)[:2], key="compare_runs")]
if not chosen:
    st.caption("Choose runs to compare.")
    st.stop()

frames = {r.id: charts.metrics_frame(r.metrics()) for r in chosen}
available = sorted({m for f in frames.values() if not f.empty for m in charts.numeric_metrics(f)})
losses = [m for m in available if m.startswith("loss")]
left, right = st.columns([3, 1])
metrics = left.multiselect("Metrics", available, default=[m for m in ("loss_g", "loss_d", "loss_G") if m in losses]
                           or losses[:2], key="compare_metrics")
window = right.slider("Smoothing (steps)", 1, 200, 1, key="compare_smoothing")
if metrics:
    st.plotly_chart(charts.overlay_figure(frames, metrics, "Metrics by run", window), key="compare_chart")
else:
    st.caption("No metrics recorded yet for these runs.")

st.subheader("Settings")
table = config_table(chosen)
if st.toggle("Only settings that differ", value=len(chosen) > 1, key="compare_only_diff"):
    table = table[differing_rows(table)]
st.dataframe(highlight_differences(table), height=min(35 * (len(table) + 1) + 3, 600))

st.subheader("Scores")
scores = scores_frame(chosen)
if scores.empty:
    st.caption("No scores yet: score a checkpoint on the Export & score page.")
else:
    st.dataframe(scores, hide_index=True)

st.header("Comparison reports and sweeps", divider="gray")
reports = find_reports(runs_dir())
if not reports:
    st.caption("Reports written by `python -m gan_core compare` and sweeps (`sweep.csv`) in "
               f"`{runs_dir()}` appear here.")
for folder in reports:
    with st.expander(str(folder.relative_to(runs_dir())), icon=":material/leaderboard:"):
        show_report(folder)
