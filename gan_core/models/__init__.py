"""Model registry: config.model -> GAN formulation, and loading a trained model for inference."""
from __future__ import annotations

import importlib
from pathlib import Path

import torch

from gan_core import checkpoint
from gan_core.config import TrainConfig
from gan_core.models.base import GANModel

_REGISTRY = {
    "mlp": "gan_core.models.noise_gan:NoiseGAN",
    "dcgan": "gan_core.models.noise_gan:NoiseGAN",
    "fastgan": "gan_core.models.fastgan:FastGAN",
    "cyclegan": "gan_core.models.cyclegan:CycleGAN",
    "cut": "gan_core.models.cut:CUT",
    "fastcut": "gan_core.models.cut:CUT",
}


def model_class(name: str) -> type[GANModel]:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}: choose one of {', '.join(_REGISTRY)}")
    module, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)


def build_model(cfg: TrainConfig, channels: int, device: torch.device) -> GANModel:
    return model_class(cfg.model)(cfg, channels, device)


def load_model(run_or_checkpoint: str | Path, checkpoint_path: str | Path | None = None,
               device: str | torch.device = "cpu") -> tuple[GANModel, dict]:
    """A trained model for inference (EMA weights when the run kept them) and the checkpoint's
    metadata (step, epoch, config). Accepts a run directory (checkpoint_path: 'latest', the default,
    which is the newest checkpoint that loads, 'best', a file name in its checkpoints/ or a path) or
    a checkpoint file."""
    from gan_core.runs import Run  # runs imports nothing heavy; local import keeps this module light

    source = Path(run_or_checkpoint)
    if source.is_dir() and checkpoint_path in (None, "latest"):
        # The newest that loads: a damaged newer one is set aside (*.pt.bad), never taken as latest.
        run = Run(source)
        candidates = run.checkpoints()
        found = checkpoint.load_newest(candidates)
        if found is None and not candidates:
            run.resolve_checkpoint("latest")  # raises the "no checkpoint yet" message
        if found is None:
            raise ValueError(f"none of the {len(candidates)} checkpoint(s) of {source} loads (each renamed to "
                             f"*.pt.bad): the run cannot be used until one is restored to {run.checkpoints_dir}")
        path, ckpt = found
    else:
        path = Run(source).resolve_checkpoint(checkpoint_path) if source.is_dir() else Path(checkpoint_path or source)
        ckpt = checkpoint.load(path, require=checkpoint.TRAINING_KEYS)
    try:
        cfg = TrainConfig.from_dict(ckpt["config"])
    except TypeError as e:
        raise _mismatch(path, e) from e
    model = build_model(cfg, ckpt["channels"], torch.device(device))
    try:
        model.load_state_dict(ckpt["state"], inference_only=True)
    except torch.OutOfMemoryError:
        raise
    except (KeyError, TypeError, RuntimeError) as e:  # weights that do not fit the settings saved beside them
        raise _mismatch(path, e) from e
    for net in model.nets.values():
        net.eval()
    meta = {k: ckpt[k] for k in ("step", "epoch", "channels") if k in ckpt}
    meta.update(config=cfg, path=str(path))
    return model, meta


def _mismatch(path, error: Exception) -> ValueError:
    reason = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    return ValueError(f"checkpoint {path} does not match its own settings ({type(error).__name__}: {reason}): it "
                      f"is damaged or from an incompatible version; use another checkpoint of the run")
