"""Unpack a package archive that may have been built to attack whoever unpacks it.

Every archive reaching this module is hostile until analysed: the whole point of distrust is
to look inside packages we do not trust. So extraction never uses ``tarfile.extract`` or
``zipfile.extract``; it reads each entry, decides itself where (and whether) it may be
written, and writes plain files with fixed permissions. The policy:

* **Unsafe entries are skipped and recorded, not fatal.** A ``../evil`` path, an absolute
  path, a symlink to ``/etc/passwd`` or a device node is itself evidence; refusing the whole
  archive would stop the analysis of exactly the packages that most need it. Each skipped
  entry comes back as ``(path, reason)`` so the profile can say "could not analyse".
* **Resource caps are fatal.** Going past the file-count, size or compression-ratio caps
  means the archive is a bomb (or far outside what an MCP server needs); the error names the
  cap so the user can raise it deliberately. Sizes are counted on the bytes actually
  produced while streaming, never taken from headers.
* **Links are never created, and nothing is ever executable.** Files are written 0644 and
  directories 0755 with ``O_NOFOLLOW``, into a fresh directory only this code writes to.
* **Corruption is fatal** with a message starting ``corrupt archive:``.

The single top directory of an npm tarball (``package/``, or any other name) or of a PyPI
sdist (``name-version/``) is stripped, so callers see ``package.json`` / ``setup.py`` at the
root regardless of how the archive was packed.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from distrust.fetch.errors import ArchiveError, LimitExceeded

if TYPE_CHECKING:
    import tarfile
    import zipfile

    from _typeshed import WriteableBuffer

# The archive and compression modules (tarfile, zipfile, gzip, bz2, lzma) are imported where
# an archive is unpacked: a warm cache serves extracted files and never needs them (~8 ms).

MB: Final = 1024 * 1024
CHUNK: Final = 1024 * 1024


@dataclass(frozen=True)
class ExtractLimits:
    """The caps one extraction must stay within; each one's name appears in its error.

    ``max_files`` counts every entry (files, directories, links), because a bomb made of a
    million empty entries costs as much time as one made of bytes. ``max_ratio`` is checked
    once the expanded data passes ``ratio_floor_bytes``: a small package with one zero-filled
    file is normal, hundreds of megabytes grown from a few kilobytes is not.
    """

    max_files: int = 20_000
    max_total_bytes: int = 500 * MB
    max_file_bytes: int = 100 * MB
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 10 * MB


# Why an entry was not written. The id leads the recorded reason so reports can group them.
SKIP_REASONS: Final[dict[str, str]] = {
    "empty-name": "entry has an empty name",
    "bad-encoding": "file name is not valid UTF-8",
    "control-char": "file name contains a control character (could forge report output)",
    "backslash": "backslash in path (a Windows path-separator trick)",
    "drive-letter": "Windows drive letter in path",
    "absolute-path": "absolute path; an archive may only name files inside the package",
    "parent-dir": "'..' component would escape the package directory",
    "symlink": "symbolic link; links are never created",
    "hardlink": "hard link; links are never created",
    "special": "device, FIFO or other special entry; never created",
    "duplicate": "entry appears again later in the archive; the later copy (the one installers keep) "
    "was extracted",
    "conflict": "path clashes with a file or directory of the same name extracted earlier",
    "encrypted": "encrypted zip entry; its contents cannot be read",
    "unsupported": "compression method not supported",
    "unwritable": "could not be written on this file system",
}


def skip_reason(reason_id: str, detail: str | None = None) -> str:
    """Format a recorded skip reason: ``id: explanation (detail)``."""
    text = f"{reason_id}: {SKIP_REASONS[reason_id]}"
    return f"{text} ({detail})" if detail else text


@dataclass(frozen=True)
class ArchiveFormat:
    """An archive container recognised by its first bytes (never by its file name)."""

    id: str
    magic: bytes
    offset: int = 0


# Order matters only for readability; the magics do not overlap.
ARCHIVE_FORMATS: Final[tuple[ArchiveFormat, ...]] = (
    ArchiveFormat("tar.gz", b"\x1f\x8b"),
    ArchiveFormat("tar.bz2", b"BZh"),
    ArchiveFormat("tar.xz", b"\xfd7zXZ\x00"),
    ArchiveFormat("zip", b"PK\x03\x04"),
    ArchiveFormat("zip", b"PK\x05\x06"),  # an empty zip: only the end-of-directory record
    ArchiveFormat("tar", b"ustar", 257),
)


@dataclass(frozen=True)
class ExtractResult:
    """What came out of one archive.

    ``files`` are sorted POSIX paths relative to ``root``; ``file_sha256`` maps each to the
    hex digest of what was written (the cache manifest uses it to notice tampering);
    ``skipped`` lists ``(path, reason)`` for every entry not written.
    """

    root: Path
    format: str
    files: tuple[str, ...]
    file_sha256: Mapping[str, str] = field(hash=False)
    skipped: tuple[tuple[str, str], ...]
    stripped_prefix: str | None
    total_bytes: int


def detect_format(path: Path) -> str:
    """Name the container format of ``path`` from its magic bytes, or raise ArchiveError."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise ArchiveError(f"cannot read archive: {exc.strerror or exc}", str(path)) from None
    for fmt in ARCHIVE_FORMATS:
        if head[fmt.offset : fmt.offset + len(fmt.magic)] == fmt.magic:
            return fmt.id
    if not head:
        raise ArchiveError("corrupt archive: the file is empty", str(path))
    raise ArchiveError(
        f"corrupt archive: not a tar, gzip, bzip2, xz or zip file (starts with {head[:8]!r})", str(path)
    )


