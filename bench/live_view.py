"""CPU per refresh of the Train page's live view on a long run: a synthetic 60,000-step CycleGAN
metrics.jsonl (the trainer's columns, realistic values), refreshed as studio/live.py does every
2 s while 10 new rows arrive between refreshes.

    old: the whole file re-read and re-parsed (gan_core.runs.read_jsonl), charts.metrics_frame,
         TensorBoard smoothing as a Python loop, every point in the figures
    new: studio.metrics_feed.MetricsFeed (only the appended bytes read, the DataFrame appended to),
         vectorised smoothing of the whole series, then each curve downsampled to
         charts.MAX_POINTS (envelope_indices)
    and between them the full re-read with the new figures, to show which half buys what.

Both build the same figures as the live view (the loss charts at the slider's default smoothing
with "ignore outliers" on, the learning-rate chart) and serialise them as st.plotly_chart does
(plotly.io.to_json(fig, validate=False)). Times are the median of --refreshes refreshes, CPU
(time.process_time: this process, all threads) and wall.

    python bench/live_view.py [--steps 60000] [--refreshes 20] [--append 10]
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import plotly.io as pio  # noqa: E402

from bench.machine import cpu_model  # noqa: E402
from gan_core.runs import read_jsonl  # noqa: E402
from studio import charts  # noqa: E402
from studio.metrics_feed import MetricsFeed  # noqa: E402

# gan_core.models.cyclegan.CycleGAN.loss_names (not imported: that pulls in torch), then the
# trainer's learning rates (one per optimizer: G, D).
CYCLEGAN_LOSSES = ("loss_G", "loss_G_adv_monet", "loss_G_adv_photo", "loss_cycle_photo", "loss_cycle_monet",
                   "loss_idt_monet", "loss_idt_photo", "loss_D_monet", "loss_D_photo", "loss_D")
# (start, end) of each loss over the run: a CycleGAN's losses settle, the cycle terms fall most.
LEVELS = {"loss_G": (9.0, 3.5), "loss_G_adv_monet": (0.9, 0.6), "loss_G_adv_photo": (0.9, 0.5),
          "loss_cycle_photo": (3.5, 0.9), "loss_cycle_monet": (3.0, 0.8), "loss_idt_monet": (1.7, 0.45),
          "loss_idt_photo": (1.5, 0.4), "loss_D_monet": (0.3, 0.2), "loss_D_photo": (0.3, 0.18),
          "loss_D": (0.3, 0.19)}


class Writer:
    """Rows as the trainer writes them (gan_core.reporting.StatsWriter: json.dumps + newline, flushed)."""

    def __init__(self, path: Path, total_steps: int, seed: int = 0):
        self.path, self.total, self.step = path, total_steps, 0
        self.rng = np.random.default_rng(seed)
        self.time = 1_790_000_000.0

    def row(self) -> dict:
        self.step += 1
        progress = self.step / self.total
        self.time += 0.7 + 0.05 * self.rng.random()
        row = {"step": self.step, "epoch": (self.step - 1) // 300 + 1, "time": self.time}
        for name in CYCLEGAN_LOSSES:
            start, end = LEVELS[name]
            level = end + (start - end) * math.exp(-5 * progress)
            row[name] = float(level * math.exp(0.25 * self.rng.standard_normal()))  # noisy, positive
        lr = 2e-4 * min(1.0, 2 * (1 - progress))  # constant, then linear decay over the second half
        row.update(lr_g=lr, lr_d=lr, images_per_s=float(1.4 + 0.1 * self.rng.standard_normal()))
        return row

    def write(self, count: int) -> None:
        with open(self.path, "a") as f:
            for _ in range(count):
                f.write(json.dumps(self.row()) + "\n")
                f.flush()


def old_smooth(series: pd.Series, weight: float) -> pd.Series:
    """charts.smooth before this change: the same EMA as a Python loop over the points."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    weight = min(max(float(weight), 0.0), charts.SMOOTHING_MAX)
    finite = values[np.isfinite(values)]
    if weight == 0 or finite.size == 0 or (finite == finite[0]).all():
        return pd.Series(values, index=series.index, name=series.name)
    out, last, count = values.copy(), 0.0, 0
    for i, value in enumerate(values):
        if np.isfinite(value):
            last = last * weight + (1 - weight) * value
            count += 1
            out[i] = last / (1 - weight ** count)
    return pd.Series(out, index=series.index, name=series.name)


def figures(frame: pd.DataFrame, max_points: int | None) -> list:
    """The live view's figures (studio/live.py _charts_and_samples) at chart_controls' defaults."""
    controls = {"weight": charts.SMOOTHING_DEFAULT, "log_y": False, "ignore_outliers": True}
    figs = [charts.line_figure(frame, {n: n for n in names}, title, "loss", **controls, max_points=max_points)
            for title, names in charts.loss_groups(frame).items()]
    outputs = {k: v for k, v in charts.DISCRIMINATOR_OUTPUTS.items() if k in frame}
    if outputs:
        figs.append(charts.line_figure(frame, outputs, "Discriminator outputs", "mean sigmoid",
                                       weight=controls["weight"], ignore_outliers=True, max_points=max_points))
    rates = charts.learning_rate_names(frame)
    if rates:
        figs.append(charts.line_figure(frame, {n: n for n in rates}, "Learning rates", "lr", max_points=max_points))
    return figs


