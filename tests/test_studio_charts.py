"""Charts and run comparison are driven by metric names and saved configs alone."""
import json
import re

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
    figure = charts.line_figure(frame, {n: n for n in groups["Generator losses"]}, "G", window=2)
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
