"""A dataset's members as a flat sequence of records: one per image file, TFRecord entry, or MNIST
digit. A member that cannot be read becomes a record with a problem instead of an error, except
for a corrupt MNIST file, on which the whole dataset depends."""
from __future__ import annotations

import zipfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterator, NamedTuple

import numpy as np

from gan_core.data import mnist, tfrecord
from gan_core.data.layout import Dataset, Member

READ_ERRORS = (OSError, zipfile.BadZipFile)  # a zip member whose CRC does not match is a BadZipFile


class Record(NamedTuple):
    name: str
    domain: str
    payload: bytes | np.ndarray | None   # encoded image, or MNIST pixels
    problem: str | None                  # why there is no payload


def count_records(dataset: Dataset) -> int:
    """How many records iter_records will yield at most, without decoding anything."""
    total = 0
    for member in dataset.members:
        if member.format == "image":
            total += 1
            continue
        try:
            with dataset.tree.open(member.name) as file:
                if member.format == "tfrec":
                    total += tfrecord.count_records(file, dataset.tree.size(member.name))
                else:
                    total += mnist.count_images(file, member.name)
        except READ_ERRORS:
            pass  # iter_records reports it
    return total


def _tfrec_records(member: Member, data: bytes) -> Iterator[Record]:
    for index, record, problem in tfrecord.iter_records(data):
        name = f"{member.name}/#{index}"
        if problem:
            yield Record(name, member.domain, None, problem)
            continue
        try:
            features = tfrecord.parse_example(record)
        except ValueError as e:
            yield Record(name, member.domain, None, str(e))
            continue
        image_name = (features.get("image_name") or [None])[0]
        if isinstance(image_name, bytes):
            name = f"{member.name}/{image_name.decode('utf-8', 'replace')}"
        image = (features.get("image") or [None])[0]
        if isinstance(image, bytes):
            yield Record(name, member.domain, image, None)
        else:
            yield Record(name, member.domain, None, "no 'image' bytes feature")


def _outcome(member: Member, read: Future) -> tuple[Member, bytes | None, str | None]:
    try:
        return member, read.result(), None
    except READ_ERRORS as e:
        return member, None, f"unreadable file: {e}"


def _read_ahead(dataset: Dataset, window: int = 16) -> Iterator[tuple[Member, bytes | None, str | None]]:
    """(member, its bytes, None) or (member, None, why it is unreadable), read by two threads ahead
    of the caller, so that a cold disk's latency overlaps decoding."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending: deque[tuple[Member, Future]] = deque()
        for member in dataset.members:
            pending.append((member, pool.submit(dataset.tree.read, member.name)))
            if len(pending) > window:
                yield _outcome(*pending.popleft())
        while pending:
            yield _outcome(*pending.popleft())


def iter_records(dataset: Dataset) -> Iterator[Record]:
    for member, data, problem in _read_ahead(dataset):
        if problem:
            yield Record(member.name, member.domain, None, problem)
        elif member.format == "image":
            yield Record(member.name, member.domain, data, None)
        elif member.format == "tfrec":
            yield from _tfrec_records(member, data)
        else:
            for index, pixels in enumerate(mnist.read_images(data, member.name)):
                yield Record(f"{member.name}/{index:05d}", member.domain, pixels, None)
