"""The quality probe (quality.jsonl, checkpoints/best.*) in the studio: the Train page's Quality
chart, caption and collapse warnings, and the Runs page's comparison of probe curves."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from pathlib import Path

from gan_core.runs import Run
from studio import charts
from studio.tables import show_table

NO_PROBE = "No quality probe: train with --quality-every N (Quality every field)."


def collapse_warnings(rows: list[dict]) -> list[str]:
    """gan_core.quality.collapse_warnings: what the last probe says is wrong (mode collapse, a
    translator that leaves its input unchanged); [] when all is well."""
    from gan_core.quality import collapse_warnings as engine_warnings  # imports torch: only when asked

    return engine_warnings(rows)


def probe_caption(row: dict) -> str:
    """One line about a probe: its scores, diversity and (translation) input distance."""
    parts = [f"Last probe, step {row['step']:,}: FID {row['fid']:.1f}"]
    if row.get("kid_mean") is not None:
        parts.append(f"KID × 1000 {row['kid_mean'] * 1000:.1f} ± {(row.get('kid_std') or 0) * 1000:.1f}")
    if row.get("diversity") is not None:
        parts.append(f"diversity {row['diversity']:.2f} (1 = as varied as the real images, near 0 = collapse)")
    if row.get("input_distance") is not None:
        parts.append(f"input distance {row['input_distance']:.3f} (mean pixel change from the photo, 0..1)")
    if row.get("n"):
        parts.append(f"{row['n']:,} images in {row.get('seconds') or 0:.0f} s")
    return " · ".join(parts)


def quality_section(run: Run, key: str) -> None:
    """The Train page's Quality chart with the best probe marked, the last probe's caption and its
    warnings; without quality.jsonl, how to get one."""
    rows = [r for r in run.quality() if r.get("fid") is not None]
    if not rows:
        st.caption(NO_PROBE)
        return
    best = run.best_quality()
    st.plotly_chart(charts.quality_figure(rows, best), key=key)
    chosen = charts.best_probe(rows, best)
    kept = " (kept as checkpoints/best.pt)" if best else ""
    st.caption(f"**{charts.best_text(chosen)}**{kept} · {probe_caption(rows[-1])}")


def show_collapse_warnings(run: Run) -> None:
    for warning in collapse_warnings(run.quality()):
        st.warning(warning, icon=":material/warning:")


def fork_origin(run: Run) -> dict | None:
    """config.json's fork_of ({"run", "checkpoint", "step"}) when the run is a fork."""
    origin = run.config().get("fork_of")
    return origin if isinstance(origin, dict) and origin.get("run") else None


def step_offset(run: Run, depth: int = 10) -> int:
    """Where a fork's step 0 lies on its first ancestor's step axis: the parent's checkpoint step,
    plus the parent's own offset when it is a fork too (0 for a run that is no fork)."""
    origin = fork_origin(run)
    if origin is None or depth == 0:
        return 0
    parent = Run(Path(origin["run"]))
    return int(origin.get("step") or 0) + (step_offset(parent, depth - 1) if parent.path.is_dir() else 0)


def shifted(rows: list[dict], offset: int) -> list[dict]:
    return [{**row, "step": row["step"] + offset} for row in rows] if offset else rows


def probe_table(runs: list[Run]) -> pd.DataFrame:
    """Per run: its best probe (FID, step, KID), its last probe, how many probes it made and, for a
    fork, where it started."""
    rows = []
    for run in runs:
        quality = [r for r in run.quality() if r.get("fid") is not None]
        if not quality:
            continue
        best = charts.best_probe(quality, run.best_quality())
        last, origin = quality[-1], fork_origin(run)
        rows.append({"run": run.id, "fork_of": f"{Path(origin['run']).name} @ step {origin.get('step')}" if origin
                     else "", "best_fid": best["fid"], "best_step": best["step"],
                     "best_kid": (best.get("kid_mean") or 0) * 1000, "last_fid": last["fid"],
                     "last_step": last["step"], "diversity": last.get("diversity"),
                     "input_distance": last.get("input_distance"), "probes": len(quality)})
    table = pd.DataFrame(rows)
    if not table.empty and not table["fork_of"].any():
        table = table.drop(columns="fork_of")  # no forks among them
    return table


PROBE_COLUMNS = {
    "run": st.column_config.TextColumn("Run"),
    "fork_of": st.column_config.TextColumn("Fork of"),
    "best_fid": st.column_config.NumberColumn("Best probe FID", format="%.2f"),
    "best_step": st.column_config.NumberColumn("at step", format="%d"),
    "best_kid": st.column_config.NumberColumn("its KID × 1000", format="%.2f"),
    "last_fid": st.column_config.NumberColumn("Last probe FID", format="%.2f"),
    "last_step": st.column_config.NumberColumn("at step", format="%d"),
    "diversity": st.column_config.NumberColumn("Last diversity", format="%.2f"),
    "input_distance": st.column_config.NumberColumn("Last input distance", format="%.3f"),
    "probes": st.column_config.NumberColumn("Probes", format="%d"),
}


def compare_quality(runs: list[Run], colours: dict[str, str] | None = None) -> None:
    """The Runs page: chosen runs' probe FID curves overlaid (in the page's run colours), and each
    one's best probe."""
    st.subheader("Quality probe")
    table = probe_table(runs)
    if table.empty:
        st.caption("None of these runs has a quality probe: train with --quality-every N (Quality every field).")
        return
    offsets = {r.id: 0 for r in runs}
    if any(fork_origin(r) for r in runs) and st.toggle(
            "Forks continue from their parent's checkpoint step", value=True, key="compare_quality_fork_steps",
            help="A fork counts its steps from 0; this draws its curve from the step of the checkpoint it "
                 "started from, on its parent's axis. The table keeps each run's own steps."):
        offsets = {r.id: step_offset(r) for r in runs}
    curves = {r.id: shifted(r.quality(), offsets[r.id]) for r in runs}
    best = {}
    for r in runs:
        row = r.best_quality()
        best[r.id] = shifted([row], offsets[r.id])[0] if row else None
    figure = charts.quality_overlay_figure(curves, best, colours=colours or charts.run_colours(curves))
    st.plotly_chart(figure, key="compare_quality_chart")
    show_table(table, column_config=PROBE_COLUMNS)
    missing = [r.id for r in runs if r.id not in set(table["run"])]
    if missing:
        st.caption(f"No quality probe in {', '.join(missing)}.")
