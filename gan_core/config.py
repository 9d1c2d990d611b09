"""Training settings: one dataclass drives the CLI (`python -m gan_core train`) and the studio's
Train page. Each field's metadata carries its help text and, where it has them, its choices,
so both front ends are generated from this single definition.

Precedence when building a config: dataclass defaults < the model's defaults (MODEL_DEFAULTS:
FastCUT's) < preset (assets/presets/*.json) < explicit values (CLI flags or form fields).
"""
from __future__ import annotations

import dataclasses
import json
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRESETS_DIR = Path(__file__).resolve().parent.parent / "assets" / "presets"
MODELS = ("mlp", "dcgan", "fastgan", "cyclegan", "cut", "fastcut")
NOISE_MODELS = ("mlp", "dcgan", "fastgan")
TRANSLATION_MODELS = ("cyclegan", "cut", "fastcut")
DOMAINS = ("monet", "photo", "all")
LOSSES = ("bce", "lsgan", "hinge")
BF16_CHOICES = ("auto", "on", "off")


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
    latent_dim: int = _f(100, "Length of the noise vector z (MLP/DCGAN/FastGAN; FastGAN's default: 256).",
                        group="model")
    ngf: int = _f(64, "Generator width (feature maps of the widest layer / CycleGAN base width).", group="model")
    ndf: int = _f(64, "Discriminator width.", group="model")
    d_layers: int = _f(3, "Translation models: PatchGAN stride-2 layers, which set the patch each output value "
                       "judges: 1 = 16x16, 2 = 34x34, 3 = 70x70 (the papers'), 4 = 142x142 pixels.", group="model")
    d_norm: str = _f("instance", "Translation models: PatchGAN normalisation after its inner convs: instance (the "
                     "papers': each feature map of each image brought to mean 0 and std 1) or none (the CUT "
                     "reference's --normD none).", ("instance", "none"), "model")
    mlp_hidden: int = _f(256, "Hidden units of the MLP GAN (first generator layer).", group="model")
    d_head: str = _f("conv", "DCGAN discriminator head: a final 4x4 conv, or adaptive average pooling + linear.",
                     ("conv", "avgpool"), "model")
    rec_width: int = _f(32, "FastGAN: width of D's reconstruction decoders at 128 px (4x that at 16 px): the "
                        "reference's 32 whatever ndf is. At ndf 16 they do most of D's arithmetic.", group="model")
    n_blocks: int = _f(9, "ResNet generator residual blocks (6 or 9; CycleGAN, CUT, FastCUT).", group="model")
    generator: str = _f("resnet", "Translation generator: the ResNet of CycleGAN/CUT, or the Kaggle tutorial's U-Net "
                        "(encoder down to 1x1 at the training size, skip connections; needs a power-of-2 size).",
                        ("resnet", "unet"), "model")
    unet_depth: int = _f(0, "U-Net generator: stride-2 levels of its encoder. 0: down to 1x1 at the training size "
                         "(the tutorial's; with resize-conv upsampling its innermost decoder step stays untrained, "
                         "and comes alive only at a larger export size); 6 at 128 px stops at 2x2.", group="model")
    unet_padding: str = _f("zeros", "U-Net generator: padding of its encoder convs: zeros (the tutorial's) or reflect "
                           "(as CycleGAN's ResNet and the decoder's resize-convs: no dark frame to learn around).",
                           ("zeros", "reflect"), "model")
    upsample: str = _f("transpose", "DCGAN and translation generator upsampling: transposed convs (the papers'), or "
                       "resize-convs (nearest upsample, reflection pad, 3x3 conv: no checkerboard texture).",
                       ("transpose", "resize"), "model")

    # --- loss ---
    loss: str = _f("bce", "Adversarial loss (CycleGAN always uses LSGAN).", LOSSES, "loss")
    label_smoothing: float = _f(0.0, "One-sided label smoothing: real targets become 1 - value (BCE).",
                                group="loss")
    lambda_cycle: float = _f(10.0, "CycleGAN cycle-consistency weight.", group="loss")
    lambda_identity: float = _f(5.0, "CycleGAN identity weight (the paper uses 0.5 x lambda_cycle).", group="loss")
    pool_size: int = _f(50, "CycleGAN history pool of generated images shown to the discriminators.",
                        group="loss")
    lambda_gan: float = _f(1.0, "CUT/FastCUT weight of the adversarial (LSGAN) term of G's loss.", group="loss")
    lambda_rec: float = _f(1.0, "FastGAN: weight of D's self-supervised reconstruction loss (MSE of the image, a "
                           "quarter and the half-size image decoded from D's features).", group="loss")
    lambda_nce: float = _f(1.0, "CUT/FastCUT PatchNCE weight (FastCUT's default: 10).", group="loss")
    nce_idt: bool = _f(True, "CUT/FastCUT identity PatchNCE on Monet -> Monet, averaged with the photo term "
                       "(FastCUT's default: off).", group="loss")
    nce_layers: str = _f("auto", "CUT/FastCUT generator layers PatchNCE compares, comma separated. auto: ResNet: "
                         "the padded input, both downsampling convs, residual blocks 1 and 5 (indices 0,4,7,10,14 "
                         "of its layer sequence, the reference's 0,4,8,12,16); U-Net: the input and encoder "
                         "blocks 1-4 (0 = input, k = encoder block k).", group="loss")
    nce_patches: int = _f(256, "CUT/FastCUT patch locations sampled per layer and image.", group="loss")
    nce_temperature: float = _f(0.07, "CUT/FastCUT PatchNCE softmax temperature.", group="loss")
    nce_dim: int = _f(256, "CUT/FastCUT projection head width (2-layer MLP, L2-normalised output).", group="loss")
    flip_equivariance: bool = _f(False, "CUT/FastCUT: translate a mirrored input half the time and compare "
                                 "features mirrored back (FastCUT's default: on).", group="loss")

    # --- optimisation ---
    epochs: int = _f(5, "Number of passes over the training set.")
    steps: int = _f(0, "If > 0, bound the run by optimizer steps instead of epochs.")
    epoch_size: int = _f(0, "Translation models: (photo, painting) pairs per epoch, each domain drawn in shuffled "
                         "passes (0 = the 300 paintings; 7038 = every photo once an epoch).")
    flip: bool = _f(True, "Translation models: mirror each training image with probability 1/2.", group="data")
    jitter: float = _f(286 / 256, "Translation models: resize each training image to jitter x the size, then "
                       "crop a random size x size window (the paper's 286 -> 256; 1 = off).", group="data")
    crop_size: int = _f(0, "Translation models: train on random crop_size windows of the image_size images, at "
                        "their scale (0 = whole images). image_size 256 with crop_size 128 makes 128 px steps that "
                        "see the photos at the scale export translates them (the U-Net's depth follows crop_size).",
                        group="data")
    batch_size: int = _f(64, "Images per micro-batch.")
    accumulation_steps: int = _f(1, "Micro-batches whose gradients are summed per optimizer step.")
    lr_g: float = _f(2e-4, "Generator learning rate (Adam).")
    lr_d: float = _f(2e-4, "Discriminator learning rate (Adam).")
    beta1: float = _f(0.5, "Adam beta1.")
    beta2: float = _f(0.999, "Adam beta2.")
    scheduler: str = _f("none", "Learning-rate schedule (every model): none; linear: constant, then linear decay to "
                        "--min-lr over the last --decay-epochs; plateau: ReduceLROnPlateau on the quality probe's FID "
                        "(needs --quality-every).", ("none", "plateau", "linear"))
    plateau_patience: int = _f(2, "plateau: quality probes without a new best FID that are tolerated; the next "
                               "one drops the rates.")
    plateau_factor: float = _f(0.5, "plateau: factor applied to every learning rate when it drops.")
    decay_epochs: int = _f(0, "linear: epochs of linear decay at the end of training.")
    min_lr: float = _f(0.0, "Floor of the learning rates under --scheduler linear or plateau.")
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
    bf16: str = _f("auto", "bf16 autocast: auto (on where the device has it: CUDA GPUs with bf16, CPUs with AVX-512 "
                   "BF16; about 2x faster there, the same FID at the same step count in bench/RESULTS.md), on "
                   "(refused where the device lacks it), off (fp32). A bare --bf16 means on.", BF16_CHOICES, "run")
    sync_batchnorm: bool = _f(False, "Under torchrun with several GPUs: BatchNorm statistics over the global batch "
                              "(SyncBatchNorm; CUDA only). No effect in a single process.", group="run")
    seed: int = _f(0, "Random seed; a CPU run with the same seed repeats exactly.", group="run")
    runs_dir: str = _f("", "Runs root (default $GAN_STUDIO_RUNS, then runs/).", group="run")
    run_id: str = _f("", "Run directory name (default: model-timestamp).", group="run")
    tensorboard: bool = _f(False, "Also write TensorBoard event files in the run directory.", group="run")
    quality_every: int = _f(0, "Quality probe every N optimizer steps and at the end (0 = off): FID/KID of "
                            "--quality-images images from the export generator against the real target images, "
                            "into quality.jsonl; the best probe's checkpoint is kept as checkpoints/best.pt.",
                            group="run")
    quality_images: int = _f(250, "Images per quality probe (fixed seeds or photos; FID of few images is biased "
                             "upwards, so compare probes of one size).", group="run")
    fork: str = _f("", "Start this new run from another run's checkpoint, RUN[:CHECKPOINT] (CHECKPOINT: best, "
                   "latest or a file name; default best, else latest): weights, EMA and optimizer state carried "
                   "over, these settings applied, steps counted from 0.", group="run")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def train_size(self) -> int:
        """The side of the images the translation nets train on: crop_size, else image_size."""
        return self.crop_size or self.image_size

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Build from a dict, ignoring unknown keys (configs written by older versions still load)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in upgrade_legacy(values).items() if k in names})

    def validate(self) -> list[str]:
        """Human-readable problems; empty when the config is usable."""
        problems = type_problems(self.to_dict())
        if problems:  # the checks below compare numbers
            return problems
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            if choices and getattr(self, f.name) not in choices:
                problems.append(f"{f.name}={getattr(self, f.name)!r}: choose one of {', '.join(choices)}")
        if self.model == "dcgan" and self.image_size not in (28, 32, 64, 128, 256):
            problems.append(f"image_size={self.image_size}: DCGAN supports 28, 32, 64, 128 or 256")
        if self.model == "fastgan" and self.image_size not in (64, 128, 256):
            problems.append(f"image_size={self.image_size}: FastGAN supports 64, 128 or 256")
        if self.lambda_rec < 0:
            problems.append(f"lambda_rec={self.lambda_rec}: must be 0 or more")
        if self.model in TRANSLATION_MODELS:
            problems += self._translation_problems()
        for name in ("batch_size", "accumulation_steps", "latent_dim", "sample_every", "checkpoint_every",
                     "num_samples", "ngf", "ndf", "mlp_hidden", "rec_width"):
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
        if self.scheduler == "plateau" and self.quality_every < 1:
            problems.append("scheduler=plateau steps on the quality probe's FID: set quality_every (e.g. 500)")
        if self.decay_epochs > 0 and self.scheduler != "linear":
            problems.append(f"decay_epochs={self.decay_epochs} applies with scheduler=linear only "
                            f"(scheduler is {self.scheduler!r})")
        if self.quality_every < 0 or self.quality_images < 2:
            problems.append(f"quality_every={self.quality_every}, quality_images={self.quality_images}: quality_every "
                            f"is 0 (off) or more, quality_images at least 2")
        if not 0 <= self.min_lr < min(self.lr_g, self.lr_d):
            problems.append(f"min_lr={self.min_lr}: must be at least 0 and below lr_g and lr_d")
        if self.run_id and run_id_problem(self.run_id):
            problems.append(f"run_id={self.run_id!r}: {run_id_problem(self.run_id)}; use --runs-dir to choose where "
                            f"runs go")
        if not 0 <= self.label_smoothing < 0.5:
            problems.append(f"label_smoothing={self.label_smoothing}: must be in [0, 0.5)")
        return problems


    def _translation_problems(self) -> list[str]:
        problems = []
        if self.image_size < 32 or self.image_size % 4:
            problems.append(f"image_size={self.image_size}: translation models need a multiple of 4, at least 32")
        if self.generator == "unet" and self.image_size & (self.image_size - 1):
            problems.append(f"image_size={self.image_size}: the U-Net generator needs a power of 2 (64, 128, 256)")
        if self.crop_size and not (32 <= self.crop_size <= self.image_size and self.crop_size % 4 == 0):
            problems.append(f"crop_size={self.crop_size}: 0 (off), or a multiple of 4 from 32 to image_size "
                            f"({self.image_size})")
        elif self.crop_size and self.generator == "unet" and self.crop_size & (self.crop_size - 1):
            problems.append(f"crop_size={self.crop_size}: the U-Net generator needs a power of 2 (64, 128, 256)")
        full_depth = self.train_size.bit_length() - 1
        if self.generator == "unet" and self.unet_depth and not 1 <= self.unet_depth <= full_depth:
            problems.append(f"unet_depth={self.unet_depth}: 0 (down to 1x1), or 1 to {full_depth} for a "
                            f"{self.train_size} px training image")
        if not 1 <= self.jitter <= 2:
            problems.append(f"jitter={self.jitter}: must be between 1 (off) and 2")
        if not 1 <= self.d_layers <= 4:
            problems.append(f"d_layers={self.d_layers}: choose 1, 2, 3 (the 70x70 PatchGAN) or 4")
        if self.model != "cyclegan":
            if self.nce_layers != "auto" and not all(p.strip().isdigit() for p in self.nce_layers.split(",")):
                problems.append(f"nce_layers={self.nce_layers!r}: auto, or comma-separated layer indices")
            for name in ("nce_patches", "nce_dim"):
                if getattr(self, name) < 1:
                    problems.append(f"{name}={getattr(self, name)}: must be at least 1")
            if not self.nce_temperature > 0:
                problems.append(f"nce_temperature={self.nce_temperature}: must be above 0")
        return problems


