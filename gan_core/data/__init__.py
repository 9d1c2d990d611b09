"""Datasets: the competition folder or zip, image folders, TFRecords and MNIST, decoded once into
an on-disk uint8 cache. See load_images and inspect_dataset.

Inspecting a dataset, and load_pixels (load_images' images as numpy arrays), need numpy only; ImageSet
(what load_images returns) holds torch tensors, so it is imported on first use: the studio's Home and
Dataset EDA pages never import torch."""
from gan_core.data.errors import CorruptDatasetError, DatasetError, DatasetNotFoundError, EmptyDatasetError
from gan_core.data.loader import inspect_dataset, load_images, load_pixels
from gan_core.data.report import InspectionReport

__all__ = ["load_images", "load_pixels", "inspect_dataset", "ImageSet", "InspectionReport", "DatasetError",
           "DatasetNotFoundError", "EmptyDatasetError", "CorruptDatasetError"]


def __getattr__(name: str):
    if name == "ImageSet":
        from gan_core.data.imageset import ImageSet

        return ImageSet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
