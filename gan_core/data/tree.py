"""The files under a dataset path, whether a folder, a zip archive (read in place, never unpacked),
or a single file. Names are relative POSIX paths; hidden files and folders (and macOS __MACOSX/
metadata in zips) are left out. A zip member that zipfile cannot read (deflate64 and other
unsupported compression methods, encryption) raises UnreadableMemberError, an OSError, when read:
the readers skip it and count it like any other unreadable file."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

from gan_core.data.errors import CorruptDatasetError, DatasetNotFoundError


# Names of zip compression methods (APPNOTE numbers) for the message when zipfile cannot decompress one.
COMPRESSION_METHODS = {1: "shrink", 6: "implode", 9: "deflate64", 10: "PKWARE implode", 12: "bzip2", 14: "LZMA",
                       93: "Zstandard", 95: "xz", 96: "JPEG variant", 97: "WavPack", 98: "PPMd", 99: "AES encryption"}


class UnreadableMemberError(OSError):
    """A zip member that zipfile cannot read: an unsupported compression method or encryption.
    An OSError, so that readers skip it and count it like any other unreadable file."""


def open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> BinaryIO:
    """The member opened for reading; UnreadableMemberError says why it cannot be."""
    if info.flag_bits & 0x1:
        raise UnreadableMemberError("encrypted (password-protected) zip member: re-create the zip without a password")
    try:
        return archive.open(info)
    except NotImplementedError as e:  # zipfile's error for a compression method or feature it lacks
        if info.compress_type in COMPRESSION_METHODS or "compression" in str(e):
            method = COMPRESSION_METHODS.get(info.compress_type, "an unknown method")
            raise UnreadableMemberError(f"compressed with {method} (zip method {info.compress_type}), which Python's "
                                        f"zipfile cannot decompress: re-create the zip with ordinary deflate") from None
        raise UnreadableMemberError(f"unsupported zip feature ({e}): re-create the zip with ordinary deflate") from None
    except RuntimeError as e:  # zipfile's error for a method whose module (bz2, lzma) is missing
        raise UnreadableMemberError(f"{e}: re-create the zip with ordinary deflate") from None


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes; UnreadableMemberError (an OSError) for what zipfile cannot read, and
    zipfile.BadZipFile for a damaged member (its CRC does not match)."""
    with open_member(archive, info) as f:
        return f.read()


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
            raise CorruptDatasetError(f"cannot read zip archive {path}: {e}; it may be truncated (an interrupted "
                                      f"download or copy) or not a zip at all: download or create it again") from None
        self.members = {info.filename: info for info in self.zip.infolist()
                        if not info.is_dir() and _visible(info.filename)}
        self.stamps = {name: (info.file_size, info.CRC) for name, info in self.members.items()}

    def identity(self) -> list:
        stat = self.path.stat()
        return [str(self.path.resolve()), stat.st_size, stat.st_mtime_ns]

    def size(self, name: str) -> int:
        return self.members[name].file_size

    def open(self, name: str) -> BinaryIO:
        return open_member(self.zip, self.members[name])

    def read(self, name: str) -> bytes:
        return read_member(self.zip, self.members[name])

    def close(self) -> None:
        self.zip.close()


def open_tree(path: str | os.PathLike) -> DirTree | ZipTree:
    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetNotFoundError(f"dataset not found: {path} does not exist")
    if path.is_dir():
        return DirTree.scan(path)
    if zipfile.is_zipfile(path) or path.suffix.lower() == ".zip":  # a .zip that is none: say so, not "no images"
        return ZipTree(path)
    return DirTree.single(path)
