"""Run tables and run comparison (Home and Runs pages)."""
from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import streamlit as st

from gan_core.config import applies_to
from gan_core.runs import Run, delete_run, rename_run
from studio import charts
from studio.quality_view import compare_quality
from studio.samples import step_number
from studio.widgets import chart_controls
from studio.tables import show_table

SUMMARY_COLUMNS = {
    "run": st.column_config.TextColumn("Run"),
    "model": st.column_config.TextColumn("Model"),
    "state": st.column_config.TextColumn("State"),
    "step": st.column_config.NumberColumn("Steps", format="%d"),
    "epoch": st.column_config.NumberColumn("Epoch", format="%d"),
    "loss_d": st.column_config.NumberColumn("Last loss D", format="%.3f"),
    "loss_g": st.column_config.NumberColumn("Last loss G", format="%.3f"),
    "best_fid": st.column_config.NumberColumn("Best FID", format="%.2f", help="The best score of an exported zip "
                                              "(Export & score page)."),
    "probe_fid": st.column_config.NumberColumn("Best probe FID", format="%.2f", help="The lowest FID of the "
                                               "quality probe during training (checkpoints/best.pt)."),
    "probe_step": st.column_config.NumberColumn("at step", format="%d", help="The step of the best probe."),
    "updated": st.column_config.DatetimeColumn("Updated", format="YYYY-MM-DD HH:mm"),
    "tags": st.column_config.TextColumn("Tags"),
    "message": st.column_config.TextColumn("Message", width="large"),
}


def runs_frame(runs: list[Run]) -> pd.DataFrame:
    frame = pd.DataFrame([r.summary() for r in runs], columns=list(SUMMARY_COLUMNS))
    frame["updated"] = pd.to_datetime(frame["updated"], unit="s", errors="coerce")
    return frame


def run_link(run_id: str) -> str:
    """The Train page's address of a run (relative: it works behind any base URL)."""
    return f"train?run={quote(run_id)}"


def show_runs_table(runs: list[Run]) -> None:
    frame = runs_frame(runs)
    frame.insert(1, "open", frame["run"].map(run_link))
    show_table(frame, column_config={**SUMMARY_COLUMNS, "open": OPEN_COLUMN})


OPEN_COLUMN = st.column_config.LinkColumn("Open", display_text="live view", width="small",
                                          help="The run on the Train page (its address: train?run=ID).")


def config_table(runs: list[Run]) -> pd.DataFrame:
    """Settings side by side: one row per setting, one column per run."""
    ignored = {"data_report", "run_id", "runs_dir"}
    configs = {r.id: _shown_settings(r.config(), ignored) for r in runs}
    frame = pd.DataFrame(configs)
    # "–": a setting one run lacks (an older config, fork_of) or that means nothing for its model (a
    # FastGAN's generator); it counts as a difference.
    return frame.astype(object).where(frame.notna(), "–").astype(str).sort_index()


def _shown_settings(config: dict, ignored: set) -> dict:
    model = config.get("model")
    return {k: _setting(k, v) for k, v in config.items() if k not in ignored and (not model or applies_to(k, model))}


def _setting(name: str, value):
    if name == "fork_of" and isinstance(value, dict):  # {"run", "checkpoint", "step"}: say it in one cell
        parent, checkpoint = Path(str(value.get("run"))).name, Path(str(value.get("checkpoint"))).name
        return f"{parent} @ step {value.get('step')} ({checkpoint})"
    return value


def differing_rows(frame: pd.DataFrame) -> pd.Series:
    return frame.nunique(axis=1) > 1


def highlight_differences(frame: pd.DataFrame):
    """A Styler that tints the settings whose values differ between runs."""
    differs = differing_rows(frame)
    return frame.style.apply(
        lambda row: ["background-color: #F6E3C6; font-weight: 600" if differs[row.name] else ""] * len(row),
        axis=1)


def scores_table(scores: list[dict], run_id: str | None = None) -> pd.DataFrame:
    """Scores as people read them, newest first: local time, the figures, the step and zip scored,
    and whether it was an estimate. One table for the Export & score and Runs pages."""
    def when(seconds):
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds)) if isinstance(seconds, (int, float)) else ""

    rows = [{**({"run": run_id} if run_id else {}), "time": when(s.get("time")), "FID": s.get("fid"),
             "KID": s.get("kid_mean"), "KID std": s.get("kid_std"), "MiFID": s.get("mifid"),
             "memorisation d": s.get("memorisation_distance"),
             "step": s.get("step") if s.get("step") is not None else "",
             "zip": Path(s["images"]).name if s.get("images") else "",
             "scored": f"{'estimate: ' if s.get('estimate') else ''}{s.get('n_generated', 0):,} images"}
            for s in reversed(scores)]
    return pd.DataFrame(rows)