CONTROL_PICTURES: Final = {**{i: 0x2400 + i for i in range(0x20)}, 0x7F: 0x2421}
"""Control characters mapped to their Unicode "control pictures" (newline becomes ␊)."""


def visible_name(name: str) -> str:
    """``name`` with every control character replaced by its visible picture (``\\n`` -> ``␊``).

    Why not refuse such entries: a file named ``x.py\\nx.py`` is still installed and still runs,
    and hiding code behind a name that breaks listings is itself an evasion trick; skipping the
    file would hand the attacker exactly what they wanted. Writing it under a visible name keeps
    terminal escapes and forged report lines out of our output while the content is analysed
    (and the profile flags the name).
    """
    return name.translate(CONTROL_PICTURES)


def has_control_pictures(path: str) -> bool:
    """True when ``path`` carries a name :func:`visible_name` had to rewrite."""
    if path.isascii():  # the pictures are U+2400..U+2421; asked of every file analysed
        return False
    return any(0x2400 <= ord(ch) <= 0x2421 for ch in path)


def clean_member_path(name: str) -> tuple[str, None] | tuple[None, str]:
    """Turn an archive entry name into a safe relative POSIX path, or say why it is unsafe.

    Returns ``(path, None)`` or ``(None, reason)``. Control characters become visible
    pictures (see :func:`visible_name`). ``.`` and empty components are dropped
    (``./package//a.js`` is ``package/a.js``); anything that could point outside the target
    directory on any operating system is refused rather than "fixed", because a fixed path
    would no longer be the file the installer writes.
    """
    if not name:
        return None, skip_reason("empty-name")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return None, skip_reason("bad-encoding")
    name = visible_name(name)
    if "\\" in name:
        return None, skip_reason("backslash")
    if name.startswith("/"):
        return None, skip_reason("absolute-path")
    if re.match(r"^[A-Za-z]:", name):
        return None, skip_reason("drive-letter")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, skip_reason("parent-dir")
    if not parts:
        return None, skip_reason("empty-name")
    return "/".join(parts), None


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Meter(io.RawIOBase):
    """A read-only stream that counts the bytes passing through and may refuse to go on.

    Two meters are stacked over a compressed tar: one under the decompressor (bytes read
    from disk) and one over it (bytes produced). ``check`` runs after every read, so a bomb
    is stopped while it inflates instead of after.
    """

    def __init__(self, inner: _Readable, check: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self._inner = inner
        self._check = check
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._inner.read(len(view))
        n = len(data)
        view[:n] = data
        self.count += n
        if self._check is not None:
            self._check(self.count)
        return n


class _Writer:
    """Writes entries below a fresh directory and keeps the books: counts, hashes, skips.

    Only this object writes into ``root``, so its own records (``files``, ``dirs``) are the
    truth about what exists there; the file system is still asked with ``O_NOFOLLOW`` and
    ``lstat`` as a second line of defence.
    """

    def __init__(self, root: Path, limits: ExtractLimits, where: str) -> None:
        self.root = root
        self.limits = limits
        self.where = where
        self.files: dict[str, str] = {}
        self.dirs: set[str] = set()
        self.skipped: list[tuple[str, str]] = []
        self.entries = 0
        self.total_bytes = 0
        self.archive_size: int | None = None  # the real size on disk, for ratio checks (zip)

    def count_entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.max_files:
            raise LimitExceeded(
                f"archive has more than {self.limits.max_files} entries (cap max_files)",
                self.where,
                cap="max_files",
            )

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append((path, reason))

    def make_dir(self, rel: str, entry: str | None = None) -> bool:
        """Create ``rel`` and its parents; False if a file is in the way.

        The skip is recorded against ``entry`` (the archive entry that needed the directory).
        """
        entry = entry or rel
        parts = rel.split("/")
        current = self.root
        for i, comp in enumerate(parts):
            sub = "/".join(parts[: i + 1])
            current = current / comp
            if sub in self.dirs:
                continue
            if sub in self.files:
                self.skip(entry, skip_reason("conflict", f"{sub} is a file"))
                return False
            try:
                os.mkdir(current, 0o755)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(current).st_mode):
                    self.skip(entry, skip_reason("conflict", f"{sub} exists and is not a directory"))
                    return False
            except OSError as exc:
                self.skip(entry, skip_reason("unwritable", exc.strerror or str(exc)))
                return False
            os.chmod(current, 0o755)
            self.dirs.add(sub)
        return True

    def write_file(
        self,
        rel: str,
        read: Callable[[int], bytes],
        *,
        declared_size: int,
        compressed_size: int | None = None,
    ) -> None:
        """Stream one regular file to disk, enforcing the size and ratio caps as bytes arrive.

        ``declared_size`` (from the header) only allows an early refusal; the caps are enforced
        on bytes actually read. ``compressed_size`` enables the per-member ratio check (zip).
        """
        if declared_size > self.limits.max_file_bytes:
            raise self._file_cap(rel, declared_size)
        if rel in self.dirs:
            self.skip(rel, skip_reason("conflict", "a directory of that name was extracted earlier"))
            return
        parent, _, _ = rel.rpartition("/")
        if parent and not self.make_dir(parent, entry=rel):
            return
        if rel in self.files:
            self.skip(rel, skip_reason("duplicate"))
        target = self.root / rel
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(target, flags, 0o644)
            os.fchmod(fd, 0o644)
        except OSError as exc:
            self.skip(rel, skip_reason("unwritable", exc.strerror or str(exc)))
            return
        digest = hashlib.sha256()
        size = 0
        write_error: OSError | None = None
        try:
            while True:
                chunk = read(CHUNK)  # archive corruption raises here and aborts the extraction
                if not chunk:
                    break
                size += len(chunk)
                self.total_bytes += len(chunk)
                self._check_caps(rel, size, compressed_size)
                digest.update(chunk)
                if write_error is None:
                    try:
                        _write_all(fd, chunk)
                    except OSError as exc:  # our disk, not the archive: keep reading to stay metered
                        write_error = exc
        finally:
            os.close(fd)
        if write_error is not None:
            target.unlink(missing_ok=True)
            self.files.pop(rel, None)
            self.skip(rel, skip_reason("unwritable", write_error.strerror or str(write_error)))
            return
        self.files[rel] = digest.hexdigest()

    def _check_caps(self, rel: str, size: int, compressed_size: int | None) -> None:
        limits = self.limits
        if size > limits.max_file_bytes:
            raise self._file_cap(rel, size)
        if self.total_bytes > limits.max_total_bytes:
            raise LimitExceeded(
                f"archive expands to more than {limits.max_total_bytes} bytes (cap max_total_bytes)",
                self.where,
                cap="max_total_bytes",
            )
        if (
            compressed_size is not None
            and size > limits.ratio_floor_bytes
            and size > limits.max_ratio * max(min(compressed_size, self.archive_size or compressed_size), 1)
        ):
            raise LimitExceeded(
                f"{rel} expands more than {limits.max_ratio:g}:1 (cap max_ratio)",
                self.where,
                cap="max_ratio",
            )

    def _file_cap(self, rel: str, size: int) -> LimitExceeded:
        return LimitExceeded(
            f"{rel} is larger than {self.limits.max_file_bytes} bytes ({size} seen; cap max_file_bytes)",
            self.where,
            cap="max_file_bytes",
        )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _corruption_errors() -> tuple[type[BaseException], ...]:
    """What a corrupt archive raises while being read (the modules are loaded by then)."""
    import lzma
    import tarfile
    import zipfile
    import zlib

    return (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError, OSError)


