"""Safe extraction of the published zip archives (``medsaliency ingest``)."""

import io
import stat
import zipfile

import pytest

from medsaliency.cli import main
from medsaliency.data.archive import extract_archive
from medsaliency.errors import DataError


def make_zip(path, entries):
    """``entries``: name -> bytes, or name -> ("symlink", target)."""
    with zipfile.ZipFile(path, "w") as bundle:
        for name, content in entries.items():
            if isinstance(content, tuple):
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                bundle.writestr(info, content[1])
            else:
                bundle.writestr(name, content)
    return path


def inner_zip_bytes(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, content in entries.items():
            bundle.writestr(name, content)
    return buffer.getvalue()


def test_nested_archives_are_unpacked_like_the_figshare_download(tmp_path):
    archive = make_zip(
        tmp_path / "figshare.zip",
        {
            "README.txt": b"readme",
            "brainTumorDataPublic_1-2.zip": inner_zip_bytes({"1.mat": b"one", "2.mat": b"two"}),
            "brainTumorDataPublic_3-3.zip": inner_zip_bytes({"3.mat": b"three"}),
        },
    )
    dest = tmp_path / "data" / "brain_tumor"
    files = extract_archive(archive, dest)
    assert sorted(p.name for p in files) == ["1.mat", "2.mat", "3.mat", "README.txt"]
    assert (dest / "3.mat").read_bytes() == b"three"
    assert not list(dest.glob("*.zip"))


@pytest.mark.parametrize(
    "entry, reason",
    [("../escape.txt", "climbs out"), ("a/../../escape.txt", "climbs out"), ("/etc/evil", "absolute path"), ("C:/evil", "absolute path")],
)
def test_escaping_entries_reject_the_whole_archive(tmp_path, entry, reason):
    archive = make_zip(tmp_path / "evil.zip", {"good.txt": b"ok", entry: b"bad"})
    dest = tmp_path / "dest"
    with pytest.raises(DataError, match=rf"evil\.zip: entry '{entry}' .*{reason}"):
        extract_archive(archive, dest)
    assert not (dest / "good.txt").exists()
    assert not (tmp_path / "escape.txt").exists()


def test_symlink_entry_is_rejected(tmp_path):
    archive = make_zip(tmp_path / "link.zip", {"ok.txt": b"ok", "link": ("symlink", "/etc/passwd")})
    with pytest.raises(DataError, match=r"entry 'link' is a symbolic link"):
        extract_archive(archive, tmp_path / "dest")
    assert not (tmp_path / "dest" / "ok.txt").exists()


def test_existing_different_file_is_never_overwritten(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "1.mat").write_bytes(b"mine")
    archive = make_zip(tmp_path / "a.zip", {"0.mat": b"zero", "1.mat": b"theirs"})
    with pytest.raises(DataError, match=r"'1\.mat' would overwrite .*1\.mat, which differs; nothing was extracted"):
        extract_archive(archive, dest)
    assert (dest / "1.mat").read_bytes() == b"mine"
    assert not (dest / "0.mat").exists()


def test_re_ingesting_the_same_archive_is_harmless(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"x/1.png": b"png"})
    extract_archive(archive, tmp_path / "dest")
    assert extract_archive(archive, tmp_path / "dest") == []
    assert (tmp_path / "dest" / "x" / "1.png").read_bytes() == b"png"


def test_cli_reports_the_unsafe_entry_and_exits_2(tmp_path, capsys):
    archive = make_zip(tmp_path / "evil.zip", {"../x": b"bad"})
    assert main(["ingest", str(archive), "--dest", str(tmp_path / "d")]) == 2
    assert "evil.zip: entry '../x'" in capsys.readouterr().err


def test_corrupt_archive_is_named(tmp_path):
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DataError, match=r"broken\.zip: not a readable zip archive"):
        extract_archive(bad, tmp_path / "dest")
