"""Charts and run comparison are driven by metric names and saved configs alone."""
import json
import math
import re

import pandas as pd
import pytest

from gan_core.runs import create_run
from studio import charts
from studio.runs_view import config_table, differing_rows, highlight_differences

CYCLEGAN_ROW = {"step": 1, "epoch": 1, "time": 0.0, "loss_G": 13.0, "loss_G_adv_monet": 0.9, "loss_cycle_photo": 4.4,
                "loss_idt_monet": 1.8, "loss_D_monet": 0.4, "loss_D_photo": 0.3, "loss_D": 0.35,
                "lr_g": 2e-4, "lr_d_monet": 2e-4, "images_per_s": 0.2}


def test_every_loss_is_plotted_cyclegan_parts_split_by_network():
    frame = charts.metrics_frame([CYCLEGAN_ROW, {**CYCLEGAN_ROW, "step": 2}])
    groups = charts.loss_groups(frame)
    assert groups == {"Generator losses": ["loss_G", "loss_G_adv_monet", "loss_cycle_photo", "loss_idt_monet"],
                      "Discriminator losses": ["loss_D_monet", "loss_D_photo", "loss_D"]}
    assert charts.learning_rate_names(frame) == ["lr_g", "lr_d_monet"]
    figure = charts.line_figure(frame, {n: n for n in groups["Generator losses"]}, "G")
    assert [trace.name for trace in figure.data] == groups["Generator losses"]


def test_noise_gan_losses_share_one_chart():
    frame = charts.metrics_frame([{"step": 1, "time": 0.0, "loss_d": 1.3, "loss_g": 0.7, "d_x": 0.5}])
    assert charts.loss_groups(frame) == {"Losses": ["loss_d", "loss_g"]}


def test_config_differences_are_found_and_highlighted(tmp_path):
    runs = []
    for run_id, lr in (("a", 2e-4), ("b", 1e-4)):
        run = create_run(tmp_path, run_id)
        (run.path / "config.json").write_text(json.dumps({"model": "dcgan", "lr_g": lr, "run_id": run_id}))
        runs.append(run)
    table = config_table(runs)
    assert list(table.columns) == ["a", "b"] and "run_id" not in table.index
    assert list(table.index[differing_rows(table)]) == ["lr_g"]
    styles = re.search(r"<style.*?</style>", highlight_differences(table).to_html(), re.S).group()
    assert "row0_col0" in styles and "row0_col1" in styles and "row1" not in styles  # lr_g's cells only


def tensorboard_smoothing(values, weight):
    """TensorBoard's smoothing, written out as in its scalar dashboard."""
    last, count, out = 0.0, 0, []
    for value in values:
        if not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        count += 1
        out.append(last / (1 - weight ** count))
    return out


def test_smoothing_is_tensorboards_debiased_moving_average():
    values = pd.Series([1.0, 3.0, 2.0, 5.0])
    # By hand, weight 0.5: (0.5 / 0.5, 1.75 / 0.75, 1.875 / 0.875, 3.4375 / 0.9375)
    assert list(charts.smooth(values, 0.5)) == pytest.approx([1.0, 7 / 3, 15 / 7, 11 / 3])
    noisy = [0.9, 4.2, float("nan"), 1.3, 2.8, 0.1, 7.5]
    for weight in (0.0, 0.3, 0.6, 0.99):
        assert list(charts.smooth(pd.Series(noisy), weight)) == pytest.approx(tensorboard_smoothing(noisy, weight),
                                                                              nan_ok=True)
    assert list(charts.smooth(values, 0.0)) == list(values)  # 0: the raw values
    assert list(charts.smooth(pd.Series([2e-4] * 3), 0.9)) == [2e-4] * 3  # a constant stays exactly itself


def test_smoothed_series_are_drawn_over_their_faint_raw_values():
    frame = charts.metrics_frame([{"step": s, "time": 0.0, "loss_G": v, "loss_D": 1 / v} for s, v in
                                  enumerate([3.0, 1.0, 2.0, 0.5], 1)])
    raw = charts.line_figure(frame, {"loss_G": "loss_G", "loss_D": "loss_D"}, "Losses")
    assert [t.name for t in raw.data] == ["loss_G", "loss_D"]
    fig = charts.line_figure(frame, {"loss_G": "loss_G", "loss_D": "loss_D"}, "Losses", "loss", 0.6, log_y=True)
    raw_g, raw_d, smooth_g, smooth_d = fig.data  # all raw values under all smoothed curves
    assert [t.name for t in fig.data] == ["loss_G (raw)", "loss_D (raw)", "loss_G", "loss_D"]
    assert (raw_g.showlegend, raw_g.line.color) == (False, charts.faded(charts.series_colour("loss_G")))
    assert list(raw_g.y) == [3.0, 1.0, 2.0, 0.5] and list(smooth_g.customdata) == list(raw_g.y)
    assert list(smooth_g.y) == pytest.approx(tensorboard_smoothing([3.0, 1.0, 2.0, 0.5], 0.6))
    assert smooth_g.line.color == charts.series_colour("loss_G") and smooth_g.legendgroup == raw_g.legendgroup
    assert fig.layout.yaxis.type == "log"
    assert raw.layout.yaxis.type in (None, "linear", "-")


