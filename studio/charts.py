"""Plotly figures over metrics.jsonl rows. Metric names drive everything, so CycleGAN's extra
losses (loss_cycle_*, loss_idt_*, ...) are plotted without the studio knowing them."""
from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go

DISCRIMINATOR_OUTPUTS = {"d_x": "D(x)", "d_g_z1": "D(G(z)) before D step", "d_g_z2": "D(G(z)) after D step"}
BOOKKEEPING = {"step", "epoch", "time", "images_per_s"}


def metrics_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    return frame.set_index("step", drop=False)


def numeric_metrics(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in BOOKKEEPING and pd.api.types.is_numeric_dtype(frame[c])]


def loss_names(frame: pd.DataFrame) -> list[str]:
    return [c for c in numeric_metrics(frame) if c.lower().startswith("loss")]


def loss_groups(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Chart title -> losses. Two losses share one chart; more (CycleGAN's parts) are split into
    generator and discriminator charts, whose scales differ by an order of magnitude."""
    losses = loss_names(frame)
    if len(losses) <= 2:
        return {"Losses": losses}
    is_d = [re.match(r"loss_d(_|$)", name, re.IGNORECASE) is not None for name in losses]
    return {"Generator losses": [n for n, d in zip(losses, is_d) if not d],
            "Discriminator losses": [n for n, d in zip(losses, is_d) if d]}


def learning_rate_names(frame: pd.DataFrame) -> list[str]:
    return [c for c in numeric_metrics(frame) if c.lower().startswith("lr_")]


def smooth(series: pd.Series, window: int) -> pd.Series:
    return series.rolling(window, min_periods=1).mean() if window > 1 else series


def line_figure(frame: pd.DataFrame, columns: dict[str, str], title: str, y_title: str = "",
                window: int = 1, log_y: bool = False) -> go.Figure:
    """One trace per column (column -> legend name) against step."""
    fig = go.Figure()
    for column, name in columns.items():
        if column in frame:
            fig.add_trace(go.Scatter(x=frame["step"], y=smooth(frame[column], window), name=name, mode="lines"))
    return style(fig, title, y_title, log_y)


def overlay_figure(frames: dict[str, pd.DataFrame], metrics: list[str], title: str, window: int = 1) -> go.Figure:
    """Runs compared: one trace per (run, metric)."""
    fig = go.Figure()
    for run_id, frame in frames.items():
        for metric in metrics:
            if metric in frame:
                label = run_id if len(metrics) == 1 else f"{run_id} · {metric}"
                fig.add_trace(go.Scatter(x=frame["step"], y=smooth(frame[metric], window), name=label,
                                         mode="lines"))
    return style(fig, title, metrics[0] if len(metrics) == 1 else "")


def style(fig: go.Figure, title: str, y_title: str = "", log_y: bool = False) -> go.Figure:
    # The legend goes under the plot: at the top it collides with Plotly's toolbar.
    fig.update_layout(title=title, xaxis_title="optimizer step", yaxis_title=y_title, height=380,
                      margin=dict(l=10, r=10, t=40, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0))
    if log_y:
        fig.update_yaxes(type="log")
    return fig


# --- the quality probe (quality.jsonl) -----------------------------------------------------------
# Plotly's default colours, named so a run's best marker can share its curve's colour.
PALETTE = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff",
           "#fecb52")
BEST_COLOUR = "#d62728"


def best_probe(rows: list[dict], best: dict | None = None) -> dict | None:
    """The probe row to mark as best: the run's best.json row when it has one (the checkpoint kept),
    else the lowest-FID row."""
    if best and best.get("fid") is not None:
        return best
    scored = [r for r in rows if r.get("fid") is not None]
    return min(scored, key=lambda r: r["fid"]) if scored else None


def best_text(best: dict) -> str:
    return f"best FID {best['fid']:.1f} at step {best['step']:,}"


def quality_figure(rows: list[dict], best: dict | None = None, title: str = "Quality") -> go.Figure:
    """The probe's FID over steps (left axis), KID x 1000 (right axis, dotted), the best probe marked."""
    frame = pd.DataFrame(rows)
    fig = go.Figure()
    if not frame.empty and "fid" in frame:
        fig.add_trace(go.Scatter(x=frame["step"], y=frame["fid"], name="FID", mode="lines+markers",
                                 line=dict(color=PALETTE[0]), marker=dict(size=5)))
    if not frame.empty and "kid_mean" in frame:
        fig.add_trace(go.Scatter(x=frame["step"], y=frame["kid_mean"] * 1000, name="KID × 1000", yaxis="y2",
                                 mode="lines+markers", line=dict(color=PALETTE[4], dash="dot"), marker=dict(size=4)))
        # tickmode auto: Streamlit's theme would sync these ticks to the FID grid (odd values like 61, 268).
        fig.update_layout(yaxis2=dict(title="KID × 1000", overlaying="y", side="right", showgrid=False,
                                      tickmode="auto", nticks=6, zeroline=False))
    chosen = best_probe(rows, best)
    if chosen is not None:
        fig.add_trace(go.Scatter(x=[chosen["step"]], y=[chosen["fid"]], name=best_text(chosen), mode="markers",
                                 marker=dict(symbol="star", size=15, color=BEST_COLOUR,
                                             line=dict(width=1, color="white"))))
        fig.add_annotation(x=chosen["step"], y=chosen["fid"], text=best_text(chosen), showarrow=True, arrowhead=2,
                           ax=0, ay=-32, font=dict(color=BEST_COLOUR), bgcolor="rgba(255,255,255,0.8)")
    return style(fig, title, "FID (lower is better)")


def quality_overlay_figure(runs: dict[str, list[dict]], best: dict[str, dict | None] | None = None,
                           title: str = "Quality probe: FID by run") -> go.Figure:
    """Runs compared by their probe curves: one colour per run, each run's best probe starred."""
    fig = go.Figure()
    best = best or {}
    for i, (run_id, rows) in enumerate(runs.items()):
        scored = [r for r in rows if r.get("fid") is not None]
        if not scored:
            continue
        colour = PALETTE[i % len(PALETTE)]
        fig.add_trace(go.Scatter(x=[r["step"] for r in scored], y=[r["fid"] for r in scored], name=run_id,
                                 mode="lines+markers", line=dict(color=colour), marker=dict(size=5),
                                 legendgroup=run_id))
        chosen = best_probe(scored, best.get(run_id))
        fig.add_trace(go.Scatter(x=[chosen["step"]], y=[chosen["fid"]], name=f"{run_id}: {best_text(chosen)}",
                                 mode="markers", legendgroup=run_id, showlegend=False,
                                 hovertemplate=f"{run_id}: {best_text(chosen)}<extra></extra>",
                                 marker=dict(symbol="star", size=14, color=colour,
                                             line=dict(width=1, color="white"))))
    return style(fig, title, "FID (lower is better)")
