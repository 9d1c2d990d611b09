"""Uploaded archives are checked before the studio accepts them (gan_core.uploads)."""
import io
import stat
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