@pytest.mark.parametrize("log_y", [False, True])
def test_a_constant_learning_rate_reads_as_its_value(log_y):
    frame = charts.metrics_frame([{"step": s, "time": 0.0, "lr_g": 2e-4, "lr_d": 2e-4} for s in range(1, 6)])
    fig = charts.line_figure(frame, {"lr_g": "lr_g", "lr_d": "lr_d"}, "Learning rates", "lr", log_y=log_y)
    low, high = fig.layout.yaxis.range
    if log_y:
        low, high = 10 ** low, 10 ** high
    assert low < 2e-4 < high and high - low < 1e-3 and (low, high) != (-1, 1)
    assert fig.layout.yaxis.exponentformat == "e"  # ticks 2e-4, not 0.0002 or 200µ
    assert [t.line.dash for t in fig.data] == ["solid", "dash"]  # lr_d = lr_g: dashed over it, both seen
    changing = charts.line_figure(charts.metrics_frame([{"step": 1, "loss_g": 1.0}, {"step": 2, "loss_g": 2.0}]),
                                  {"loss_g": "loss_g"}, "Losses")
    assert changing.layout.yaxis.range is None and changing.layout.yaxis.exponentformat is None  # Plotly's own


def test_a_series_has_one_colour_in_every_chart():
    rows = [{"step": 1, "time": 0.0, "loss_G": 2.0, "loss_D": 0.5, "fid": 300.0},
            {"step": 2, "time": 1.0, "loss_G": 1.5, "loss_D": 0.4, "fid": 280.0}]
    frame = charts.metrics_frame(rows)
    colour = {t.name: t.line.color for t in charts.line_figure(frame, {"loss_G": "loss_G", "loss_D": "loss_D",
                                                                       "fid": "fid"}, "Losses").data}
    cyclegan = charts.metrics_frame([CYCLEGAN_ROW])
    split = {t.name: t.line.color for title, names in charts.loss_groups(cyclegan).items()
             for t in charts.line_figure(cyclegan, {n: n for n in names}, title, weight=0.5).data if t.showlegend
             is not False}
    assert split["loss_G"] == colour["loss_G"] and split["loss_D"] == colour["loss_D"]
    quality = charts.quality_figure([{"step": 1, "fid": 300.0, "kid_mean": 0.2}, {"step": 2, "fid": 280.0,
                                                                                    "kid_mean": 0.1}])
    assert quality.data[0].name == "FID" and quality.data[0].line.color == colour["fid"]
    assert charts.series_colour("loss_g") == charts.series_colour("loss_G")  # noise GANs write lower case


@pytest.mark.parametrize("model", ["cut", "cyclegan", "noise_gan", "fastgan"])
def test_no_two_series_of_a_model_share_a_colour(model):
    import importlib
    import inspect

    module = importlib.import_module(f"gan_core.models.{model}")
    names = next(c.loss_names for _, c in inspect.getmembers(module, inspect.isclass) if "loss_names" in vars(c))
    if model in ("noise_gan", "fastgan"):
        names += tuple(charts.DISCRIMINATOR_OUTPUTS)
    names += ("lr_g", "lr_d")
    colours = [charts.series_colour(n) for n in names]
    assert len(set(colours)) == len(colours), dict(zip(names, colours))


def test_runs_keep_their_colour_across_the_runs_pages_charts():
    frames = {run: charts.metrics_frame([{"step": 1, "loss_G": 2.0 + i, "loss_D": 0.5}, {"step": 2, "loss_G": 1.0,
                                                                                        "loss_D": 0.4}])
              for i, run in enumerate(["a", "b", "c"])}
    colours = charts.run_colours(frames)
    assert len(set(colours.values())) == 3
    metrics = charts.overlay_figure(frames, ["loss_G", "loss_D"], "Metrics by run", 0.6, False, colours)
    shown = [t for t in metrics.data if t.showlegend is not False]
    assert [t.name for t in shown] == [f"{r} · {m}" for r in "abc" for m in ("loss_G", "loss_D")]
    assert {t.name.split(" · ")[0]: t.line.color for t in shown} == colours
    assert [t.line.dash for t in shown[:2]] == ["solid", "dash"]  # the metric is the line style
    probes = {r: [{"step": 1, "fid": 300.0 - i}, {"step": 2, "fid": 250.0}] for i, r in enumerate(["c", "a"])}
    quality = charts.quality_overlay_figure(probes, colours=colours)
    assert {t.name: t.line.color for t in quality.data if t.mode == "lines+markers"} == {"c": colours["c"],
                                                                                        "a": colours["a"]}


