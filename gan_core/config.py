"""Training settings: one dataclass drives the CLI (`python -m gan_core train`) and the studio's
Train page. Each field's metadata carries its help text and, where it has them, its choices,
so both front ends are generated from this single definition.

Precedence when building a config: dataclass defaults < preset (assets/presets/*.json) < explicit
values (CLI flags or form fields).
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRESETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "presets"
MODELS = ("mlp", "dcgan", "cyclegan")
DOMAINS = ("monet", "photo", "all")
LOSSES = ("bce", "lsgan", "hinge")


def _f(default: Any, help: str, choices: tuple | None = None, group: str = "training") -> Any:
    return field(default=default, metadata={"help": help, "choices": choices, "group": group})


@dataclass
class TrainConfig:
    # --- data ---
    data: str = _f("", "Dataset: competition folder or zip, image folder, *.tfrec, or MNIST raw folder. "
                   "Defaults to $GAN_STUDIO_DATA, then data/ in the repo.", group="data")
    domain: str = _f("monet", "Domain trained on in the competition layout (noise models).", DOMAINS, "data")
    image_size: int = _f(64, "Square training resolution in pixels.", group="data")

    # --- model ---
    model: str = _f("dcgan", "Model family.", MODELS, "model")
    preset: str = _f("", "Named preset from assets/presets (its values are defaults; flags override).",
                     group="model")
    latent_dim: int = _f(100, "Length of the noise vector z (MLP/DCGAN).", group="model")
    ngf: int = _f(64, "Generator width (feature maps of the widest layer / CycleGAN base width).", group="model")
    ndf: int = _f(64, "Discriminator width.", group="model")
    mlp_hidden: int = _f(256, "Hidden units of the MLP GAN (first generator layer).", group="model")
    d_head: str = _f("conv", "DCGAN discriminator head: a final 4x4 conv, or adaptive average pooling + linear.",
                     ("conv", "avgpool"), "model")
    n_blocks: int = _f(9, "CycleGAN ResNet generator residual blocks (6 or 9).", group="model")

    # --- loss ---
    loss: str = _f("bce", "Adversarial loss (CycleGAN always uses LSGAN).", LOSSES, "loss")
    label_smoothing: float = _f(0.0, "One-sided label smoothing: real targets become 1 - value (BCE).",
                                group="loss")
    lambda_cycle: float = _f(10.0, "CycleGAN cycle-consistency weight.", group="loss")
    lambda_identity: float = _f(5.0, "CycleGAN identity weight (the paper uses 0.5 x lambda_cycle).", group="loss")
    pool_size: int = _f(50, "CycleGAN history pool of generated images shown to the discriminators.",
                        group="loss")

    # --- optimisation ---
    epochs: int = _f(5, "Number of passes over the training set.")
    steps: int = _f(0, "If > 0, bound the run by optimizer steps instead of epochs.")
    epoch_size: int = _f(0, "CycleGAN: samples per epoch (0 = size of the Monet set).")
    batch_size: int = _f(64, "Images per micro-batch.")
    accumulation_steps: int = _f(1, "Micro-batches whose gradients are summed per optimizer step.")
    lr_g: float = _f(2e-4, "Generator learning rate (Adam).")
    lr_d: float = _f(2e-4, "Discriminator learning rate (Adam).")
    beta1: float = _f(0.5, "Adam beta1.")
    beta2: float = _f(0.999, "Adam beta2.")
    scheduler: str = _f("none", "Learning-rate schedule: none, ReduceLROnPlateau on the losses, or CycleGAN's "
                        "constant-then-linear decay.", ("none", "plateau", "linear"))
    plateau_patience: int = _f(200, "ReduceLROnPlateau patience, in optimizer steps.")
    plateau_factor: float = _f(0.5, "ReduceLROnPlateau factor.")
    decay_epochs: int = _f(0, "CycleGAN: epochs of linear decay to 0 at the end of training.")
    diffaugment: bool = _f(False, "DiffAugment (colour, translation, cutout) on real and fake before D.")
    diffaugment_policy: str = _f("color,translation,cutout", "DiffAugment policy, comma separated.")
    ema: bool = _f(False, "Keep an exponential moving average of G for samples and export.")
    ema_decay: float = _f(0.999, "EMA decay per optimizer step.")

    # --- bookkeeping ---
    sample_every: int = _f(100, "Write a fixed-noise sample grid every N optimizer steps.", group="run")
    checkpoint_every: int = _f(500, "Write a checkpoint every N optimizer steps (and always at the end).",
                               group="run")
    keep_checkpoints: int = _f(5, "Checkpoints kept on disk, oldest deleted first (0 keeps all).", group="run")
    num_samples: int = _f(64, "Images in each sample grid.", group="run")
    device: str = _f("auto", "cuda, mps, cpu, or auto (the best available).", ("auto", "cuda", "mps", "cpu"), "run")
    bf16: bool = _f(False, "bf16 autocast (GPU, or CPUs with AVX-512 BF16).", group="run")
    sync_batchnorm: bool = _f(False, "Under torchrun with several GPUs: BatchNorm statistics over the global batch "
                              "(SyncBatchNorm; CUDA only). No effect in a single process.", group="run")
    seed: int = _f(0, "Random seed; a CPU run with the same seed repeats exactly.", group="run")
    runs_dir: str = _f("", "Runs root (default $GAN_STUDIO_RUNS, then runs/).", group="run")
    run_id: str = _f("", "Run directory name (default: model-timestamp).", group="run")
    tensorboard: bool = _f(False, "Also write TensorBoard event files in the run directory.", group="run")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Build from a dict, ignoring unknown keys (configs written by older versions still load)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def validate(self) -> list[str]:
        """Human-readable problems; empty when the config is usable."""
        problems = []
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) not in choices:
                problems.append(f"{f.name}={getattr(self, f.name)!r}: choose one of {', '.join(choices)}")
        if self.model == "dcgan" and self.image_size not in (28, 32, 64, 128, 256):
            problems.append(f"image_size={self.image_size}: DCGAN supports 28, 32, 64, 128 or 256")
        if self.model == "cyclegan" and (self.image_size < 32 or self.image_size % 4):
            problems.append(f"image_size={self.image_size}: CycleGAN needs a multiple of 4, at least 32")
        for name in ("batch_size", "accumulation_steps", "latent_dim", "sample_every", "checkpoint_every",
                     "num_samples", "ngf", "ndf", "mlp_hidden"):
            if getattr(self, name) < 1:
                problems.append(f"{name}={getattr(self, name)}: must be at least 1")
        if self.epochs < 1 and self.steps < 1:
            problems.append("epochs and steps are both 0: set one of them")
        for name in ("lr_g", "lr_d"):
            if not 0 < getattr(self, name) < 1:
                problems.append(f"{name}={getattr(self, name)}: must be between 0 and 1")
        for name in ("beta1", "beta2", "ema_decay"):
            if not 0 <= getattr(self, name) < 1:
                problems.append(f"{name}={getattr(self, name)}: must be in [0, 1)")
        if not 0 <= self.label_smoothing < 0.5:
            problems.append(f"label_smoothing={self.label_smoothing}: must be in [0, 0.5)")
        return problems


def config_fields() -> list[dataclasses.Field]:
    return list(dataclasses.fields(TrainConfig))


def list_presets() -> dict[str, dict]:
    """Presets shipped in assets/presets: name -> {"description": ..., "values": {...}}."""
    presets = {}
    for path in sorted(PRESETS_DIR.glob("*.json")):
        presets[path.stem] = json.loads(path.read_text())
    return presets


def build_config(overrides: dict | None = None, preset: str | None = None) -> TrainConfig:
    """defaults < preset < overrides. Raises ValueError naming the problem."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    preset = preset or overrides.get("preset") or ""
    values: dict = {}
    if preset:
        presets = list_presets()
        if preset not in presets:
            raise ValueError(f"unknown preset {preset!r}: available presets are {', '.join(presets) or 'none'} "
                             f"(in {PRESETS_DIR})")
        values.update(presets[preset]["values"])
        values["preset"] = preset
    values.update(overrides)
    unknown = set(values) - {f.name for f in config_fields()}
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    cfg = TrainConfig(**values)
    problems = cfg.validate()
    if problems:
        raise ValueError("invalid training settings: " + "; ".join(problems))
    return cfg


