"""What a competition zip must hold, and the check that an export (or any zip) holds it.

The Kaggle "I'm Something of a Painter Myself" submission is one flat `images.zip` of 7,000 to
10,000 RGB 256x256 JPEGs. Ours are named image_00000.jpg, image_00001.jpg, ... with no
duplicate contents.
"""
from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from PIL import Image

EXPORT_SIZE = 256
MAX_COUNT = 10_000
MIN_SUBMISSION = 7_000


def entry_name(index: int) -> str:
    return f"image_{index:05d}.jpg"


@dataclass
class ValidationReport:
    ok: bool
    count: int
    problems: list[str] = field(default_factory=list)

    def summary(self, limit: int = 5) -> str:
        if self.ok:
            return f"valid: {self.count} entries, {EXPORT_SIZE}x{EXPORT_SIZE} RGB JPEG, unique names and contents"
        shown = "; ".join(self.problems[:limit])
        more = f"; and {len(self.problems) - limit} more" if len(self.problems) > limit else ""
        return f"INVALID ({len(self.problems)} problems in {self.count} entries): {shown}{more}"


def validate_zip(path: str | os.PathLike, expected_count: int | None = None) -> ValidationReport:
    """Checks every entry; never raises for a bad zip, it lists the problems naming the entries."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        return ValidationReport(False, 0, [f"{path} is not a readable zip ({type(e).__name__}: {e})"])
    with archive:
        infos = archive.infolist()
        problems = _count_problems(len(infos), expected_count) + _name_problems([i.filename for i in infos])
        first_with_digest: dict[bytes, str] = {}
        for info in infos:
            problem = _entry_problem(archive, info, first_with_digest)
            if problem:
                problems.append(problem)
    return ValidationReport(not problems, len(infos), problems)


def _count_problems(count: int, expected: int | None) -> list[str]:
    problems = []
    if expected is not None and count != expected:
        problems.append(f"{count} entries, expected {expected}")
    if not 1 <= count <= MAX_COUNT:
        problems.append(f"{count} entries: a submission holds 1 to {MAX_COUNT:,}")
    return problems


def _name_problems(names: list[str]) -> list[str]:
    expected = {entry_name(i) for i in range(len(names))}
    problems = [f"{name} appears {n} times" for name, n in Counter(names).items() if n > 1]
    problems += [f"unexpected entry name {name!r} (expected {entry_name(0)} to {entry_name(len(names) - 1)})"
                 for name in names if name not in expected]
    present = set(names)
    problems += [f"{name} is missing" for name in sorted(expected - present)]
    return problems


def _entry_problem(archive: zipfile.ZipFile, info: zipfile.ZipInfo, first_with_digest: dict) -> str | None:
    name = info.filename
    try:
        data = archive.read(info)  # checks the entry's CRC
        with Image.open(io.BytesIO(data)) as image:
            fmt, size, mode = image.format, image.size, image.mode
            # Decoding at 1/8 scale still reads every coefficient, so truncation is caught, at a quarter of the cost.
            image.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
            image.load()
    except Exception as e:  # zipfile, zlib and PIL raise many types for damaged data
        return f"{name} does not decode ({type(e).__name__}: {e})"
    if fmt != "JPEG":
        return f"{name} is {fmt}, not JPEG"
    if size != (EXPORT_SIZE, EXPORT_SIZE):
        return f"{name} is {size[0]}x{size[1]}, not {EXPORT_SIZE}x{EXPORT_SIZE}"
    if mode != "RGB":
        return f"{name} is {mode}, not RGB"
    digest = hashlib.sha256(data).digest()
    if digest in first_with_digest:
        return f"{name} has the same bytes as {first_with_digest[digest]}"
    first_with_digest[digest] = name
    return None
