"""The files under a dataset path, whether a folder, a zip archive (read in place, never unpacked),
or a single file. Names are relative POSIX paths; hidden files and folders (and macOS __MACOSX/
metadata in zips) are left out."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

from gan_core.data.errors import CorruptDatasetError, DatasetNotFoundError


def _visible(name: str) -> bool:
    return not any(part.startswith(".") or part == "__MACOSX" for part in name.split("/"))


class DirTree:
    is_archive = False

    def __init__(self, root: Path, stamps: dict[str, tuple[int, int]]):
        self.root = root
        self.stamps = stamps  # name -> (size, mtime_ns): what the cache key is made of

    @classmethod
    def scan(cls, root: Path) -> "DirTree":
        stamps = {}

        def walk(folder: str, prefix: str) -> None:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not _visible(entry.name):
                        continue
                    # Symlinked folders are followed, as torchvision's ImageFolder does.
                    if entry.is_dir():
                        walk(entry.path, f"{prefix}{entry.name}/")
                        continue
                    try:
                        stat = entry.stat()
                    except OSError:  # a broken symlink
                        continue
                    if S_ISREG(stat.st_mode):
                        stamps[prefix + entry.name] = (stat.st_size, stat.st_mtime_ns)

        walk(str(root), "")
        return cls(root, stamps)

    @classmethod
    def single(cls, path: Path) -> "DirTree":
        stat = path.stat()
        return cls(path.parent, {path.name: (stat.st_size, stat.st_mtime_ns)})

    def identity(self) -> list:
        return [str(self.root.resolve())]

    def size(self, name: str) -> int:
        return self.stamps[name][0]

    def open(self, name: str) -> BinaryIO:
        return open(self.root / name, "rb")

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def close(self) -> None:
        pass


class ZipTree:
    is_archive = True

    def __init__(self, path: Path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise CorruptDatasetError(f"cannot read zip archive {path}: {e}") from None
        self.members = {info.filename: info for info in self.zip.infolist()
                        if not info.is_dir() and _visible(info.filename)}
        self.stamps = {name: (info.file_size, info.CRC) for name, info in self.members.items()}

    def identity(self) -> list:
        stat = self.path.stat()
        return [str(self.path.resolve()), stat.st_size, stat.st_mtime_ns]

    def size(self, name: str) -> int:
        return self.members[name].file_size

    def open(self, name: str) -> BinaryIO:
        return self.zip.open(self.members[name])

    def read(self, name: str) -> bytes:
        return self.zip.read(self.members[name])

    def close(self) -> None:
        self.zip.close()


def open_tree(path: str | os.PathLike) -> DirTree | ZipTree:
    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetNotFoundError(f"dataset not found: {path} does not exist")
    if path.is_dir():
        return DirTree.scan(path)
    if zipfile.is_zipfile(path):
        return ZipTree(path)
    return DirTree.single(path)
