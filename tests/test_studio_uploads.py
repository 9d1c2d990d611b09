"""Uploaded archives are checked before the studio accepts them (gan_core.uploads)."""
import io
import stat
import struct
import zipfile

import pytest

from gan_core.uploads import ArchiveError, check_archive, save_upload


def make_zip(path, members: dict[str, bytes], symlink: str | None = None):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def test_a_plain_archive_is_accepted(tmp_path):
    archive = make_zip(tmp_path / "ok.zip", {"monet_jpg/a.jpg": b"x" * 10, "photo_jpg/b.jpg": b"y" * 10})
    assert check_archive(archive, max_bytes=1000) == 2


@pytest.mark.parametrize("name, message", [
    ("/etc/cron.d/evil", "member '/etc/cron.d/evil' has an absolute path"),
    ("monet_jpg/../../evil.jpg", "member 'monet_jpg/../../evil.jpg' points outside the archive"),
    ("C:/Windows/evil.jpg", "has an absolute path"),
])
def test_escaping_members_are_refused(tmp_path, name, message):
    archive = make_zip(tmp_path / "bad.zip", {"monet_jpg/a.jpg": b"x", name: b"evil"})
    with pytest.raises(ArchiveError, match=message):
        check_archive(archive, max_bytes=1000)


def test_symlinks_size_and_member_count_are_bounded(tmp_path):
    with pytest.raises(ArchiveError, match="member 'monet_jpg/link.jpg' is a symbolic link"):
        check_archive(make_zip(tmp_path / "link.zip", {"a.jpg": b"x"}, symlink="monet_jpg/link.jpg"), 1000)
    bomb = make_zip(tmp_path / "bomb.zip", {"a.jpg": b"\0" * 5000, "b.jpg": b"\0" * 5000})
    with pytest.raises(ArchiveError, match="uncompressed size exceeds .* member 'b.jpg'"):
        check_archive(bomb, max_bytes=8000)
    many = make_zip(tmp_path / "many.zip", {f"{i}.jpg": b"x" for i in range(5)})
    with pytest.raises(ArchiveError, match="5 members, more than the 4 allowed"):
        check_archive(many, max_bytes=1000, max_members=4)
    (tmp_path / "not.zip").write_bytes(b"hello")
    with pytest.raises(ArchiveError, match="not a readable zip"):
        check_archive(tmp_path / "not.zip", 1000)


def test_save_upload_keeps_only_accepted_archives(tmp_path):
    good = make_zip(tmp_path / "src.zip", {"monet_jpg/a.jpg": b"x"}).read_bytes()
    saved = save_upload(io.BytesIO(good), "../gan getting started.zip", tmp_path / "up", 10_000, 10_000)
    assert saved == tmp_path / "up" / "gan_getting_started.zip" and saved.read_bytes() == good
    bad = make_zip(tmp_path / "bad.zip", {"../x.jpg": b"x"}).read_bytes()
    with pytest.raises(ArchiveError, match=r"\.\./x\.jpg"):
        save_upload(io.BytesIO(bad), "bad.zip", tmp_path / "up", 10_000, 10_000)
    with pytest.raises(ArchiveError, match="larger than"):
        save_upload(io.BytesIO(good), "big.zip", tmp_path / "up", 10, 10_000)
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["gan_getting_started.zip"]