def run_id_problem(run_id: str) -> str | None:
    """Why run_id cannot name a run directory (one path segment), or None when it can."""
    if (not run_id or run_id in (".", "..") or any(c in run_id for c in '/\\\0') or run_id != run_id.strip()
            or run_id.startswith(".")):
        return ("a run id is one folder name (letters, digits, - _ and .; no slashes, not starting with a dot, "
                "no spaces around it)")
    return None


# CUT and FastCUT are one model with different defaults (Park et al. 2020, the reference's --CUT_mode):
# these sit between the dataclass defaults and a preset.
MODEL_DEFAULTS = {
    "fastcut": {"lambda_nce": 10.0, "nce_idt": False, "flip_equivariance": True},
    # FastGAN's reference settings (odegeasslbc/FastGAN-pytorch train.py): nz 256, batch 8, hinge,
    # DiffAugment colour + translation, an averaged G.
    "fastgan": {"latent_dim": 256, "batch_size": 8, "loss": "hinge", "diffaugment": True,
                "diffaugment_policy": "color,translation", "ema": True},
}


_CONV = ("dcgan", "fastgan") + TRANSLATION_MODELS
_CUT = ("cut", "fastcut")
# Settings that only mean something for some models (the studio's form shows them for those only);
# every other setting applies to all.
FIELD_MODELS = {
    "domain": NOISE_MODELS, "latent_dim": NOISE_MODELS, "mlp_hidden": ("mlp",), "ngf": _CONV, "ndf": _CONV,
    "d_head": ("dcgan",), "loss": NOISE_MODELS, "label_smoothing": NOISE_MODELS, "lambda_cycle": ("cyclegan",),
    "lambda_identity": ("cyclegan",), "pool_size": ("cyclegan",), "lambda_rec": ("fastgan",),
    "rec_width": ("fastgan",),
    "upsample": ("dcgan",) + TRANSLATION_MODELS,
    **{name: TRANSLATION_MODELS for name in ("n_blocks", "generator", "epoch_size", "flip", "jitter", "crop_size",
                                             "d_layers", "d_norm", "unet_depth", "unet_padding")},
    **{name: _CUT for name in ("lambda_gan", "lambda_nce", "nce_idt", "nce_layers", "nce_patches",
                               "nce_temperature", "nce_dim", "flip_equivariance")},
}


