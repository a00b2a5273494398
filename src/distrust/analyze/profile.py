"""Build a :class:`~distrust.model.Profile`: everything one package version can do.

The profile is the unit the diff, the rules and the reports work on, so it must be complete
and honest: every file of the artifact is either analysed by the right analyser or listed in
``Profile.unanalysed`` with the reason (too large, binary, symlink, parse failure). Nothing is
skipped silently, nothing from the package is ever executed, and symlinks are never followed
(a symlink to ``~/.ssh`` inside a tarball must not make us read the user's keys).

Dispatch is by file name (tables below), with content sniffing where names lie: native binary
magic wins over any extension, and extension-less scripts are routed by their shebang.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import re
import signal
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from distrust.analyze import claims, relpath, textscan
from distrust.analyze.claims import is_claim_source, scan_claims
from distrust.analyze.layout import offscreen_code
from distrust.analyze.manifest import (
    METADATA_PRIORITY,
    analyze_manifest,
    import_time_capabilities,
    manifest_analyzer_for_name,
)
from distrust.fetch.extract import has_control_pictures
from distrust.model import Artifact, Capability, Profile

MAX_ANALYSED_BYTES = 4 * 1024 * 1024
"""Files above this are listed as unanalysed; real source files are far smaller."""

HEAD_BYTES = 64

# --- dispatch tables -------------------------------------------------------------------------

JS_DIALECTS: dict[str, str] = {
    ".js": "js",
    ".mjs": "js",
    ".cjs": "js",
    ".jsx": "js",
    ".ts": "ts",
    ".mts": "ts",
    ".cts": "ts",
    ".tsx": "tsx",
}
DECLARATION_SUFFIXES = (".d.ts", ".d.mts", ".d.cts")
PYTHON_SUFFIXES = frozenset({".py", ".pyw"})
PYTHON_STUBS = frozenset({".pyi"})
SHELL_SUFFIXES = frozenset({".sh", ".bash", ".zsh", ".ksh", ".command", ".bat", ".cmd", ".ps1", ".psm1"})

NATIVE_EXTENSIONS = frozenset({".node", ".so", ".dll", ".dylib", ".exe", ".wasm", ".pyd", ".sys", ".bin"})
"""Names of native code; content is checked too, because a binary can hide behind ``.js``."""


@dataclass(frozen=True)
class Magic:
    """A file signature: leading bytes, a format name, and an optional extra check."""

    prefix: bytes
    format: str
    check: Callable[[bytes], bool] | None = None


def _fat_macho(head: bytes) -> bool:
    # 0xCAFEBABE is also a Java class file; Mach-O fat headers count architectures (small),
    # Java stores its version there (45 and up).
    return len(head) >= 8 and int.from_bytes(head[4:8], "big") < 45


NATIVE_MAGIC: tuple[Magic, ...] = (
    Magic(b"\x7fELF", "ELF"),
    Magic(b"\xfe\xed\xfa\xce", "Mach-O"),
    Magic(b"\xfe\xed\xfa\xcf", "Mach-O"),
    Magic(b"\xce\xfa\xed\xfe", "Mach-O"),
    Magic(b"\xcf\xfa\xed\xfe", "Mach-O"),
    Magic(b"\xca\xfe\xba\xbe", "Mach-O universal", _fat_macho),
    Magic(b"MZ", "PE (Windows executable)"),
    Magic(b"\x00asm", "WebAssembly"),
)

OPAQUE_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip archive (nested; contents not analysed)"),
    (b"\x1f\x8b", "gzip archive (nested; contents not analysed)"),
    (b"BZh", "bzip2 archive (nested; contents not analysed)"),
    (b"\xfd7zXZ", "xz archive (nested; contents not analysed)"),
    (b"7z\xbc\xaf", "7z archive (nested; contents not analysed)"),
    (b"Rar!", "rar archive (nested; contents not analysed)"),
    (b"\x89PNG", "image (png)"),
    (b"\xff\xd8\xff", "image (jpeg)"),
    (b"GIF8", "image (gif)"),
    (b"%PDF", "pdf document"),
    (b"wOFF", "font (woff)"),
    (b"wOF2", "font (woff2)"),
)
"""Binary data that is not native code: noted as unanalysed, never read as text."""

PYC_SUFFIXES = frozenset({".pyc", ".pyo"})


_NATIVE_PREFIXES = tuple(magic.prefix for magic in NATIVE_MAGIC)
_OPAQUE_PREFIXES = tuple(prefix for prefix, _ in OPAQUE_FORMATS)


def native_binary_format(head: bytes) -> str | None:
    """The native executable format the first bytes announce (ELF, Mach-O, PE, WASM), else None."""
    if not head.startswith(_NATIVE_PREFIXES):  # one C call for the common case: not native
        return None
    for magic in NATIVE_MAGIC:
        if head.startswith(magic.prefix) and (magic.check is None or magic.check(head)):
            return magic.format
    return None


# --- the JavaScript analyser, loaded lazily --------------------------------------------------


class _JsResultLike(Protocol):
    capabilities: tuple[Capability, ...]
    problems: tuple[str, ...]


class _JsAnalyser(Protocol):
    def __call__(self, path: str, source: bytes, *, dialect: str) -> _JsResultLike: ...


JS_UNAVAILABLE = "JavaScript analyser unavailable"


def load_js_analyser() -> _JsAnalyser | None:
    """``distrust.analyze.js.analyze_js`` when it can be imported (tree-sitter installed), else None."""
    try:
        module = importlib.import_module("distrust.analyze.js")
    except ImportError:
        return None
    analyser: _JsAnalyser | None = getattr(module, "analyze_js", None)
    return analyser


# --- minified code ---------------------------------------------------------------------------

MINIFIED_AVERAGE_LINE = 300
MINIFIED_MIN_BYTES = 2000


def looks_minified(path: str, text: str) -> bool:
    """A ``.min.`` name, or long code on few lines (average line over 300 characters)."""
    if ".min." in relpath.name(path):
        return True
    if len(text) < MINIFIED_MIN_BYTES:
        return False
    lines = text.count("\n") + 1
    return len(text) / lines > MINIFIED_AVERAGE_LINE


_JS_SUFFIXES_LONGEST_FIRST = tuple(sorted(JS_DIALECTS, key=len, reverse=True))


def module_stem(path: str) -> str:
    """``dist/x.min.js`` -> ``x``, ``src/x.ts`` -> ``x``: the name a readable source would share."""
    name = relpath.name(path)
    for suffix in _JS_SUFFIXES_LONGEST_FIRST:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    for marker in (".min", ".prod", ".production", ".bundle"):
        if name.endswith(marker):
            name = name[: -len(marker)]
    return name


# --- walking the artifact --------------------------------------------------------------------


@dataclass
class _State:
    """What a walk (or one file of it) adds to the profile, in the order it was found."""

    caps: list[Capability] = field(default_factory=list)
    unanalysed: list[tuple[str, str]] = field(default_factory=list)
    metadata: list[tuple[tuple[int, int], str, str]] = field(
        default_factory=list
    )  # ((depth, priority), k, v)
    minified: list[str] = field(default_factory=list)
    script_files: list[str] = field(default_factory=list)  # every JS/TS file analysed

    def absorb(self, found: FileAnalysis) -> None:
        self.caps.extend(found.caps)
        self.unanalysed.extend(found.unanalysed)
        self.metadata.extend(found.metadata)
        self.minified.extend(found.minified)
        self.script_files.extend(found.script_files)

    def freeze(self) -> FileAnalysis:
        return FileAnalysis(
            tuple(self.caps),
            tuple(self.unanalysed),
            tuple(self.metadata),
            tuple(self.minified),
            tuple(self.script_files),
        )


@dataclass(frozen=True)
class FileAnalysis:
    """What one file added to a profile; also what :class:`FileMemo` keeps of its content."""

    caps: tuple[Capability, ...]
    unanalysed: tuple[tuple[str, str], ...]
    metadata: tuple[tuple[tuple[int, int], str, str], ...]
    minified: tuple[str, ...]
    script_files: tuple[str, ...]


MemoKey = tuple[str, bytes, bool]  # (path, digest of the bytes, binding.gyp beside it)
# A child's answer: (file index, what it added) for each file it took; memo entries it added.
_WorkerAnswer = tuple[list[tuple[int, FileAnalysis]], list[tuple[MemoKey, FileAnalysis]]]


class FileMemo:
    """Per-file results shared by the profiles one command builds, e.g. both sides of a diff.

    Two versions of a package share most files byte for byte, and analysing a file depends
    only on its path, its bytes and (for manifests) whether a ``binding.gyp`` sits beside it;
    so a diff or a history run analyses each distinct file once. A memo lives as long as the
    caller keeps it (one command), never beyond the process: nothing here is a result cache.
    """

    def __init__(self) -> None:
        self._found: dict[MemoKey, FileAnalysis] = {}
        self._lock = threading.Lock()

    def get(self, key: MemoKey) -> FileAnalysis | None:
        with self._lock:
            return self._found.get(key)

    def put(self, key: MemoKey, found: FileAnalysis) -> None:
        with self._lock:
            self._found[key] = found

    def __len__(self) -> int:
        return len(self._found)


@dataclass
class _Walk:
    """What the files of one walk share: where they are, the memo, the analysers loaded."""

    root: Path
    real_root: str
    files: frozenset[str]
    memo: FileMemo | None
    # Resolved directories: a package's files share a few dozen directories, and resolving
    # each file's full path again costs one lstat per path component.
    real_dirs: dict[str, str] = field(default_factory=dict)
    learned: list[tuple[MemoKey, FileAnalysis]] = field(default_factory=list)  # memo entries added
    js: _JsAnalyser | None = None
    js_loaded: bool = False
    root_str: str = field(init=False)  # str(root), joined with each file's components

    def __post_init__(self) -> None:
        self.root_str = str(self.root)

    def js_analyser(self) -> _JsAnalyser | None:
        if not self.js_loaded:
            self.js = load_js_analyser()
            self.js_loaded = True
        return self.js


def build_profile(
    artifact: Artifact,
    *,
    progress: Callable[[int, int], None] | None = None,
    memo: FileMemo | None = None,
    jobs: int = 1,
) -> Profile:
    """Analyse every file of ``artifact`` (nothing executed) into a Profile.

    ``progress(done, total)`` is called after each file so a CLI can draw a bar. ``memo``
    reuses the analysis of files already seen by the same command (see :class:`FileMemo`).
    ``jobs`` > 1 lets a large package be split over that many processes (see
    :func:`_plan_processes`); the profile is the same either way.
    Capabilities come sorted by (file, line, kind, value) without duplicates.
    """
    root = artifact.root
    files = sorted(set(artifact.files))
    try:
        real_root = os.path.realpath(root)
    except OSError:
        real_root = str(root)
    walk = _Walk(root, real_root, frozenset(files), memo)
    chunks = _plan_processes(walk, files, jobs) if progress is None else None
    state = _State()
    if chunks is not None:
        for found in _analyse_in_processes(walk, files, chunks, jobs):
            state.absorb(found)
    else:
        # In one process each file adds straight to the profile's state, in file order:
        # the same lists a per-file FileAnalysis would be absorbed into, without building it.
        for done, rel in enumerate(files, start=1):
            _analyse_file_into(walk, rel, state)
            if progress is not None:
                progress(done, len(files))
    _settle_minified(state)

    unique: dict[tuple[str, int, str, str], Capability] = {}
    for cap in state.caps:
        unique.setdefault((cap.file, cap.line, cap.kind, cap.value), cap)
    capabilities = tuple(sorted(unique.values(), key=lambda c: (c.file, c.line, c.kind, c.value)))
    return Profile(
        artifact=artifact,
        capabilities=capabilities,
        metadata=_choose_metadata(state.metadata),
        unanalysed=tuple(state.unanalysed),
    )


# --- using more than one process -------------------------------------------------------------

PARALLEL_MIN_BYTES = 512 * 1024
"""Below this much file content, a second process costs more (fork, results sent back) than it saves."""
PARALLEL_FILE_WEIGHT = 1024
PARALLEL_CHUNKS_PER_JOB = 8
"""Chunks per process: enough for a process slowed by other work to hand its share over."""
"""Fixed cost of a file (open, parse set-up, dispatch: ~0.14 ms) in bytes of content (~0.12 ms/KB)."""


JOBS_ENV = "DISTRUST_JOBS"


def default_jobs() -> int:
    """How many processes a large package may use: ``$DISTRUST_JOBS``, else the usable CPUs."""
    override = os.environ.get(JOBS_ENV, "").strip()
    if override.isdigit() and int(override) > 0:
        return int(override)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _plan_processes(walk: _Walk, files: list[str], jobs: int) -> list[list[int]] | None:
    """Chunks of file indices, heaviest first, for ``jobs`` processes to share; None for one.

    Processes are forked, so they start with everything this one has loaded and cost a few
    milliseconds. Forking is refused when other threads run (a progress bar, a server): a
    forked child gets only the calling thread, and a lock another thread held stays locked.
    """
    if jobs < 2 or not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    if walk.memo is not None and len(walk.memo):
        return None  # the next version of a diff or history: most files are already known
    weights = [_size_to_analyse(walk.root_str, rel) for rel in files]
    if sum(weights) < PARALLEL_MIN_BYTES:
        return None
    # Several chunks per process, taken from a shared queue as each process becomes free: a
    # process slowed by other work on its CPU simply takes fewer chunks.
    count = min(len(files), PARALLEL_CHUNKS_PER_JOB * jobs)
    chunks: list[list[int]] = [[] for _ in range(count)]
    loads = [0] * count
    for i in sorted(range(len(files)), key=lambda i: -weights[i]):
        lightest = loads.index(min(loads))
        chunks[lightest].append(i)
        loads[lightest] += weights[i] + PARALLEL_FILE_WEIGHT
    order = sorted(range(count), key=lambda c: -loads[c])
    return [sorted(chunks[c]) for c in order if chunks[c]]


def _size_to_analyse(root: str, rel: str) -> int:
    parts = relpath.parts(rel)
    if not _is_safe_relative(rel, parts):
        return 0
    try:
        st = os.lstat(os.path.join(root, *parts))
    except OSError:
        return 0
    return st.st_size if stat.S_ISREG(st.st_mode) and st.st_size <= MAX_ANALYSED_BYTES else 0


_CHUNK_RECORD = 4  # bytes per chunk number in the queue pipe


def _analyse_in_processes(
    walk: _Walk, files: list[str], chunks: list[list[int]], jobs: int
) -> list[FileAnalysis]:
    """Analyse ``chunks`` here and in ``jobs - 1`` forked children, returned in file order.

    The chunk numbers wait in a pipe written and closed before forking; every process reads
    one fixed-size record at a time until the pipe is empty. A child that fails (killed, out
    of memory) costs only time: the chunks it took are analysed here afterwards.
    """
    _load_analysers_before_fork(walk, files)
    results: list[FileAnalysis | None] = [None] * len(files)
    queue_read, queue_write = os.pipe()
    try:
        os.write(queue_write, b"".join(n.to_bytes(_CHUNK_RECORD, "little") for n in range(len(chunks))))
    finally:
        os.close(queue_write)
    children: list[tuple[int, int]] = []
    try:
        for _ in range(jobs - 1):
            child = _fork_worker(walk, files, chunks, queue_read)
            if child is not None:
                children.append(child)
        for number in _take_chunks(queue_read):
            for i in chunks[number]:
                results[i] = _analyse_file(walk, files[i])
        while children:
            pid, fd = children.pop(0)
            answer = _collect_worker(pid, fd)
            if answer is None:
                continue  # its chunks are redone below
            found, learned = answer
            for i, one in found:
                results[i] = one
            if walk.memo is not None:
                for key, one in learned:
                    walk.memo.put(key, one)
    finally:
        os.close(queue_read)
        for pid, fd in children:  # only when interrupted: do not leave children behind
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.close(fd)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
    return [one if one is not None else _analyse_file(walk, files[i]) for i, one in enumerate(results)]


def _take_chunks(queue_read: int) -> Iterator[int]:
    """Chunk numbers from the shared queue until it is empty (every record was written up front)."""
    while len(record := os.read(queue_read, _CHUNK_RECORD)) == _CHUNK_RECORD:
        yield int.from_bytes(record, "little")


def _load_analysers_before_fork(walk: _Walk, files: list[str]) -> None:
    """Build the grammars and compiled queries once, here, so every child inherits them.

    Likewise the Python analyser, imported lazily elsewhere, when the package has Python files
    (an extension-less script with a Python shebang still loads it where it is met).
    """
    suffixes = {relpath.suffix(relpath.name(rel)).lower() for rel in files}
    if suffixes & (PYTHON_SUFFIXES | {".pth"}):
        importlib.import_module("distrust.analyze.python")
    dialects = sorted({JS_DIALECTS[suffix] for suffix in suffixes if suffix in JS_DIALECTS})
    analyser = walk.js_analyser() if dialects else None
    if analyser is not None:
        for dialect in dialects:
            analyser("warm-up", b"", dialect=dialect)


def _fork_worker(
    walk: _Walk, files: list[str], chunks: list[list[int]], queue_read: int
) -> tuple[int, int] | None:
    """Fork a child that takes chunks from the queue and writes its results to a pipe.

    Returns (pid, read end of the results pipe), or None when no child could be started.
    """
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: analyse, send, and leave without running the parent's exit code
        status = 1
        try:
            import pickle

            os.close(read_end)
            walk.learned = []
            found = [
                (i, _analyse_file(walk, files[i]))
                for number in _take_chunks(queue_read)
                for i in chunks[number]
            ]
            with open(write_end, "wb") as out:
                out.write(pickle.dumps((found, walk.learned), protocol=pickle.HIGHEST_PROTOCOL))
            status = 0
        except BaseException:  # the parent redoes the work; a child must never raise
            pass
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _collect_worker(pid: int, read_end: int) -> _WorkerAnswer | None:
    """The child's results, or None when it did not finish cleanly (its files are then redone)."""
    data = b""
    try:
        with open(read_end, "rb") as pipe:
            data = pipe.read()
    except OSError:
        pass
    finally:
        _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    import pickle  # only the parallel path needs it

    try:
        answer: _WorkerAnswer = pickle.loads(data)  # written by our own child, never by a package
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        return None
    return answer