def extract_archive(archive: Path, dest: Path, *, limits: ExtractLimits | None = None) -> ExtractResult:
    """Safely unpack ``archive`` so its files sit directly under ``dest`` (which must not exist).

    Work happens in a hidden staging directory beside ``dest`` that is renamed into place only
    when extraction succeeded, so a failed or interrupted extraction never leaves a
    half-filled ``dest`` that a later run could mistake for a complete one.
    """
    limits = limits or ExtractLimits()
    fmt = detect_format(archive)
    if dest.exists():
        raise FileExistsError(f"{dest} already exists")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest.parent))
    try:
        os.chmod(staging, 0o755)
        writer = _Writer(staging, limits, str(archive))
        try:
            if fmt == "zip":
                _extract_zip(archive, writer)
            else:
                _extract_tar(archive, fmt, writer)
        except LimitExceeded:
            raise
        except _corruption_errors() as exc:
            raise ArchiveError(f"corrupt archive: {_describe(exc)}", str(archive)) from None
        prefix = _single_top_dir(staging, writer)
        os.rename(staging / prefix if prefix else staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    strip = f"{prefix}/" if prefix else ""
    files = {rel.removeprefix(strip): digest for rel, digest in writer.files.items()}
    # Unsafe names stay exactly as the archive spelled them; clean ones lose the top directory.
    skipped = tuple(
        (p.removeprefix(strip) if clean_member_path(p)[0] == p else p, r) for p, r in writer.skipped
    )
    return ExtractResult(
        root=dest,
        format=fmt,
        files=tuple(sorted(files)),
        file_sha256=files,
        skipped=skipped,
        stripped_prefix=prefix,
        total_bytes=writer.total_bytes,
    )


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "end of data" in text or "end-of-stream" in text:
        return f"truncated ({text})"
    return text


def _single_top_dir(staging: Path, writer: _Writer) -> str | None:
    """The one directory holding everything, if the archive was packed that way (npm, sdist)."""
    top = os.listdir(staging)
    if len(top) == 1 and top[0] in writer.dirs:
        return top[0]
    return None


def _open_decompressed(raw: io.BufferedReader, fmt: str) -> _Readable:
    if fmt == "tar.gz":
        import gzip

        return gzip.GzipFile(fileobj=raw, mode="rb")
    if fmt == "tar.bz2":
        import bz2

        return bz2.BZ2File(raw, mode="rb")
    if fmt == "tar.xz":
        import lzma

        return lzma.LZMAFile(raw, mode="rb")
    return raw


def _extract_tar(archive: Path, fmt: str, writer: _Writer) -> None:
    limits = writer.limits
    # Tar headers and padding add up to 1.5 KiB per entry on top of the file data.
    stream_cap = limits.max_total_bytes + 1536 * (limits.max_files + 1) + 10 * 1024

    with archive.open("rb") as fh:
        on_disk = _Meter(fh)

        def check_stream(produced: int) -> None:
            if produced > stream_cap:
                raise LimitExceeded(
                    f"archive expands to more than {limits.max_total_bytes} bytes (cap max_total_bytes)",
                    str(archive),
                    cap="max_total_bytes",
                )
            if produced > limits.ratio_floor_bytes and produced > limits.max_ratio * max(on_disk.count, 1):
                raise LimitExceeded(
                    f"archive expands more than {limits.max_ratio:g}:1 (cap max_ratio)",
                    str(archive),
                    cap="max_ratio",
                )

        decompressed = _open_decompressed(io.BufferedReader(on_disk, CHUNK), fmt)
        produced = io.BufferedReader(_Meter(decompressed, check_stream), CHUNK)
        # Stream mode ("r|"): entries are read strictly in order, nothing is seeked back to,
        # and the data of skipped entries is read (and metered) rather than trusted.
        import tarfile

        with tarfile.open(fileobj=produced, mode="r|") as tar:
            for member in tar:
                writer.count_entry()
                _tar_member(tar, member, writer)


def _tar_member(tar: tarfile.TarFile, member: tarfile.TarInfo, writer: _Writer) -> None:
    rel, problem = clean_member_path(member.name)
    shown = rel or member.name
    if problem is not None:
        writer.skip(member.name, problem)
    elif member.issym():
        writer.skip(shown, skip_reason("symlink", f"-> {member.linkname}"))
    elif member.islnk():
        writer.skip(shown, skip_reason("hardlink", f"-> {member.linkname}"))
    elif member.isdir():
        assert rel is not None
        writer.make_dir(rel)
    elif member.isreg():
        assert rel is not None
        data = tar.extractfile(member)
        if data is None:  # pragma: no cover - isreg() members always have data
            return
        writer.write_file(rel, data.read, declared_size=member.size)
    else:
        writer.skip(shown, skip_reason("special", f"tar type {member.type!r}"))


def _extract_zip(archive: Path, writer: _Writer) -> None:
    limits = writer.limits
    archive_size = archive.stat().st_size
    writer.archive_size = archive_size
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_files:
            raise LimitExceeded(
                f"archive has {len(infos)} entries, more than {limits.max_files} (cap max_files)",
                str(archive),
                cap="max_files",
            )
        for info in infos:
            writer.count_entry()
            _zip_member(zf, info, writer)
            if writer.total_bytes > limits.ratio_floor_bytes and writer.total_bytes > limits.max_ratio * max(
                archive_size, 1
            ):
                raise LimitExceeded(
                    f"archive expands more than {limits.max_ratio:g}:1 (cap max_ratio)",
                    str(archive),
                    cap="max_ratio",
                )


def _zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, writer: _Writer) -> None:
    rel, problem = clean_member_path(info.filename)
    shown = rel or info.filename
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if problem is not None:
        writer.skip(info.filename, problem)
    elif kind == stat.S_IFLNK:
        writer.skip(shown, skip_reason("symlink"))
    elif info.is_dir():
        assert rel is not None
        writer.make_dir(rel)
    elif kind not in (0, stat.S_IFREG):
        writer.skip(shown, skip_reason("special", f"mode {oct(mode)}"))
    elif info.flag_bits & 0x1:
        writer.skip(shown, skip_reason("encrypted"))
    else:
        assert rel is not None
        try:
            with zf.open(info) as data:
                writer.write_file(
                    rel, data.read, declared_size=info.file_size, compressed_size=info.compress_size
                )
        except NotImplementedError as exc:
            writer.skip(shown, skip_reason("unsupported", str(exc)))