def applies_to(name: str, model: str) -> bool:
    """Whether the setting `name` means something for `model`."""
    return model in FIELD_MODELS.get(name, MODELS)


def model_defaults(model: str) -> dict:
    """TrainConfig's defaults for one model: the dataclass defaults with MODEL_DEFAULTS applied."""
    return {**TrainConfig().to_dict(), **MODEL_DEFAULTS.get(model, {}), "model": model}


_KINDS = {"int": (numbers.Integral,), "float": (numbers.Real,), "str": (str,), "bool": (bool,)}
_KIND_WORDS = {"int": "a whole number", "float": "a number", "str": "text", "bool": "true or false"}


def upgrade_legacy(values: dict) -> dict:
    """Values written before a setting changed type, in today's form: bf16 was true/false (now on/off,
    with auto the default), so older runs, presets and `--set bf16=true` still load."""
    if isinstance(values.get("bf16"), bool):
        values = {**values, "bf16": "on" if values["bf16"] else "off"}
    return values


def type_problems(values: dict) -> list[str]:
    """The settings in `values` (a config.json, say) whose value is not of the field's type, e.g.
    "batch_size='many': expected a whole number"; unknown keys are not checked."""
    problems, values = [], upgrade_legacy(values)
    for f in dataclasses.fields(TrainConfig):
        if f.name not in values:
            continue
        kind, value = f.type if isinstance(f.type, str) else f.type.__name__, values[f.name]
        accepted = _KINDS.get(kind)
        if accepted and (not isinstance(value, accepted) or (kind != "bool" and isinstance(value, bool))):
            problems.append(f"{f.name}={value!r}: expected {_KIND_WORDS[kind]}")
    return problems


