"""Datasets: the competition folder or zip, image folders, TFRecords and MNIST, decoded once into
an on-disk uint8 cache. See load_images and inspect_dataset."""
from gan_core.data.errors import CorruptDatasetError, DatasetError, DatasetNotFoundError, EmptyDatasetError
from gan_core.data.imageset import ImageSet
from gan_core.data.loader import inspect_dataset, load_images
from gan_core.data.report import InspectionReport

__all__ = ["load_images", "inspect_dataset", "ImageSet", "InspectionReport", "DatasetError",
           "DatasetNotFoundError", "EmptyDatasetError", "CorruptDatasetError"]
