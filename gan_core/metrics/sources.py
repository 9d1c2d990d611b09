"""Image sets to score: a folder (searched recursively) or a zip of image files
(gan_core.image_files.IMAGE_EXTENSIONS).

A file that cannot be read or decoded (junk under an image name, a truncated JPEG, a zip member
compressed with deflate64 or encrypted) is skipped: `batches` leaves it out and records
(name, reason) in the source's `skipped`, so a score is computed over the rest and says what it left out.
"""
from __future__ import annotations

import io
import os
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterator

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from gan_core.data.tree import read_member
from gan_core.image_files import IMAGE_EXTENSIONS, is_image_name

# Reading a file: OSError (tree.UnreadableMemberError for deflate64 or encryption among them) or,
# for a zip member whose CRC does not match, BadZipFile.
READ_ERRORS = (OSError, zipfile.BadZipFile)
# Decoding it: PIL raises OSError for truncated data and ValueError, SyntaxError or EOFError
# on malformed headers.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


class UnreadableImage(Exception):
    """Why an image of the set was left out (the message)."""


@dataclass(frozen=True)
class ImageSource:
    path: Path
    names: tuple[str, ...]  # relative paths (folder) or member names (zip), sorted
    fingerprint: tuple[tuple, ...]  # (name, size, mtime[, crc]) per image: the cache key of its features
    # (name, reason) of each image `batches` had to leave out, filled as it reads
    skipped: list[tuple[str, str]] = field(default_factory=list, compare=False, hash=False, repr=False)

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
        """uint8 [3,H,W] tensors of the readable images, at most batch_size at a time, in `names`
        order; each unreadable one is left out and recorded in `skipped` (which starts afresh)."""
        self.skipped.clear()
        archive = zipfile.ZipFile(self.path) if self.is_zip else None
        try:
            for start in range(0, len(self), batch_size):
                batch = []
                for name in self.names[start:start + batch_size]:
                    try:
                        batch.append(self._read(archive, name))
                    except UnreadableImage as e:
                        self.skipped.append((name, str(e)))
                if batch:
                    yield batch
        finally:
            if archive is not None:
                archive.close()

    def readable_names(self) -> list[str]:
        """`names` less those skipped: the images whose features `batches` gave, in order."""
        left_out = {name for name, _ in self.skipped}
        return [name for name in self.names if name not in left_out]

    def _read(self, archive: zipfile.ZipFile | None, name: str) -> torch.Tensor:
        """uint8 [3,H,W]; UnreadableImage says why not (the words of the training data's report)."""
        try:
            data = (read_member(archive, archive.getinfo(name)) if archive is not None
                    else (self.path / name).read_bytes())
        except READ_ERRORS as e:
            raise UnreadableImage(f"unreadable file: {e}") from None
        if not data:
            raise UnreadableImage("empty file")
        try:
            with Image.open(io.BytesIO(data)) as image:
                pixels = np.asarray(image.convert("RGB"))
        except UnidentifiedImageError:
            raise UnreadableImage("not an image") from None
        except Image.DecompressionBombError:
            raise UnreadableImage("decompression bomb") from None
        except DECODE_ERRORS as e:
            raise UnreadableImage(f"corrupt or truncated image ({e})") from None
        return torch.from_numpy(pixels.copy()).permute(2, 0, 1)


def _paintings_only(names: list[str]) -> list[str]:
    """In the competition layout (monet_jpg/ beside photo_jpg/), the names under monet_jpg/."""
    folders = {PurePosixPath(n).parent.name for n in names}
    if {"monet_jpg", "photo_jpg"} <= folders:
        return [n for n in names if PurePosixPath(n).parent.name == "monet_jpg"]
    return names


def open_images(path: str | os.PathLike, what: str = "images", paintings_only: bool = False) -> ImageSource:
    """Lists the images of a folder or zip; raises FileNotFoundError / ValueError a user can act on.
    paintings_only (a scoring reference): the competition folder or zip counts as its Monet paintings,
    not its photos too."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} path {path} does not exist: check the path")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if is_image_name(p.name) and p.is_file())
        entries = [(p.relative_to(path).as_posix(), p) for p in files]
        if paintings_only:
            keep = set(_paintings_only([name for name, _ in entries]))
            entries = [(name, p) for name, p in entries if name in keep]
        entries = [(name, p.stat()) for name, p in entries]
        fingerprint = tuple((name, st.st_size, st.st_mtime_ns) for name, st in entries)
    elif zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                members = sorted((m for m in archive.infolist()
                                  if not m.is_dir() and is_image_name(m.filename)),
                                 key=lambda m: m.filename)
        except zipfile.BadZipFile as e:
            raise ValueError(f"{what} path {path} is not a readable zip archive ({e}): create or download it "
                             f"again") from None
        if paintings_only:
            keep = set(_paintings_only([m.filename for m in members]))
            members = [m for m in members if m.filename in keep]
        fingerprint = tuple((m.filename, m.file_size, m.date_time, m.CRC) for m in members)
    elif path.suffix.lower() == ".zip":
        raise ValueError(f"{what} path {path} is not a readable zip archive: it may be truncated (an interrupted "
                         f"download or copy) or not a zip at all: create or download it again")
    else:
        raise ValueError(f"{what} path {path} is neither a folder nor a zip file: give the folder or zip of "
                         f"the images")
    if len(fingerprint) < 2:
        raise ValueError(f"{what} path {path} holds {len(fingerprint)} image(s) ({', '.join(IMAGE_EXTENSIONS)}); "
                         f"scoring needs at least 2")
    return ImageSource(path, tuple(entry[0] for entry in fingerprint), fingerprint)