class Clock:
    def __init__(self):
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def lap(self) -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        lap = (cpu - self.cpu, wall - self.wall)
        self.cpu, self.wall = cpu, wall
        return lap


def refresh(read, max_points) -> dict:
    """One refresh: read -> frame, figures, serialisation; CPU and wall seconds of each stage."""
    clock = Clock()
    frame = read()
    read_t = clock.lap()
    figs = figures(frame, max_points)
    build_t = clock.lap()
    payload = [pio.to_json(fig, validate=False) for fig in figs]
    json_t = clock.lap()
    return {"read": read_t, "figures": build_t, "to_json": json_t, "rows": len(frame),
            "points": sum(len(t.x) for fig in figs for t in fig.data), "json_bytes": sum(map(len, payload))}


def measure(name: str, writer: Writer, read, max_points, refreshes: int, append: int) -> dict:
    samples = []
    for _ in range(refreshes):
        writer.write(append)
        samples.append(refresh(read, max_points))
    median = {key: tuple(statistics.median(s[key][i] for s in samples) for i in (0, 1))
              for key in ("read", "figures", "to_json")}
    total = [sum(s[k][i] for k in ("read", "figures", "to_json")) for s in samples for i in (0, 1)]
    return {"name": name, "cpu": statistics.median(total[0::2]), "wall": statistics.median(total[1::2]),
            **median, "rows": samples[-1]["rows"], "points": samples[-1]["points"],
            "json_bytes": samples[-1]["json_bytes"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60_000, help="rows in metrics.jsonl before the refreshes")
    parser.add_argument("--refreshes", type=int, default=20, help="refreshes timed per path (the median is shown)")
    parser.add_argument("--append", type=int, default=10, help="rows appended before each refresh")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="live-view-bench-") as tmp:
        path = Path(tmp) / "metrics.jsonl"
        writer = Writer(path, total_steps=args.steps + 3 * args.refreshes * args.append + 1)
        writer.write(args.steps)
        size_mb = path.stat().st_size / 1e6

        feed = MetricsFeed(path)
        clock = Clock()
        feed.update()
        first = clock.lap()  # once per run path and studio process: the whole file, parsed

        smooth = charts.smooth
        charts.smooth = old_smooth
        try:
            old = measure("old: full re-read + metrics_frame + loop smoothing + every point", writer,
                          lambda: charts.metrics_frame(read_jsonl(path)), None, args.refreshes, args.append)
        finally:
            charts.smooth = smooth
        reread = measure("full re-read + metrics_frame, new figures (the drawing's share)", writer,
                         lambda: charts.metrics_frame(read_jsonl(path)), charts.MAX_POINTS, args.refreshes,
                         args.append)
        new = measure(f"new: MetricsFeed + vectorised smoothing + ≤{charts.MAX_POINTS} points per curve",
                      writer, lambda: feed.update()[0], charts.MAX_POINTS, args.refreshes, args.append)
        # the incremental frame is the full read's
        pd.testing.assert_frame_equal(feed.update()[0], charts.metrics_frame(read_jsonl(path)))

    print(f"CPU: {cpu_model()}; Python {platform.python_version()}, pandas {pd.__version__}, "
          f"plotly {__import__('plotly').__version__}")
    print(f"metrics.jsonl: {args.steps:,} CycleGAN rows ({size_mb:.1f} MB), {args.append} rows appended before "
          f"each refresh, median of {args.refreshes} refreshes per path; the new path's first read (the whole "
          f"file, once per run and studio process): {first[0] * 1e3:,.0f} ms CPU, {first[1] * 1e3:,.0f} ms wall\n")
    print("| path | CPU / refresh | wall / refresh | read + frame (CPU) | figures (CPU) | to_json (CPU) "
          "| points drawn | JSON |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in (old, reread, new):
        print(f"| {r['name']} | {r['cpu'] * 1e3:,.1f} ms | {r['wall'] * 1e3:,.1f} ms | {r['read'][0] * 1e3:,.1f} ms "
              f"| {r['figures'][0] * 1e3:,.1f} ms | {r['to_json'][0] * 1e3:,.1f} ms | {r['points']:,} "
              f"| {r['json_bytes'] / 1e3:,.0f} kB |")
    print(f"\nCPU per refresh: {old['cpu'] / new['cpu']:,.0f}x less (wall {old['wall'] / new['wall']:,.0f}x); "
          f"goal ≤ 50 ms: {'met' if new['cpu'] <= 0.05 else 'NOT met'} ({new['cpu'] * 1e3:.1f} ms)")


if __name__ == "__main__":
    main()