def _settle_minified(state: _State) -> None:
    """Keep ``obfuscation.minified`` only for modules with no readable source in the artifact.

    A file counts as minified when our heuristic or the JavaScript analyser says so; shipping
    ``dist/x.min.js`` beside ``src/x.ts`` is normal packaging, so that pair is not flagged.
    """
    flagged_by_analyser = {c.file for c in state.caps if c.kind == "obfuscation.minified"}
    minified = set(state.minified) | flagged_by_analyser
    readable = {module_stem(rel) for rel in state.script_files if rel not in minified}
    excused = {rel for rel in minified if module_stem(rel) in readable}
    state.caps = [c for c in state.caps if not (c.kind == "obfuscation.minified" and c.file in excused)]
    for rel in sorted(minified - excused - flagged_by_analyser):
        name = relpath.name(rel)
        state.caps.append(
            Capability("obfuscation.minified", name, rel, 1, "minified, no readable source shipped")
        )


def _choose_metadata(claims: list[tuple[tuple[int, int], str, str]]) -> tuple[tuple[str, str], ...]:
    """One value per key from the most authoritative manifest: shallowest, then by METADATA_PRIORITY.

    ``bin`` may have several values; they all come from the winning manifest.
    """
    best: dict[str, tuple[int, int]] = {}
    for rank, key, _value in claims:
        if key not in best or rank < best[key]:
            best[key] = rank
    chosen: list[tuple[str, str]] = []
    for rank, key, value in sorted(claims, key=lambda c: c[0]):
        if (
            best[key] == rank
            and (key == "bin" or all(k != key for k, _ in chosen))
            and (key, value) not in chosen
        ):
            chosen.append((key, value))
    return tuple(chosen)