def default_data_path() -> str:
    """$GAN_STUDIO_DATA, then data/ in the repo."""
    env = os.environ.get("GAN_STUDIO_DATA")
    if env:
        return env
    return str(Path(__file__).resolve().parent.parent / "data")


# Settings that may differ when a run is resumed; anything else must match what the run started with.
RESUME_MUTABLE = {"data", "epochs", "steps", "sample_every", "checkpoint_every", "keep_checkpoints",
                  "device", "bf16", "tensorboard", "runs_dir", "run_id"}


def resume_config(saved: dict, overrides: dict | None = None) -> TrainConfig:
    """The config a resumed run continues with: its saved config, plus overrides of the settings
    that may change (more epochs, another device...). Raises ValueError naming a conflicting one."""
    cfg = TrainConfig.from_dict(saved)
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    conflicts = [f"{k} (run has {getattr(cfg, k)!r}, given {v!r})" for k, v in overrides.items()
                 if k not in RESUME_MUTABLE and k != "preset" and getattr(cfg, k) != v]
    if conflicts:
        raise ValueError("cannot change these settings when resuming: " + "; ".join(conflicts)
                         + ". Start a new run (another --run-id) to change them.")
    values = cfg.to_dict()
    values.update({k: v for k, v in overrides.items() if k in RESUME_MUTABLE})
    return TrainConfig(**values)
