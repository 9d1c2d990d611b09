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