def _is_safe_relative(rel: str, parts: tuple[str, ...]) -> bool:
    """``parts`` (``relpath.parts(rel)``) name a file below the root: relative, no ``..``."""
    return bool(parts) and not rel.startswith("/") and ".." not in parts and "\\" not in rel[:2]


def _real_path(full: str, walk: _Walk) -> str:
    """``os.path.realpath(full)`` for a path whose last component is known not to be a symlink.

    Such a path resolves to its resolved directory plus its name, so each directory of the
    walk is resolved once.
    """
    parent, name = os.path.split(full)
    real_parent = walk.real_dirs.get(parent)
    if real_parent is None:
        real_parent = walk.real_dirs[parent] = os.path.realpath(parent)
    return os.path.join(real_parent, name)


def _inside(real: str, real_root: str) -> bool:
    """``os.path.commonpath([real, real_root]) == real_root`` for two resolved absolute paths."""
    return real == real_root or real.startswith(real_root if real_root.endswith("/") else real_root + "/")


def _analyse_file(walk: _Walk, rel: str) -> FileAnalysis:
    """Everything one file adds to the profile (it is read only if it is to be analysed)."""
    found = _State()
    _analyse_file_into(walk, rel, found)
    return found.freeze()


# Never follow a link at open time; never block on a FIFO swapped in after the lstat.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _analyse_file_into(walk: _Walk, rel: str, found: _State) -> None:
    """Add what one file contributes to ``found`` (see :func:`_analyse_file`)."""
    # Plain strings, not PurePosixPath: this runs for every file (see relpath).
    parts = relpath.parts(rel)
    if not _is_safe_relative(rel, parts):
        found.unanalysed.append((rel, "path escapes the artifact root; not read"))
        return
    if has_control_pictures(rel):
        why = "the archive names this file with control characters"
        found.caps.append(Capability("obfuscation.filename", rel, rel, 1, why))
    full = os.path.join(walk.root_str, *parts)  # what walk.root / rel names
    try:
        st = os.lstat(full)
    except OSError as exc:
        found.unanalysed.append((rel, f"cannot stat: {exc.strerror or exc}"))
        return
    if stat.S_ISLNK(st.st_mode):
        found.unanalysed.append((rel, f"symbolic link to {os.readlink(full)!r}; not followed"))
        return
    if not stat.S_ISREG(st.st_mode):
        found.unanalysed.append((rel, "not a regular file"))
        return
    real = _real_path(full, walk)  # not a symlink itself (checked above)
    if not _inside(real, walk.real_root):
        found.unanalysed.append((rel, "a parent directory is a symbolic link out of the artifact; not read"))
        return

    # One open for the whole file: its first bytes decide what it is, the rest is read only if
    # it is to be analysed.
    try:
        fd = os.open(full, _OPEN_FLAGS)
    except OSError:
        found.unanalysed.append((rel, "cannot open"))
        return
    try:
        _classify_and_analyse(fd, rel, parts, st, walk, found)
    finally:
        os.close(fd)