# --- real damaged uploads: each refused in one line naming the upload, nothing kept ---------------
def jpeg_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def write_bomb(path, size=200 * 2**20):
    """A real zip bomb: `size` bytes of zeros deflated into one member (200 MB -> about 200 KB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("monet_jpg/zeros.jpg", "w") as member:
            for _ in range(size >> 20):
                member.write(bytes(1 << 20))
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    return write_bomb(tmp_path_factory.mktemp("bomb") / "bomb.zip")


def damaged_uploads(tmp_path, bomb) -> dict[str, tuple[bytes, str]]:
    """upload name -> (its bytes, what the message must say)."""
    empty = make_zip(tmp_path / "e.zip", {}).read_bytes()
    text = make_zip(tmp_path / "t.zip", {"README.txt": b"hello", "notes/a.csv": b"1,2"}).read_bytes()
    traversal = make_zip(tmp_path / "tr.zip", {"monet_jpg/a.jpg": jpeg_bytes(), "../../evil.jpg": b"x"}).read_bytes()
    absolute = make_zip(tmp_path / "ab.zip", {"/tmp/evil.jpg": jpeg_bytes()}).read_bytes()
    link = make_zip(tmp_path / "ln.zip", {"monet_jpg/a.jpg": jpeg_bytes()}, symlink="monet_jpg/b.jpg").read_bytes()
    return {
        "photo.zip": (jpeg_bytes(), "photo.zip is not a readable zip archive"),       # a JPEG renamed .zip
        "noise.zip": (bytes(range(256)) * 40, "noise.zip is not a readable zip archive"),
        "empty.zip": (empty, "empty.zip is an empty zip archive"),
        "text.zip": (text, "text.zip holds no images (2 other file(s), e.g. 'README.txt')"),
        "bomb.zip": (bomb.read_bytes(), "bomb.zip refused: member 'monet_jpg/zeros.jpg' expands from"),
        "traversal.zip": (traversal, "traversal.zip refused: member '../../evil.jpg' points outside the archive"),
        "absolute.zip": (absolute, "absolute.zip refused: member '/tmp/evil.jpg' has an absolute path"),
        "link.zip": (link, "link.zip refused: member 'monet_jpg/b.jpg' is a symbolic link"),
    }


@pytest.mark.parametrize("name", ["photo.zip", "noise.zip", "empty.zip", "text.zip", "bomb.zip", "traversal.zip",
                                  "absolute.zip", "link.zip"])
def test_a_damaged_upload_is_refused_in_one_line_and_not_kept(tmp_path, bomb, name):
    data, expected = damaged_uploads(tmp_path, bomb)[name]
    uploads = tmp_path / "uploads"
    with pytest.raises(ArchiveError) as refused:
        save_upload(io.BytesIO(data), name, uploads, 512 * 2**20, 2 * 2**30)  # the studio's own limits
    message = str(refused.value)
    assert expected in message and "\n" not in message
    assert "upload" in message.rsplit(":", 1)[-1] or "re-create the zip" in message.rsplit(":", 1)[-1]  # what to do
    assert list(uploads.iterdir()) == []  # nothing kept, not even the temporary


def test_the_size_limit_counts_declared_sizes_and_reads_stay_within_them(tmp_path, bomb):
    # Declared sizes: members each too small for the ratio rule still add up, and are refused.
    with zipfile.ZipFile(tmp_path / "many.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(4):
            archive.writestr(f"monet_jpg/{i}.jpg", bytes(4 * 2**20))
    with pytest.raises(ArchiveError, match=r"many.zip refused: uncompressed size exceeds 10 MiB .*'monet_jpg/2.jpg'"):
        check_archive(tmp_path / "many.zip", max_bytes=10 * 2**20)
    with zipfile.ZipFile(bomb) as archive:
        (info,) = archive.infolist()
    assert info.file_size == 200 * 2**20 and info.compress_size < 2**20
    # A zip that lies: its headers declare 10 bytes for the 200 MB member. Accepted by the size
    # check, yet no read gets more than the 10 declared bytes (zipfile stops there, then the CRC fails).
    data = bytearray(bomb.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)   # central directory: uncompressed size
    struct.pack_into("<I", data, 22, 10)             # local header: uncompressed size
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(data))
    assert check_archive(liar, max_bytes=1000) == 1
    from gan_core.data.tree import read_member

    received = []
    with zipfile.ZipFile(liar) as archive:
        with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
            with archive.open(archive.infolist()[0]) as member:
                while chunk := member.read(1 << 16):
                    received.append(len(chunk))
        with pytest.raises(zipfile.BadZipFile):
            read_member(archive, archive.infolist()[0])  # the data layer's reader: the same bound
    assert sum(received) <= 10


def test_the_home_page_shows_the_refusal_and_keeps_nothing(tmp_path, monkeypatch, bomb):
    from studio_support import open_page, reset_studio, texts

    uploads = tmp_path / "uploads"
    monkeypatch.setenv("GAN_STUDIO_UPLOADS", str(uploads))
    monkeypatch.setenv("GAN_STUDIO_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv("GAN_STUDIO_DATA", raising=False)
    reset_studio()
    try:
        at = open_page("home")
        cases = damaged_uploads(tmp_path, bomb)
        for name in ("photo.zip", "traversal.zip", "text.zip"):
            data, expected = cases[name]
            at.get("file_uploader")[0].set_value((name, data, "application/zip"))
            at.run()
            assert not at.exception, [e.value for e in at.exception]
            assert expected in "\n".join(e.value for e in at.error), texts(at)
            assert not uploads.exists() or list(uploads.iterdir()) == []
    finally:
        reset_studio()