def test_ignoring_outliers_scales_to_the_curve_not_its_first_step_spike():
    losses = [10.0] + [1.0 + 0.1 * (i % 5) for i in range(60)]  # a first-step spike, then 1.0..1.4
    frame = charts.metrics_frame([{"step": s, "loss_G": v} for s, v in enumerate(losses, 1)])
    fitted = charts.line_figure(frame, {"loss_G": "loss_G"}, "Losses", ignore_outliers=True)
    low, high = fitted.layout.yaxis.range
    assert 0.9 < low < 1.0 and 1.4 < high < 1.5
    assert charts.line_figure(frame, {"loss_G": "loss_G"}, "Losses").layout.yaxis.range is None  # all of it
    low, high = charts.line_figure(frame, {"loss_G": "loss_G"}, "Losses", log_y=True, ignore_outliers=True
                                   ).layout.yaxis.range  # log10 units
    assert low < 0 < math.log10(1.4) < high < 1
    steady = charts.metrics_frame([{"step": s, "loss_G": 3.0 - 0.05 * s} for s in range(1, 40)])
    assert charts.line_figure(steady, {"loss_G": "loss_G"}, "L", ignore_outliers=True).layout.yaxis.range is None


def test_smoothing_a_long_run_is_tensorboards_too():
    """The vectorised EMA (blocks solved in closed form) against the loop, on a 60,000-step noisy
    loss with gaps, at the slider's extremes and its default."""
    import numpy as np

    rng = np.random.default_rng(1)
    values = np.exp(0.3 * rng.standard_normal(60_000)) * np.linspace(8, 2, 60_000)
    values[[0, 7, 31_000]] = np.nan
    values[40_000:40_300] = np.nan
    for weight in (0.01, 0.6, charts.SMOOTHING_DEFAULT, charts.SMOOTHING_MAX):
        got = charts.smooth(pd.Series(values), weight).to_numpy()
        assert got == pytest.approx(tensorboard_smoothing(values, weight), rel=1e-10, nan_ok=True)


def test_a_long_series_is_downsampled_after_smoothing_keeping_its_envelope():
    import numpy as np

    rng = np.random.default_rng(2)
    n = 60_000
    losses = np.exp(0.3 * rng.standard_normal(n)) * np.linspace(8, 2, n)
    losses[12_345] = 40.0  # one blow-up
    losses[50_000:50_010] = np.nan  # rows without the metric
    frame = charts.metrics_frame([{"step": s, "loss_G": float(v)} for s, v in enumerate(losses, 1)])
    fig = charts.line_figure(frame, {"loss_G": "loss_G"}, "Losses", "loss", weight=0.9)
    raw, smoothed = fig.data
    for trace in (raw, smoothed):
        assert len(trace.x) <= charts.MAX_POINTS and (trace.x[0], trace.x[-1]) == (1, n)  # first and newest step
    full = charts.smooth(frame["loss_G"], 0.9)
    steps = np.asarray(smoothed.x)
    assert np.asarray(smoothed.y) == pytest.approx(full.loc[steps].to_numpy(), nan_ok=True)  # smoothed whole
    assert np.asarray(smoothed.customdata) == pytest.approx(losses[steps - 1], nan_ok=True)  # the hover's raw
    assert np.asarray(raw.y) == pytest.approx(losses[np.asarray(raw.x) - 1], nan_ok=True)
    assert np.nanmax(raw.y) == 40.0 and np.nanmin(raw.y) == np.nanmin(losses)  # spikes kept
    assert np.isnan(np.asarray(raw.y, dtype=float)).any()  # the gap is still drawn as one
    every = charts.line_figure(frame, {"loss_G": "loss_G"}, "Losses", weight=0.9, max_points=None)
    assert len(every.data[0].x) == n


def test_downsampling_buckets_stay_put_as_a_run_grows():
    """Only the last bucket's points change when rows are appended: the live curve does not shimmer."""
    import numpy as np

    values = np.random.default_rng(3).standard_normal(60_010)
    before, after = charts.envelope_indices(values[:60_000]), charts.envelope_indices(values)
    size = 1 << int(np.ceil(np.log2(60_000 / ((charts.MAX_POINTS - 2) // 2))))
    settled = 60_000 // size * size
    assert list(before[before < settled]) == list(after[after < settled])
    assert charts.envelope_indices(values[:charts.MAX_POINTS]) is None  # short: every point


def test_settings_that_mean_nothing_for_a_model_read_as_missing(tmp_path):
    """A FastGAN run has no generator choice and no PatchNCE: beside a CUT run those rows read "–"."""
    runs = []
    for run_id, model in (("gan", "fastgan"), ("cut", "cut")):
        run = create_run(tmp_path, run_id)
        (run.path / "config.json").write_text(json.dumps({"model": model, "generator": "resnet", "nce_idt": True,
                                                          "ngf": 16, "latent_dim": 256, "train_images": 300}))
        runs.append(run)
    table = config_table(runs)
    assert table.loc["generator"].tolist() == ["–", "resnet"] and table.loc["nce_idt"].tolist() == ["–", "True"]
    assert table.loc["latent_dim"].tolist() == ["256", "–"]
    assert table.loc["ngf"].tolist() == ["16", "16"] and table.loc["train_images"].tolist() == ["300", "300"]