def config_fields() -> list[dataclasses.Field]:
    return list(dataclasses.fields(TrainConfig))


def list_presets() -> dict[str, dict]:
    """Presets shipped in assets/presets: name -> {"description": ..., "values": {...}}."""
    presets = {}
    for path in sorted(PRESETS_DIR.glob("*.json")):
        try:
            presets[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"preset file {path} is damaged ({type(e).__name__}: {e}): restore it from the "
                             f"repository or delete it") from e
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
    values = upgrade_legacy({**MODEL_DEFAULTS.get(values.get("model", TrainConfig.model), {}), **values})
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


def default_reference() -> Path:
    """The Monet paintings scores compare with: $GAN_STUDIO_DATA/monet_jpg, or the competition zip
    $GAN_STUDIO_DATA itself (scored as its monet_jpg/ members)."""
    data = Path(default_data_path())
    return data if data.is_file() else data / "monet_jpg"


# What the trainer records in a run's config.json beside its settings: facts about the run, not settings.
RUN_RECORD = ("channels", "train_images", "steps_per_epoch", "data_report", "fork_of", "precision")

# Settings that may differ when a run is resumed; anything else must match what the run started with.
RESUME_MUTABLE = {"data", "epochs", "steps", "sample_every", "checkpoint_every", "keep_checkpoints",
                  "device", "bf16", "tensorboard", "runs_dir", "run_id", "quality_every"}


