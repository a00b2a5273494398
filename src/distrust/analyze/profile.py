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

import importlib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from distrust.analyze import claims, textscan
from distrust.analyze.claims import is_claim_source, scan_claims
from distrust.analyze.layout import offscreen_code
from distrust.analyze.manifest import (
    METADATA_PRIORITY,
    analyze_manifest,
    import_time_capabilities,
    manifest_analyzer,
)
from distrust.analyze.python import analyze_parsed
from distrust.analyze.python import parse as parse_python
from distrust.fetch.extract import has_control_pictures
from distrust.fsutil import ReadError, read_bytes_capped
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


def native_binary_format(head: bytes) -> str | None:
    """The native executable format the first bytes announce (ELF, Mach-O, PE, WASM), else None."""
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
    if ".min." in PurePosixPath(path).name:
        return True
    if len(text) < MINIFIED_MIN_BYTES:
        return False
    lines = text.count("\n") + 1
    return len(text) / lines > MINIFIED_AVERAGE_LINE


def module_stem(path: str) -> str:
    """``dist/x.min.js`` -> ``x``, ``src/x.ts`` -> ``x``: the name a readable source would share."""
    name = PurePosixPath(path).name
    for suffix in sorted(JS_DIALECTS, key=len, reverse=True):
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
    caps: list[Capability] = field(default_factory=list)
    unanalysed: list[tuple[str, str]] = field(default_factory=list)
    metadata: list[tuple[tuple[int, int], str, str]] = field(
        default_factory=list
    )  # ((depth, priority), k, v)
    minified: list[str] = field(default_factory=list)
    script_files: list[str] = field(default_factory=list)  # every JS/TS file analysed
    js: _JsAnalyser | None = None
    js_loaded: bool = False

    def js_analyser(self) -> _JsAnalyser | None:
        if not self.js_loaded:
            self.js = load_js_analyser()
            self.js_loaded = True
        return self.js


def build_profile(artifact: Artifact, *, progress: Callable[[int, int], None] | None = None) -> Profile:
    """Analyse every file of ``artifact`` (single process; nothing executed) into a Profile.

    ``progress(done, total)`` is called after each file so a CLI can draw a bar.
    Capabilities come sorted by (file, line, kind, value) without duplicates.
    """
    root = artifact.root
    files = sorted(set(artifact.files))
    state = _State()
    file_set = frozenset(files)
    try:
        real_root = os.path.realpath(root)
    except OSError:
        real_root = str(root)
    total = len(files)
    for done, rel in enumerate(files, start=1):
        _analyse_file(root, real_root, rel, file_set, state)
        if progress is not None:
            progress(done, total)

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
        name = PurePosixPath(rel).name
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


def _is_safe_relative(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return bool(parts) and not PurePosixPath(rel).is_absolute() and ".." not in parts and "\\" not in rel[:2]


def _analyse_file(root: Path, real_root: str, rel: str, files: frozenset[str], state: _State) -> None:
    if not _is_safe_relative(rel):
        state.unanalysed.append((rel, "path escapes the artifact root; not read"))
        return
    if has_control_pictures(rel):
        why = "the archive names this file with control characters"
        state.caps.append(Capability("obfuscation.filename", rel, rel, 1, why))
    full = root / rel
    try:
        st = os.lstat(full)
    except OSError as exc:
        state.unanalysed.append((rel, f"cannot stat: {exc.strerror or exc}"))
        return
    if stat.S_ISLNK(st.st_mode):
        state.unanalysed.append((rel, f"symbolic link to {os.readlink(full)!r}; not followed"))
        return
    if not stat.S_ISREG(st.st_mode):
        state.unanalysed.append((rel, "not a regular file"))
        return
    real = os.path.realpath(full)
    if os.path.commonpath([real, real_root]) != real_root:
        state.unanalysed.append((rel, "a parent directory is a symbolic link out of the artifact; not read"))
        return

    head = _read_head(full)
    if head is None:
        state.unanalysed.append((rel, "cannot open"))
        return
    suffix = PurePosixPath(rel).suffix.lower()
    native = native_binary_format(head)
    if native:
        state.caps.append(Capability("binary.native", f"{native}: {PurePosixPath(rel).name}", rel, 1, ""))
        state.unanalysed.append((rel, f"native binary ({native}); machine code not analysed"))
        return
    if suffix in NATIVE_EXTENSIONS and suffix != ".bin":
        state.caps.append(
            Capability(
                "binary.native",
                f"{suffix} file without a known binary signature: {PurePosixPath(rel).name}",
                rel,
                1,
                "",
            )
        )
    for prefix, reason in OPAQUE_FORMATS:
        if head.startswith(prefix):
            state.unanalysed.append((rel, reason))
            return
    if suffix in PYC_SUFFIXES:
        state.unanalysed.append((rel, "compiled Python bytecode; not decompiled"))
        state.caps.append(Capability("code.dynamic", f"compiled Python bytecode shipped: {rel}", rel, 1, ""))
        return
    if st.st_size > MAX_ANALYSED_BYTES:
        state.unanalysed.append((rel, f"too large ({st.st_size} bytes > {MAX_ANALYSED_BYTES}-byte limit)"))
        return
    try:
        data = read_bytes_capped(full, MAX_ANALYSED_BYTES)
    except ReadError as exc:
        state.unanalysed.append((rel, exc.reason))
        return
    if b"\x00" in data[:8192] and suffix not in PYTHON_SUFFIXES:
        state.unanalysed.append((rel, "binary data (not text); not analysed"))
        return
    _dispatch(rel, data, files, state)


def _read_head(path: Path) -> bytes | None:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        return os.read(fd, HEAD_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)


_SHEBANG = re.compile(rb"^#!\s*(?:/usr/bin/env\s+(?:-S\s+)?)?\S*?([A-Za-z]+)[\d.]*\b")


def _shebang(data: bytes) -> str | None:
    match = _SHEBANG.match(data[:200])
    return match.group(1).decode("ascii").lower() if match else None


def _dispatch(rel: str, data: bytes, files: frozenset[str], state: _State) -> None:
    path = PurePosixPath(rel)
    name = path.name
    suffix = path.suffix.lower()
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
    if manifest_analyzer(rel):
        binding = str(path.parent / "binding.gyp") if str(path.parent) != "." else "binding.gyp"
        result = analyze_manifest(rel, data, has_binding_gyp=binding in files)
        if result is not None:
            state.caps.extend(result.capabilities)
            state.unanalysed.extend((rel, problem) for problem in result.problems)
            depth = len(path.parts)
            if "node_modules" not in path.parts:
                priority = METADATA_PRIORITY.get(name, 9)
                state.metadata.extend(((depth, priority), k, v) for k, v in result.metadata)
        return
    if suffix in JS_DIALECTS or interpreter in ("node", "nodejs", "deno", "bun"):
        _analyse_js(rel, data, JS_DIALECTS.get(suffix, "js"), state)
        return
    if suffix in PYTHON_SUFFIXES or (not suffix and interpreter and interpreter.startswith("python")):
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


def _analyse_js(rel: str, data: bytes, dialect: str, state: _State) -> None:
    text = data.decode("utf-8", errors="replace")
    analyser = state.js_analyser()
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
