"""`train --tensorboard` on the real digits: event files TensorBoard's own reader understands."""
from __future__ import annotations


import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from gan_core.cli import main
from gan_core.runs import Run



def test_train_flag_writes_scalars_and_sample_grids(mnist_raw, runs_dir, restore_signals):
    assert main(["train", "--data", str(mnist_raw), "--model", "mlp", "--image-size", "28", "--steps", "4",
                 "--batch-size", "16", "--sample-every", "2", "--runs-dir", str(runs_dir), "--run-id", "tb",
                 "--tensorboard"]) == 0
    run = Run(runs_dir / "tb")
    events = EventAccumulator(str(run.path / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    tags = events.Tags()
    metrics = run.metrics()
    for tag in ("loss_d", "loss_g", "d_x", "d_g_z1", "d_g_z2", "lr_g", "lr_d"):
        scalars = events.Scalars(tag)
        assert [s.step for s in scalars] == [1, 2, 3, 4], tag
        assert [s.value for s in scalars] == pytest.approx([r[tag] for r in metrics], rel=1e-6), tag
    assert tags["images"] == ["samples"]
    images = events.Images("samples")
    assert [i.step for i in images] == [2, 4]
    assert (images[0].width, images[0].height) == (242, 242)  # 8x8 digits of 28 px, 2 px apart
    assert images[0].encoded_image_string.startswith(b"\x89PNG")
