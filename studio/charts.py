"""Plotly figures over metrics.jsonl rows. Metric names drive everything, so CycleGAN's extra
losses (loss_cycle_*, loss_idt_*, ...) are plotted without the studio knowing them."""
from __future__ import annotations

import functools
import re
import zlib

import numpy as np
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


# --- smoothing, colours and axes: shared by every figure below ------------------------------------
# TensorBoard's default is 0.6; a row per optimizer step (thousands of noisy GAN losses) reads
# better smoothed more.
SMOOTHING_DEFAULT = 0.9
SMOOTHING_MAX = 0.99


def smooth(series: pd.Series, weight: float) -> pd.Series:
    """TensorBoard's smoothing: an exponential moving average, debiased so its first points are
    not pulled towards 0 (last = last * w + (1 - w) * y; smoothed = last / (1 - w ** n)). A
    constant series and non-finite points (NaN: a row without the metric) are kept as they are.
    weight 0 is the raw series. Vectorised (ema), so a 60,000-step run smooths in milliseconds."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    weight = min(max(float(weight), 0.0), SMOOTHING_MAX)
    finite = np.isfinite(values)
    every = finite.all()
    kept = values if every else values[finite]
    if weight == 0 or kept.size == 0 or (kept == kept[0]).all():
        return pd.Series(values, index=series.index, name=series.name)
    smoothed = ema(kept, weight)
    head = min(kept.size, int(np.ceil(40 / -np.log(weight))))  # past it, 1 - w ** n rounds to 1
    smoothed[:head] /= 1 - _powers(weight)[1:head + 1]
    if every:
        out = smoothed
    else:
        out = values.copy()
        out[finite] = smoothed
    return pd.Series(out, index=series.index, name=series.name)


@functools.lru_cache(maxsize=8)
def _powers(weight: float) -> np.ndarray:
    """weight ** k for k up to ema's largest block (and smooth's debiased head), once per slider value."""
    powers = np.exp(np.arange(int(200 / -np.log10(weight)) + 2) * np.log(weight))
    powers.flags.writeable = False
    return powers


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """last[i] = weight * last[i - 1] + (1 - weight) * values[i], from last[-1] = 0, without a
    Python loop over the points. Blocks of `size` points are solved at once from the closed form
    last[k] = w ** (k + 1) * carry + (1 - w) * w ** k * cumsum(values[j] / w ** j), the block size
    kept small enough that w ** -size stays far from overflow; a loop over the blocks carries the
    state (one block for the usual weights, up to n / 100 for weight 0.01)."""
    n = values.size
    size = max(1, min(n, int(200 / -np.log10(weight))))
    blocks = -(-n // size)
    local = np.zeros(blocks * size)
    local[:n] = values
    local = local.reshape(blocks, size)
    powers = _powers(weight)[:size]
    local /= powers  # in place: a long run's series is smoothed on every refresh
    np.cumsum(local, axis=1, out=local)
    local *= powers
    local *= 1 - weight
    if blocks > 1:
        carry, decay, carries = 0.0, weight ** size, np.empty(blocks)
        for b in range(blocks):
            carries[b] = carry
            carry = decay * carry + local[b, -1]
        local += weight * powers * carries[:, None]
    return local.reshape(-1)[:n]


# --- downsampling: a chart is a few hundred pixels wide, a long run 60,000 steps ------------------
MAX_POINTS = 1500  # per series: more add nothing visible, and cost the browser and the serialisation


def envelope_indices(values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray | None:
    """The points of a long series to draw (positions, in order), at most about max_points: the
    first and the last, and in each bucket of consecutive points its minimum and its maximum, so
    a noisy loss keeps its spikes and its band, drawn as the whole series would be at the chart's
    width. Buckets hold a power of two of points (at most (max_points - 2) // 2 buckets), so while
    a run grows the buckets stay put and only the last one changes: the live curve does not
    shimmer from one refresh to the next. A bucket with a missing (non-finite) value keeps one,
    so the line's gaps stay. None: the series is short enough to draw whole."""
    n = len(values)
    if max_points is None or n <= max_points:
        return None
    size = 1 << int(np.ceil(np.log2(n / max(1, (max_points - 2) // 2))))
    buckets = -(-n // size)
    finite = np.isfinite(values)
    base = np.arange(buckets) * size
    if finite.all():  # the common case: padded with the last value, which argmin/argmax find first at n - 1
        grid = np.empty(buckets * size)
        grid[:n], grid[n:] = values, values[-1]
        grid = grid.reshape(buckets, size)
        chosen = [base + grid.argmin(axis=1), base + grid.argmax(axis=1)]
    else:
        grid = np.full(buckets * size, np.nan)
        grid[:n] = values
        grid = grid.reshape(buckets, size)
        missing = ~np.isfinite(grid)
        chosen = [base + np.where(missing, np.inf, grid).argmin(axis=1),  # a bucket all missing: its first
                  base + np.where(missing, -np.inf, grid).argmax(axis=1)]
        missing[-1, n - base[-1]:] = False  # the padding is no gap
        chosen.append((base + missing.argmax(axis=1))[missing.any(axis=1)])
    chosen = np.unique(np.concatenate(chosen + [np.array([0, n - 1])]))
    return chosen[chosen < n]


# One colour per series name (lower-cased: noise GANs write loss_g/loss_d, the translators
# loss_G/loss_D), whichever chart draws it: the generator's total loss blue, the discriminator's
# red, their learning rates darker shades of those; no two series of one model share a colour.
SERIES_COLOURS = {
    "loss_g": "#1f77b4", "loss_d": "#d62728",
    "loss_g_gan": "#ff7f0e", "loss_nce": "#2ca02c", "loss_nce_y": "#17becf",
    "loss_d_real": "#9467bd", "loss_d_fake": "#bcbd22", "loss_rec": "#17becf",
    "loss_g_adv_monet": "#ff7f0e", "loss_g_adv_photo": "#bcbd22", "loss_cycle_photo": "#2ca02c",
    "loss_cycle_monet": "#17becf", "loss_idt_monet": "#9467bd", "loss_idt_photo": "#e377c2",
    "loss_d_monet": "#8c564b", "loss_d_photo": "#7f7f7f",
    "d_x": "#2ca02c", "d_g_z1": "#ff7f0e", "d_g_z2": "#9467bd",
    "lr_g": "#393b79", "lr_d": "#ad494a",
    "fid": "#1b7a5a", "kid": "#d95f02", "kid_mean": "#d95f02", "diversity": "#7570b3",
    "input_distance": "#e7298a", "images_per_s": "#666666",
}
# Series the table does not know (a new model's loss) and runs on the Runs page.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
BEST_COLOUR = "#d62728"
RAW = "raw"  # the meta of a faint raw trace
METRIC_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def series_colour(name: str) -> str:
    """The series' colour in every chart: SERIES_COLOURS, else a colour fixed by the name."""
    key = name.lower()
    return SERIES_COLOURS.get(key) or PALETTE[zlib.crc32(key.encode()) % len(PALETTE)]


def run_colours(run_ids) -> dict[str, str]:
    """Run -> colour, for every chart of one page that colours by run (in the order given)."""
    return {run_id: PALETTE[i % len(PALETTE)] for i, run_id in enumerate(run_ids)}


def faded(colour: str, alpha: float = 0.2) -> str:
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def series_traces(x, y: pd.Series, name: str, colour: str, weight: float = 0.0, dash: str = "solid",
                  legendgroup: str | None = None, max_points: int | None = MAX_POINTS) -> list[dict]:
    """A series as TensorBoard draws it: smoothed, with the raw values faint behind (and in the
    hover); [the raw trace, the smoothed] (weight 0: [the raw]), as dicts for go.Figure(data=...),
    which validates them once. Smoothing is computed on the whole series, then each curve is
    downsampled (envelope_indices) to at most about max_points (None: every point), so the
    smoothed curve is the full series' and the raw band keeps its spikes."""
    group = legendgroup or name
    x = np.asarray(x)
    raw = pd.to_numeric(y, errors="coerce").to_numpy(dtype=float)
    keep = _points(raw, max_points)
    if weight <= 0:
        return [dict(type="scatter", x=x[keep], y=raw[keep], name=name, mode="lines", legendgroup=group,
                     line=dict(color=colour, width=1.5, dash=dash),
                     hovertemplate=f"{name}: %{{y:.4~g}}<extra></extra>")]
    smoothed = smooth(y, weight).to_numpy()
    behind = dict(type="scatter", x=x[keep], y=raw[keep], name=f"{name} (raw)", mode="lines", showlegend=False,
                  legendgroup=group, line=dict(color=faded(colour), width=1, dash=dash), hoverinfo="skip", meta=RAW)
    keep = _points(smoothed, max_points)
    return [behind, dict(type="scatter", x=x[keep], y=smoothed[keep], name=name, mode="lines", legendgroup=group,
                         customdata=raw[keep], line=dict(color=colour, width=2, dash=dash),
                         hovertemplate=f"{name}: %{{y:.4~g}} (raw %{{customdata:.4~g}})<extra></extra>")]


def add_series(fig: go.Figure, x, y: pd.Series, name: str, colour: str, weight: float = 0.0, dash: str = "solid",
               legendgroup: str | None = None, max_points: int | None = MAX_POINTS) -> None:
    """series_traces added to an existing figure (call raw_behind once all are added)."""
    fig.add_traces(series_traces(x, y, name, colour, weight, dash, legendgroup, max_points))


def _points(values: np.ndarray, max_points: int | None):
    keep = envelope_indices(values, max_points)
    return slice(None) if keep is None else keep


def raw_behind(fig: go.Figure) -> go.Figure:
    """Every faint raw series under every smoothed one (else a series drawn first hides under the
    raw noise of the next)."""
    fig.data = tuple(sorted(fig.data, key=lambda t: t.meta != RAW))
    return fig


def _raw_first(traces: list[dict]) -> list[dict]:
    """raw_behind for trace dicts, before the figure is built."""
    return sorted(traces, key=lambda t: t.get("meta") != RAW)


def line_figure(frame: pd.DataFrame, columns: dict[str, str], title: str, y_title: str = "",
                weight: float = 0.0, log_y: bool = False, ignore_outliers: bool = False,
                max_points: int | None = MAX_POINTS) -> go.Figure:
    """One series per column (column -> legend name) against step, coloured by column; a series
    equal to one before it (lr_d = lr_g) is dashed, so both colours show. Each curve is drawn
    with at most about max_points points (series_traces)."""
    traces, drawn = [], []
    for column, name in columns.items():
        if column in frame:
            same = any(frame[column].equals(frame[other]) for other in drawn)
            traces += series_traces(frame["step"], frame[column], name, series_colour(column), weight,
                                    dash="dash" if same else "solid", max_points=max_points)
            drawn.append(column)
    return _styled(traces, title, y_title, log_y, ignore_outliers)


def overlay_figure(frames: dict[str, pd.DataFrame], metrics: list[str], title: str, weight: float = 0.0,
                   log_y: bool = False, colours: dict[str, str] | None = None,
                   ignore_outliers: bool = False, max_points: int | None = MAX_POINTS) -> go.Figure:
    """Runs compared: colour = run (run_colours, shared by the page's charts), dash = metric."""
    traces = []
    colours = colours or run_colours(frames)
    for run_id, frame in frames.items():
        for i, metric in enumerate(metrics):
            if metric in frame:
                label = run_id if len(metrics) == 1 else f"{run_id} · {metric}"
                traces += series_traces(frame["step"], frame[metric], label, colours.get(run_id, PALETTE[0]), weight,
                                        dash=METRIC_DASHES[i % len(METRIC_DASHES)], max_points=max_points)
    return _styled(traces, title, metrics[0] if len(metrics) == 1 else "", log_y, ignore_outliers)


def _styled(traces: list[dict], title: str, y_title: str, log_y: bool, ignore_outliers: bool) -> go.Figure:
    """style()'s figure, built in one go: Plotly validates the traces and the layout once (adding
    them one by one, then update_layout and update_yaxes, costs several times as much on every
    refresh)."""
    traces, layout = _raw_first(traces), _layout(title, y_title, log_y)
    layout["yaxis"].update(y_axis_fit(traces, log_y, ignore_outliers))
    return go.Figure(data=traces, layout=layout)


def _main_axis_values(traces, shown_only: bool = False) -> np.ndarray:
    """The y values on the left axis (of the traces in the legend: the smoothed, not the faint raw);
    traces: a figure's (fig.data) or trace dicts."""
    def get(t, key):
        return t.get(key) if isinstance(t, dict) else getattr(t, key, None)

    values = [np.asarray(get(t, "y"), dtype=float) for t in traces
              if get(t, "y") is not None and get(t, "yaxis") in (None, "y")
              and not (shown_only and get(t, "showlegend") is False)]
    values = np.concatenate(values) if values else np.array([])
    return values[np.isfinite(values)]


def inlier_range(values: np.ndarray, fence: float = 3.0) -> tuple[float, float]:
    """min..max of the values inside Tukey's far-out fences (quartiles ± fence × IQR): a loss's
    first-step spike or a single blow-up does not flatten the rest of the curve."""
    q1, q3 = np.quantile(values, [0.25, 0.75])
    inside = values[(values >= q1 - fence * (q3 - q1)) & (values <= q3 + fence * (q3 - q1))]
    return float(inside.min()), float(inside.max())


def fit_y_axis(fig: go.Figure, log_y: bool = False, ignore_outliers: bool = False) -> None:
    """Scale the y axis to the values: a constant series (a fixed learning rate) gets a range
    around its value, where Plotly would draw -1..1 and the value would read as 0; values that
    small are written in scientific notation (2e-4, not 0.0002 or 200µ). ignore_outliers (as
    TensorBoard's option): the range fits the curves without their outliers (inlier_range)."""
    fitted = y_axis_fit(fig.data, log_y, ignore_outliers)
    if fitted:
        fig.update_yaxes(**fitted)


def y_axis_fit(traces, log_y: bool = False, ignore_outliers: bool = False) -> dict:
    """fit_y_axis's y-axis settings for the traces (a figure's, or trace dicts before the figure is
    built); {} where Plotly's own fit is right. The values are the drawn ones: on a downsampled
    curve, the same minimum and maximum as the whole series."""
    fitted = {}
    values = _main_axis_values(traces)
    if log_y:
        values = values[values > 0]
    if values.size == 0:
        return fitted
    low, high = float(values.min()), float(values.max())
    magnitude = max(abs(low), abs(high))
    if 0 < magnitude < 1e-2:
        fitted.update(exponentformat="e", showexponent="all", hoverformat=".3~e")  # 2e-4, 1.5e-4, …, 0
    if high - low <= 1e-9 * max(magnitude, 1e-300):  # constant
        if log_y:
            fitted["range"] = [np.log10(low) - 0.3, np.log10(low) + 0.3]
        else:
            pad = abs(low) * 0.5 if low else 1.0
            fitted["range"] = [low - pad, low + pad]
        return fitted
    if not ignore_outliers:
        return fitted
    shown = _main_axis_values(traces, shown_only=True)
    shown = np.log10(shown[shown > 0]) if log_y else shown
    if shown.size < 4:
        return fitted
    low, high = inlier_range(shown)
    full = (np.log10(values) if log_y else values)
    if low <= full.min() and high >= full.max():
        return fitted  # no outliers: Plotly's own fit
    pad = 0.05 * (high - low) or (0.3 if log_y else abs(low) * 0.5 or 1.0)
    fitted["range"] = [low - pad, high + pad]
    return fitted


def _layout(title: str, y_title: str = "", log_y: bool = False) -> dict:
    # The legend goes under the plot: at the top it collides with Plotly's toolbar.
    return dict(title=dict(text=title), xaxis=dict(title=dict(text="optimizer step")),
                yaxis=dict(title=dict(text=y_title), **({"type": "log"} if log_y else {})), height=380,
                margin=dict(l=10, r=10, t=40, b=10), hovermode="x unified",
                legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0))


def style(fig: go.Figure, title: str, y_title: str = "", log_y: bool = False,
          ignore_outliers: bool = False) -> go.Figure:
    fig.update_layout(_layout(title, y_title, log_y))
    fit_y_axis(fig, log_y, ignore_outliers)
    return fig


# --- the quality probe (quality.jsonl) -----------------------------------------------------------
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
                                 line=dict(color=series_colour("fid")), marker=dict(size=5)))
    if not frame.empty and "kid_mean" in frame:
        fig.add_trace(go.Scatter(x=frame["step"], y=frame["kid_mean"] * 1000, name="KID × 1000", yaxis="y2",
                                 mode="lines+markers", line=dict(color=series_colour("kid_mean"), dash="dot"),
                                 marker=dict(size=4)))
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
                           title: str = "Quality probe: FID by run", colours: dict[str, str] | None = None
                           ) -> go.Figure:
    """Runs compared by their probe curves: one colour per run (run_colours, shared by the page's
    charts), each run's best probe starred."""
    fig = go.Figure()
    best, colours = best or {}, colours or run_colours(runs)
    for run_id, rows in runs.items():
        scored = [r for r in rows if r.get("fid") is not None]
        if not scored:
            continue
        colour = colours.get(run_id, PALETTE[0])
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
