"""Estimating a training before it starts: the plan matches what the trainer then does, the timing is
of real steps, and nothing is written or drawn from the global random state."""
import pytest
import torch

from gan_core.config import build_config
from gan_core.estimate import estimate_training
from gan_core.trainer import train

pytestmark = pytest.mark.usefixtures("one_thread")


def small(competition_data, runs_dir, **kw):
    values = dict(data=str(competition_data), model="dcgan", image_size=32, ngf=8, ndf=8, batch_size=16, epochs=2,
                  sample_every=100, checkpoint_every=100, runs_dir=str(runs_dir), run_id="run", seed=1)
    return build_config({**values, **kw})


@pytest.mark.parametrize("overrides", [{}, {"model": "cut", "generator": "unet", "batch_size": 2, "ngf": 8,
                                            "epochs": 1, "epoch_size": 40, "nce_patches": 16}])
def test_the_plan_is_the_trainers_and_nothing_is_written(competition_data, runs_dir, overrides):
    cfg = small(competition_data, runs_dir, **overrides)
    before = torch.get_rng_state()
    events = []
    estimate = estimate_training(cfg, timed_steps=2, callbacks=[events.append])
    assert torch.equal(torch.get_rng_state(), before)
    assert not (runs_dir / "run").exists()
    assert estimate.timed_steps == 2 and estimate.seconds_per_step > 0
    assert estimate.seconds == pytest.approx(estimate.total_steps * estimate.seconds_per_step)
    assert [e.data["done"] for e in events if e.kind == "progress" and e.data["task"] == "timing a step"] == [0, 1, 2, 3]

    started = []
    run = train(cfg, callbacks=[lambda e: started.append(e.data) if e.kind == "start" else None])
    assert started[0]["steps_per_epoch"] == estimate.steps_per_epoch
    assert run.status()["total_steps"] == estimate.total_steps == estimate.steps_per_epoch * cfg.epochs
    assert run.config()["train_images"] == estimate.train_images


def test_settings_the_trainer_refuses_are_refused(competition_data, runs_dir):
    with pytest.raises(ValueError, match="invalid training settings"):
        estimate_training(small(competition_data, runs_dir, model="cut", generator="unet", image_size=40))
