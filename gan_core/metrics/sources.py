"""Image sets to score: a folder (searched recursively) or a zip of JPEG/PNG files."""
from __future__ import annotations

import io
import os
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


@dataclass(frozen=True)
class ImageSource:
    path: Path
    names: tuple[str, ...]  # relative paths (folder) or member names (zip), sorted
    fingerprint: tuple[tuple, ...]  # (name, size, mtime[, crc]) per image: the cache key of its features

    @property
    def is_zip(self) -> bool:
        return self.path.is_file()

    def __len__(self) -> int:
        return len(self.names)

    def sample(self, n: int, seed: int = 0) -> ImageSource:
        """A reproducible random subset of n images (all of them when n >= len)."""
        if n >= len(self):
            return self
        keep = sorted(random.Random(seed).sample(range(len(self)), n))
        return ImageSource(self.path, tuple(self.names[i] for i in keep),
                           tuple(self.fingerprint[i] for i in keep))

    def batches(self, batch_size: int) -> Iterator[list[torch.Tensor]]:
        """uint8 [3,H,W] tensors, batch_size at a time, in `names` order."""
        archive = zipfile.ZipFile(self.path) if self.is_zip else None
        try:
            for start in range(0, len(self), batch_size):
                yield [self._read(archive, name) for name in self.names[start:start + batch_size]]
        finally:
            if archive is not None:
                archive.close()

    def _read(self, archive: zipfile.ZipFile | None, name: str) -> torch.Tensor:
        data = archive.read(name) if archive is not None else (self.path / name).read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            pixels = np.asarray(image.convert("RGB"))
        return torch.from_numpy(pixels.copy()).permute(2, 0, 1)


def open_images(path: str | os.PathLike, what: str = "images") -> ImageSource:
    """Lists the images of a folder or zip; raises FileNotFoundError / ValueError a user can act on."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} path {path} does not exist")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        entries = [(p.relative_to(path).as_posix(), p.stat()) for p in files]
        fingerprint = tuple((name, st.st_size, st.st_mtime_ns) for name, st in entries)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = sorted((m for m in archive.infolist()
                              if not m.is_dir() and Path(m.filename).suffix.lower() in IMAGE_EXTENSIONS),
                             key=lambda m: m.filename)
        fingerprint = tuple((m.filename, m.file_size, m.date_time, m.CRC) for m in members)
    else:
        raise ValueError(f"{what} path {path} is neither a folder nor a zip file")
    if len(fingerprint) < 2:
        raise ValueError(f"{what} path {path} holds {len(fingerprint)} image(s) ({', '.join(IMAGE_EXTENSIONS)}); "
                         f"scoring needs at least 2")
    return ImageSource(path, tuple(entry[0] for entry in fingerprint), fingerprint)