def _classify_and_analyse(
    fd: int, rel: str, parts: tuple[str, ...], st: os.stat_result, walk: _Walk, found: _State
) -> None:
    try:
        head = os.read(fd, HEAD_BYTES)
    except OSError:
        found.unanalysed.append((rel, "cannot open"))
        return
    name = parts[-1]
    suffix = relpath.suffix(name).lower()
    native = native_binary_format(head)
    if native:
        found.caps.append(Capability("binary.native", f"{native}: {name}", rel, 1, ""))
        found.unanalysed.append((rel, f"native binary ({native}); machine code not analysed"))
        return
    if suffix in NATIVE_EXTENSIONS and suffix != ".bin":
        found.caps.append(
            Capability(
                "binary.native",
                f"{suffix} file without a known binary signature: {name}",
                rel,
                1,
                "",
            )
        )
    if head.startswith(_OPAQUE_PREFIXES):
        for prefix, reason in OPAQUE_FORMATS:
            if head.startswith(prefix):
                found.unanalysed.append((rel, reason))
                return
    if suffix in PYC_SUFFIXES:
        found.unanalysed.append((rel, "compiled Python bytecode; not decompiled"))
        found.caps.append(Capability("code.dynamic", f"compiled Python bytecode shipped: {rel}", rel, 1, ""))
        return
    if st.st_size > MAX_ANALYSED_BYTES:
        found.unanalysed.append((rel, f"too large ({st.st_size} bytes > {MAX_ANALYSED_BYTES}-byte limit)"))
        return
    try:
        data = _read_rest(fd, head, st.st_size)
    except OSError as exc:
        found.unanalysed.append((rel, _os_reason(exc)))
        return
    if len(data) > MAX_ANALYSED_BYTES:
        found.unanalysed.append((rel, f"grew past the {MAX_ANALYSED_BYTES}-byte limit while being read"))
        return
    if b"\x00" in data[:8192] and suffix not in PYTHON_SUFFIXES:
        found.unanalysed.append((rel, "binary data (not text); not analysed"))
        return
    is_manifest = manifest_analyzer_for_name(name) is not None
    has_binding = is_manifest and _has_binding_gyp(rel, walk.files)
    memo = walk.memo
    if memo is None:
        _dispatch(rel, parts, data, is_manifest, has_binding, found, walk)
        return
    key = (rel, hashlib.blake2b(data, digest_size=16).digest(), has_binding)
    content = memo.get(key)
    if content is None:
        # Analysed on its own, so the result can be kept and replayed unchanged.
        own = _State()
        _dispatch(rel, parts, data, is_manifest, has_binding, own, walk)
        content = own.freeze()
        memo.put(key, content)
        walk.learned.append((key, content))
    found.absorb(content)