def scores_frame(runs: list[Run]) -> pd.DataFrame:
    frames = [scores_table(r.scores(), r.id) for r in runs]
    return pd.concat([f for f in frames if not f.empty], ignore_index=True) if any(not f.empty for f in frames) \
        else pd.DataFrame()


def default_metrics(losses: list[str]) -> list[str]:
    """The comparison's first metrics: the generator's and the discriminator's total loss."""
    return [m for m in losses if m.lower() in ("loss_g", "loss_d")] or losses[:2]


def compare_runs(runs: dict) -> None:
    """Chosen runs side by side: metric curves, quality-probe curves, settings (differences highlighted), scores."""
    st.header("Compare", divider="gray")
    chosen = [runs[i] for i in st.multiselect("Runs", list(runs), default=list(runs)[:2], key="compare_runs")]
    if not chosen:
        st.caption("Choose runs to compare.")
        return

    frames = {r.id: charts.metrics_frame(r.metrics()) for r in chosen}
    colours = charts.run_colours(frames)  # one colour per run in every chart below
    available = sorted({m for f in frames.values() if not f.empty for m in charts.numeric_metrics(f)})
    losses = [m for m in available if m.startswith("loss")]
    left, right = st.columns([1, 1], vertical_alignment="bottom")
    metrics = left.multiselect("Metrics", available, default=default_metrics(losses), key="compare_metrics",
                               help="Colour: the run; line style (solid, dashed, dotted…): the metric.")
    with right:
        controls = chart_controls("compare")
    if metrics:
        st.plotly_chart(charts.overlay_figure(frames, metrics, "Metrics by run", colours=colours, **controls),
                        key="compare_chart")
    else:
        st.caption("No metrics recorded yet for these runs.")

    compare_quality(chosen, colours)
    compare_samples(chosen)

    st.subheader("Settings")
    table = config_table(chosen)
    if st.toggle("Only settings that differ", value=len(chosen) > 1, key="compare_only_diff"):
        table = table[differing_rows(table)]
    show_table(highlight_differences(table), hide_index=False, height=min(35 * (len(table) + 1) + 3, 600))

    st.subheader("Scores")
    scores = scores_frame(chosen)
    if scores.empty:
        st.caption("No scores yet: score a checkpoint on the Export & score page.")
    else:
        show_table(scores)


def common_sample_steps(runs: list[Run]) -> list[int]:
    """The steps at which every one of the runs drew a sample grid, in order."""
    steps = [{step_number(p) for p in r.samples()} for r in runs]
    return sorted(set.intersection(*steps)) if steps else []


def compare_samples(runs: list[Run]) -> None:
    """The runs' sample grids side by side at one step they all drew."""
    st.subheader("Samples at the same step")
    steps = common_sample_steps(runs)
    if not steps:
        st.caption("These runs have no sample grid at a common step yet.")
        return
    step = steps[-1] if len(steps) == 1 else st.select_slider("Step", steps, value=steps[-1], key="compare_step")
    for column, run in zip(st.columns(len(runs)), runs):
        column.image(str(run.samples_dir / f"step_{step:06d}.png"), caption=f"{run.id} · step {step}")


def manage_runs(runs: dict) -> None:
    """Rename, tag or delete one run (refused while it trains; a delete needs a confirmation)."""
    with st.expander("Manage a run: rename, tag, delete", icon=":material/edit:"):
        run_id = st.selectbox("Run", list(runs), key="manage_run")
        run = runs[run_id]
        left, right = st.columns(2)
        tags = left.text_input("Tags (comma separated)", ", ".join(run.tags()), key="manage_tags")
        if left.button("Save tags", key="manage_save_tags", icon=":material/sell:"):
            _act(lambda: run.set_tags(tags.split(",")), f"Tags of {run.id} saved.")
        new_id = right.text_input("New id", run.id, key="manage_new_id")
        if right.button("Rename", key="manage_rename", icon=":material/edit:", disabled=new_id == run.id):
            _act(lambda: rename_run(run, new_id), f"{run.id} is now {new_id}.")
        sure = st.checkbox(f"I'm sure: delete {run.id} with its checkpoints, samples and exports",
                           key="manage_confirm")
        if st.button("Delete", key="manage_delete", icon=":material/delete:", type="primary"):
            if sure:
                _act(lambda: delete_run(run), f"{run.id} deleted.")
            else:
                st.warning("Tick the confirmation first: a deleted run cannot be restored.")


def _act(action, done: str) -> None:
    try:
        action()
    except (ValueError, OSError) as e:
        st.error(str(e))
        return
    st.session_state.pop("manage_confirm", None)
    st.toast(done)
    st.rerun()