def resume_config(saved: dict, overrides: dict | None = None) -> TrainConfig:
    """The config a resumed run continues with: its saved config, plus overrides of the settings
    that may change (more epochs, another device...). Raises ValueError naming a conflicting one."""
    cfg = TrainConfig.from_dict(saved)
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    conflicts = [f"{k} (run has {getattr(cfg, k)!r}, given {v!r})" for k, v in overrides.items()
                 if k not in RESUME_MUTABLE and k != "preset" and getattr(cfg, k) != v]
    if conflicts:
        raise ValueError("cannot change these settings when resuming: " + "; ".join(conflicts)
                         + f". Fork it to change them: train --fork {saved.get('run_id', 'RUN')} --run-id NEW with "
                         f"the new settings (a new run from its best or latest checkpoint).")
    values = cfg.to_dict()
    values.update({k: v for k, v in overrides.items() if k in RESUME_MUTABLE})
    return TrainConfig(**values)


def train_command(values: dict) -> str:
    """The `python -m gan_core train` command that sets up this run again: --model, then every saved
    setting that differs from the model's defaults (the preset's values are already in them), as
    flags a shell takes as they are. `values`: a run's config.json or TrainConfig.to_dict()."""
    import shlex

    defaults = model_defaults(values.get("model", TrainConfig.model))
    parts = ["python", "-m", "gan_core", "train", "--model", str(defaults["model"])]
    for f in config_fields():
        if f.name in ("model", "preset") or f.name not in values or values[f.name] == defaults[f.name]:
            continue
        flag, value = "--" + f.name.replace("_", "-"), values[f.name]
        if isinstance(value, bool):
            parts.append(flag if value else "--no-" + flag[2:])
        else:
            parts += [flag, str(value)]
    return " ".join(shlex.quote(p) for p in parts)