def _os_reason(exc: OSError) -> str:
    """An OS error as ``fsutil.read_bytes_capped`` words it ("permission denied")."""
    if exc.errno is not None and exc.strerror:
        return exc.strerror.lower()
    return str(exc)


def _read_rest(fd: int, head: bytes, size: int) -> bytes:
    """The whole file: ``head`` plus what follows it, at most ``MAX_ANALYSED_BYTES + 1`` bytes.

    ``size`` (from stat) sizes the read; a file that grew meanwhile is read on to the cap,
    so the caller can tell it grew past the limit.
    """
    parts = [head]
    total = len(head)
    while total <= MAX_ANALYSED_BYTES:
        want = min(MAX_ANALYSED_BYTES + 1 - total, size + 1 - total if size >= total else 64 * 1024)
        chunk = os.read(fd, want)
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


_SHEBANG = re.compile(rb"^#!\s*(?:/usr/bin/env\s+(?:-S\s+)?)?\S*?([A-Za-z]+)[\d.]*\b")


def _shebang(data: bytes) -> str | None:
    match = _SHEBANG.match(data[:200])
    return match.group(1).decode("ascii").lower() if match else None


def _has_binding_gyp(rel: str, files: frozenset[str]) -> bool:
    """Whether a ``binding.gyp`` sits beside ``rel`` (a package.json then builds native code)."""
    parent = PurePosixPath(rel).parent
    binding = str(parent / "binding.gyp") if str(parent) != "." else "binding.gyp"
    return binding in files


