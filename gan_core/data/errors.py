"""Dataset errors. Each is also a FileNotFoundError or ValueError, so the CLI prints it as one
line and exits with code 2."""
from __future__ import annotations


class DatasetError(Exception):
    """Base of every error about the dataset itself (as opposed to a bad image, which is skipped)."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    pass


class EmptyDatasetError(DatasetError, ValueError):
    """No usable images: nothing recognisable at the path, every file skipped, or an absent domain."""


class CorruptDatasetError(DatasetError, ValueError):
    """A file the whole dataset depends on (an MNIST IDX file, a zip) cannot be read."""
