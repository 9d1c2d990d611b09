import pytest

from gan_core.cli import build_parser
from gan_core.cli.train import config_from_args
from gan_core.config import TrainConfig, build_config, resume_config


def test_defaults_follow_the_issue():
    cfg = TrainConfig()
    assert (cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.beta2, cfg.latent_dim) == (2e-4, 2e-4, 0.5, 0.999, 100)
    assert cfg.validate() == []


def test_cli_flags_map_onto_the_config():
    args = build_parser().parse_args(
        "train --data x --model dcgan --image-size 128 --epochs 3 --steps 7 --batch-size 16 --lr-g 1e-4 "
        "--lr-d 3e-4 --beta1 0.4 --beta2 0.99 --latent-dim 64 --loss hinge --diffaugment --ema "
        "--accumulation-steps 2 --sample-every 5 --checkpoint-every 6 --seed 3 --runs-dir r --run-id a".split())
    cfg = config_from_args(args)
    assert (cfg.image_size, cfg.epochs, cfg.steps, cfg.batch_size) == (128, 3, 7, 16)
    assert (cfg.lr_g, cfg.lr_d, cfg.beta1, cfg.beta2, cfg.latent_dim, cfg.loss) == (1e-4, 3e-4, 0.4, 0.99, 64, "hinge")
    assert cfg.diffaugment and cfg.ema and cfg.accumulation_steps == 2
    assert (cfg.sample_every, cfg.checkpoint_every, cfg.seed, cfg.runs_dir, cfg.run_id) == (5, 6, 3, "r", "a")


@pytest.mark.parametrize("overrides, message", [
    ({"image_size": 48}, "image_size=48"),
    ({"lr_g": 2.0}, "lr_g=2.0"),
    ({"batch_size": 0}, "batch_size=0"),
    ({"loss": "wgan"}, "loss='wgan'"),
])
def test_invalid_values_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        build_config(overrides)


def test_unknown_preset_lists_the_available_ones():
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        build_config(preset="nope")


def test_resume_allows_more_steps_but_not_another_model():
    saved = TrainConfig(steps=10).to_dict()
    assert resume_config(saved, {"steps": 20}).steps == 20
    with pytest.raises(ValueError, match="model"):
        resume_config(saved, {"model": "mlp"})


@pytest.mark.parametrize("run_id", ["nested/run1", "../x", "/tmp/abs", "..", ".hidden", "a\\b", " padded"])
def test_run_ids_are_one_folder_name(run_id):
    with pytest.raises(ValueError, match="one folder name"):
        build_config({"run_id": run_id})


def test_a_plain_run_id_is_accepted():
    assert build_config({"run_id": "monet-dcgan64_v1.2"}).run_id == "monet-dcgan64_v1.2"


@pytest.mark.parametrize("preset, overrides", [
    ("cut-cpu-preview", {"bf16": True, "run_id": "my run", "data": "/data/with space"}),
    ("", {"model": "dcgan", "diffaugment": True, "ema": True, "lr_g": 1e-4, "image_size": 32}),
    ("fastcut-cpu-preview", {"flip": False, "nce_layers": "0,2,4"}),
])
def test_the_train_command_rebuilds_the_same_config(preset, overrides):
    import shlex

    from gan_core.cli import build_parser
    from gan_core.cli.common import explicit_config_values
    from gan_core.config import train_command

    cfg = build_config(overrides, preset=preset or None)
    command = train_command(cfg.to_dict())
    assert command.startswith(f"python -m gan_core train --model {cfg.model}") and "--preset" not in command
    args = build_parser().parse_args(shlex.split(command)[3:])
    rebuilt = build_config(explicit_config_values(args))
    assert {**rebuilt.to_dict(), "preset": ""} == {**cfg.to_dict(), "preset": ""}


def test_bf16_is_auto_by_default_and_older_true_false_values_still_load():
    from gan_core.cli import build_parser
    from gan_core.cli.common import explicit_config_values
    from gan_core.config import TrainConfig, type_problems

    assert build_config({}).bf16 == "auto"
    assert build_config({"bf16": True}).bf16 == "on" and build_config({"bf16": False}).bf16 == "off"
    assert TrainConfig.from_dict({"bf16": False}).bf16 == "off" and type_problems({"bf16": True}) == []
    for argv, value in ((["--bf16"], "on"), (["--bf16", "off"], "off"), ([], "auto")):
        args = build_parser().parse_args(["train", *argv])
        assert build_config(explicit_config_values(args)).bf16 == value
    with pytest.raises(ValueError, match="bf16='yes': choose one of auto, on, off"):
        build_config({"bf16": "yes"})


def test_model_specific_settings_name_real_fields_and_models():
    from gan_core.config import FIELD_MODELS, MODELS, applies_to, config_fields

    names = {f.name for f in config_fields()}
    assert set(FIELD_MODELS) <= names
    assert all(set(models) <= set(MODELS) for models in FIELD_MODELS.values())
    assert applies_to("lambda_nce", "cut") and not applies_to("lambda_nce", "dcgan")
    assert applies_to("lr_g", "fastgan") and applies_to("lambda_rec", "fastgan") and not applies_to("latent_dim", "cut")