def _dispatch(
    rel: str,
    parts: tuple[str, ...],
    data: bytes,
    is_manifest: bool,
    has_binding_gyp: bool,
    state: _State,
    walk: _Walk,
) -> None:
    name = parts[-1]
    suffix = relpath.suffix(name).lower()
    interpreter = _shebang(data) if not suffix or suffix not in JS_DIALECTS else None

    if suffix in PYTHON_SUFFIXES or suffix in JS_DIALECTS:
        state.caps.extend(offscreen_code(rel, data))
    if is_claim_source(rel):
        state.caps.extend(scan_claims(rel, data[: claims.MAX_TEXT].decode("utf-8", errors="replace")))
    if name.endswith(DECLARATION_SUFFIXES):
        state.unanalysed.append((rel, "TypeScript declaration file (types only); not analysed"))
        return
    if suffix in PYTHON_STUBS:
        state.unanalysed.append((rel, "Python type stub (types only); not analysed"))
        return
    if is_manifest:
        result = analyze_manifest(rel, data, has_binding_gyp=has_binding_gyp)
        if result is not None:
            state.caps.extend(result.capabilities)
            state.unanalysed.extend((rel, problem) for problem in result.problems)
            depth = len(parts)
            if "node_modules" not in parts:
                priority = METADATA_PRIORITY.get(name, 9)
                state.metadata.extend(((depth, priority), k, v) for k, v in result.metadata)
        return
    if suffix in JS_DIALECTS or interpreter in ("node", "nodejs", "deno", "bun"):
        _analyse_js(rel, data, JS_DIALECTS.get(suffix, "js"), state, walk)
        return
    if suffix in PYTHON_SUFFIXES or (not suffix and interpreter and interpreter.startswith("python")):
        # Imported on first use (~40 ms): JavaScript-only packages never load it.
        from distrust.analyze.python import analyze_parsed
        from distrust.analyze.python import parse as parse_python

        tree, problem = parse_python(data)
        py = analyze_parsed(rel, data, tree, problem)
        state.caps.extend(py.capabilities)
        if tree is not None:
            state.caps.extend(import_time_capabilities(rel, tree, py.capabilities))
        state.unanalysed.extend((rel, problem) for problem in py.problems)
        return
    text = data.decode("utf-8", errors="replace")
    shell = suffix in SHELL_SUFFIXES or interpreter in ("sh", "bash", "zsh", "dash", "ksh")
    state.caps.extend(textscan.scan_text(rel, text, shell=shell))


def _analyse_js(rel: str, data: bytes, dialect: str, state: _State, walk: _Walk) -> None:
    text = data.decode("utf-8", errors="replace")
    analyser = walk.js_analyser()
    if analyser is None:
        state.unanalysed.append((rel, f"{JS_UNAVAILABLE}; scanned as text only"))
        state.caps.extend(textscan.scan_text(rel, text))
    else:
        try:
            result = analyser(rel, data, dialect=dialect)
        except Exception as exc:  # one analyser bug must not lose the other files' results
            state.unanalysed.append((rel, f"JavaScript analyser failed: {type(exc).__name__}: {exc}"))
            state.caps.extend(textscan.scan_text(rel, text))
        else:
            state.caps.extend(result.capabilities)
            state.unanalysed.extend((rel, problem) for problem in result.problems)
    state.script_files.append(rel)
    if looks_minified(rel, text):
        state.minified.append(rel)
