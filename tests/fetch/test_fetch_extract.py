"""Safe extraction against archives built to attack the extractor (all built here, in memory)."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distrust.fetch import ArchiveError, ExtractLimits, LimitExceeded, extract_archive
from distrust.fetch.extract import clean_member_path

MB = 1024 * 1024


def _tar_entry(tar: tarfile.TarFile, name: str, data: bytes = b"", **attrs: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if data else None)


def _tgz(path: Path, entries: list[tuple[str, bytes, dict[str, object]]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]
        for name, data, attrs in entries:
            _tar_entry(tar, name, data, **attrs)
    return path


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, produced on demand so a bomb costs no memory to build."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def _all_paths(root: Path) -> set[Path]:
    return {Path(d) / n for d, dirs, files in os.walk(root.parent) for n in (*dirs, *files)}


def test_npm_tarball_top_dir_is_stripped(tmp_path: Path) -> None:
    archive = _tgz(
        tmp_path / "a.tgz", [("package/package.json", b"{}", {}), ("package/lib/index.js", b"1", {})]
    )
    result = extract_archive(archive, tmp_path / "out")
    assert result.files == ("lib/index.js", "package.json")
    assert result.stripped_prefix == "package" and result.format == "tar.gz"
    assert (tmp_path / "out" / "lib" / "index.js").read_bytes() == b"1"


def test_other_top_dir_names_are_stripped_but_not_two_top_entries(tmp_path: Path) -> None:
    # Some npm tarballs use another top directory name (e.g. "node" for old packages).
    odd = extract_archive(_tgz(tmp_path / "o.tgz", [("node/index.js", b"1", {})]), tmp_path / "o")
    assert odd.files == ("index.js",) and odd.stripped_prefix == "node"
    two = extract_archive(
        _tgz(tmp_path / "t.tgz", [("a/x.js", b"1", {}), ("b/y.js", b"2", {})]), tmp_path / "t"
    )
    assert two.files == ("a/x.js", "b/y.js") and two.stripped_prefix is None
    single_file = extract_archive(_tgz(tmp_path / "f.tgz", [("index.js", b"1", {})]), tmp_path / "f")
    assert single_file.files == ("index.js",) and single_file.stripped_prefix is None


def test_path_traversal_absolute_and_links_are_skipped(tmp_path: Path) -> None:
    archive = _tgz(
        tmp_path / "evil.tgz",
        [
            ("package/index.js", b"ok", {}),
            ("package/../evil", b"pwned", {}),
            ("../../evil2", b"pwned", {}),
            ("/abs/evil3", b"pwned", {}),
            ("package/passwd", b"", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}),
            ("package/up", b"", {"type": tarfile.SYMTYPE, "linkname": "../../.."}),
            ("package/up/escaped", b"pwned", {}),  # written "through" the symlink if it existed
            ("package/hard", b"", {"type": tarfile.LNKTYPE, "linkname": "../../../etc/shadow"}),
            ("package/fifo", b"", {"type": tarfile.FIFOTYPE}),
            ("package/dev", b"", {"type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}),
        ],
    )
    dest = tmp_path / "x" / "out"
    result = extract_archive(archive, dest)

    reasons = dict(result.skipped)
    assert reasons["package/../evil"].startswith("parent-dir:")
    assert reasons["../../evil2"].startswith("parent-dir:")
    assert reasons["/abs/evil3"].startswith("absolute-path:")
    assert reasons["passwd"].startswith("symlink:") and "/etc/passwd" in reasons["passwd"]
    assert reasons["up"].startswith("symlink:")
    assert reasons["hard"].startswith("hardlink:") and "/etc/shadow" in reasons["hard"]
    assert reasons["fifo"].startswith("special:") and reasons["dev"].startswith("special:")
    # "up" was never a link, so "up/escaped" is an ordinary file inside the package.
    assert result.files == ("index.js", "up/escaped")
    assert (dest / "up" / "escaped").read_bytes() == b"pwned"
    created = _all_paths(dest)
    assert all(not p.is_symlink() for p in created)
    assert all(stat.S_ISREG(p.lstat().st_mode) or p.is_dir() for p in created)
    assert not (tmp_path / "evil").exists() and not (tmp_path / "x" / "evil").exists()
    assert not (tmp_path / "evil2").exists() and not Path("/abs/evil3").exists()


def test_zip_tricks_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pkg/ok.py", "x = 1\n")
        zf.writestr("../evil.py", "pwned")
        zf.writestr("/abs.py", "pwned")
        zf.writestr("C:/windows/evil.py", "pwned")
        zf.writestr("pkg\\..\\..\\evil.py", "pwned")
        zf.writestr("pkg/\x1b[31mred.py", "ansi")
        link = zipfile.ZipInfo("pkg/link")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        fifo = zipfile.ZipInfo("pkg/fifo")
        fifo.create_system = 3
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(fifo, "")
    result = extract_archive(path, tmp_path / "out")
    reasons = {p: r.split(":")[0] for p, r in result.skipped}
    assert reasons == {
        "../evil.py": "parent-dir",
        "/abs.py": "absolute-path",
        "C:/windows/evil.py": "drive-letter",
        "pkg\\..\\..\\evil.py": "backslash",
        "link": "symlink",  # clean paths lose the stripped top directory like extracted files do
        "fifo": "special",
    }
    # A control character cannot reach the report, but the file is kept for analysis.
    assert result.files == ("ok.py", "\u241b[31mred.py") and result.stripped_prefix == "pkg"
    assert not any(p.is_symlink() for p in _all_paths(tmp_path / "out"))


def test_permissions_are_never_executable(tmp_path: Path) -> None:
    archive = _tgz(
        tmp_path / "m.tgz",
        [("package/bin/run.sh", b"#!/bin/sh\n", {"mode": 0o6777}), ("package/secret", b"s", {"mode": 0o000})],
    )
    dest = tmp_path / "out"
    extract_archive(archive, dest)
    assert stat.S_IMODE((dest / "bin" / "run.sh").stat().st_mode) == 0o644
    assert stat.S_IMODE((dest / "secret").stat().st_mode) == 0o644
    assert stat.S_IMODE((dest / "bin").stat().st_mode) == 0o755


@pytest.mark.parametrize("name", ["package/zeros.js", "../zeros.js"])
def test_gzip_bomb_stops_at_ratio_cap(tmp_path: Path, name: str) -> None:
    """Also when the bomb hides in an entry that is skipped: skipped data is still inflated."""
    path = tmp_path / "bomb.tgz"
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo(name)
        info.size = 50 * MB
        tar.addfile(info, io.BufferedReader(_Zeros(info.size)))
    assert path.stat().st_size < MB
    with pytest.raises(LimitExceeded, match=r"more than 200:1 \(cap max_ratio\)") as err:
        extract_archive(path, tmp_path / "out")
    assert err.value.cap == "max_ratio"
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".extract-*")), "staging directory must be cleaned up"


def test_total_and_single_file_caps(tmp_path: Path) -> None:
    path = tmp_path / "big.tgz"
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for i in range(3):
            info = tarfile.TarInfo(f"package/f{i}.bin")
            info.size = 3 * MB
            tar.addfile(info, io.BufferedReader(_Zeros(info.size)))
    no_ratio = {"max_ratio": 1e9}
    with pytest.raises(LimitExceeded, match="cap max_total_bytes") as total:
        extract_archive(path, tmp_path / "a", limits=ExtractLimits(max_total_bytes=8 * MB, **no_ratio))
    assert total.value.cap == "max_total_bytes"
    with pytest.raises(LimitExceeded, match=r"f0\.bin is larger than 2097152 bytes") as single:
        extract_archive(path, tmp_path / "b", limits=ExtractLimits(max_file_bytes=2 * MB, **no_ratio))
    assert single.value.cap == "max_file_bytes"
    ok = extract_archive(path, tmp_path / "c", limits=ExtractLimits(**no_ratio))
    assert ok.total_bytes == 9 * MB


def test_zip_bomb_member_ratio(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros.py", "w") as member:
        for _ in range(20):
            member.write(bytes(MB))
    limits = ExtractLimits(ratio_floor_bytes=MB)
    with pytest.raises(LimitExceeded, match=r"zeros\.py expands more than 200:1") as err:
        extract_archive(path, tmp_path / "out", limits=limits)
    assert err.value.cap == "max_ratio"


def test_too_many_entries(tmp_path: Path) -> None:
    # 100,000 entries would make the same point slowly; the cap is what matters.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for i in range(1_500):
            _tar_entry(tar, f"package/f{i}.js")
    raw = tmp_path / "many.tgz"
    raw.write_bytes(gzip.compress(buf.getvalue(), compresslevel=1))
    with pytest.raises(LimitExceeded, match=r"more than 1000 entries \(cap max_files\)"):
        extract_archive(raw, tmp_path / "out", limits=ExtractLimits(max_files=1_000))
    zpath = tmp_path / "many.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for i in range(1_500):
            zf.writestr(f"f{i}.py", "")
    with pytest.raises(LimitExceeded, match="cap max_files"):
        extract_archive(zpath, tmp_path / "zout", limits=ExtractLimits(max_files=1_000))


def test_truncated_and_garbage_archives_are_corrupt(tmp_path: Path) -> None:
    whole = _tgz(tmp_path / "whole.tgz", [("package/index.js", os.urandom(64 * 1024), {})]).read_bytes()
    truncated = tmp_path / "trunc.tgz"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ArchiveError, match="corrupt archive: truncated"):
        extract_archive(truncated, tmp_path / "a")
    garbage = tmp_path / "garbage.tgz"
    garbage.write_bytes(b"\x1f\x8b" + os.urandom(2000))
    with pytest.raises(ArchiveError, match="corrupt archive"):
        extract_archive(garbage, tmp_path / "b")
    html = tmp_path / "html.tgz"
    html.write_bytes(b"<html>not found</html>")
    with pytest.raises(ArchiveError, match=r"corrupt archive: not a tar, gzip, bzip2, xz or zip file"):
        extract_archive(html, tmp_path / "c")
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK\x03\x04" + os.urandom(100))
    with pytest.raises(ArchiveError, match="corrupt archive"):
        extract_archive(bad_zip, tmp_path / "d")
    assert not any(tmp_path.glob(".extract-*")) and not any((tmp_path / n).exists() for n in "abcd")


def test_binary_named_js_is_simply_extracted(tmp_path: Path) -> None:
    blob = bytes(range(256)) * 16 + b"\x7fELF"
    result = extract_archive(_tgz(tmp_path / "b.tgz", [("package/index.js", blob, {})]), tmp_path / "out")
    assert result.files == ("index.js",) and (tmp_path / "out" / "index.js").read_bytes() == blob


def test_duplicates_keep_the_later_copy_and_conflicts_are_recorded(tmp_path: Path) -> None:
    archive = _tgz(
        tmp_path / "d.tgz",
        [
            ("package/index.js", b"first", {}),
            ("package/index.js", b"second", {}),
            ("package/lib", b"file", {}),
            ("package/lib/a.js", b"under a file", {}),
        ],
    )
    result = extract_archive(archive, tmp_path / "out")
    assert (tmp_path / "out" / "index.js").read_bytes() == b"second"
    reasons = {r.split(":")[0]: p for p, r in result.skipped}
    assert reasons == {"duplicate": "index.js", "conflict": "lib/a.js"}
    assert result.files == ("index.js", "lib")


def test_bz2_and_xz_sdists(tmp_path: Path) -> None:
    for mode, fmt in (("w:bz2", "tar.bz2"), ("w:xz", "tar.xz")):
        archive = _tgz(tmp_path / f"s.{fmt}", [("demo-1.0/setup.py", b"setup()", {})], mode=mode)
        result = extract_archive(archive, tmp_path / fmt)
        assert result.format == fmt and result.files == ("setup.py",) and result.stripped_prefix == "demo-1.0"


def test_destination_must_not_exist(tmp_path: Path) -> None:
    archive = _tgz(tmp_path / "a.tgz", [("package/x", b"1", {})])
    (tmp_path / "out").mkdir()
    with pytest.raises(FileExistsError):
        extract_archive(archive, tmp_path / "out")


@given(st.text(alphabet="ab./\\:C\x00\n", max_size=20))
def test_clean_member_path_never_escapes(name: str) -> None:
    clean, problem = clean_member_path(name)
    if clean is None:
        assert problem
        return
    parts = clean.split("/")
    assert not clean.startswith("/") and ".." not in parts and "" not in parts and "." not in parts
    assert "\\" not in clean and not any(ord(c) < 32 for c in clean)
    assert os.path.normpath(os.path.join("/root", clean)).startswith("/root/")
