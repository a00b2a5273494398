"""Shared pieces of the Risk Engine benchmarks (``detect.py``, ``speed.py``).

Both benchmarks need the same four things, kept here so they cannot drift apart:

* the evaluation corpus, read from its TSV manifests into typed rows, with errors that name the
  file, line and column (a corrupt manifest must not turn into a silent "0 samples");
* our engine run the way ``distrust inspect`` / ``diff`` run it (fetch → profile → assess),
  reduced to a small JSON-able :class:`Verdict` so results can be cached between runs;
* GuardDog, the peer tool, installed in its own virtualenv (its pins must not touch ours) and
  run as a subprocess whose wall time and peak memory are measured from outside;
* a tiny result store that keys every cached result by the engine that produced it, so a
  rule tweak re-runs only our engine and never the slow peer.

Nothing here executes code from a package under analysis: our engine only reads files, and
GuardDog is a static scanner that we run in its own kernel sandbox (its default).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final
from urllib.parse import urljoin

BENCH_DIR: Final = Path(__file__).resolve().parent
REPO_DIR: Final = BENCH_DIR.parent
OUT_DIR: Final = BENCH_DIR / "out"
# Downloads live beside the benchmark, not in the user's distrust cache, so benchmarking never
# fills (or is skewed by) a real cache; re-runs reuse it.
CACHE_DIR: Final = BENCH_DIR / ".cache"
DISTRUST_CACHE: Final = CACHE_DIR / "distrust"
PYPI_FILES: Final = CACHE_DIR / "pypi-files"
GUARDDOG_VENV: Final = BENCH_DIR / ".guarddog-venv"
GUARDDOG_REQUIREMENT: Final = "guarddog>=3,<4"

CORPUS_ENV: Final = "DISTRUST_CORPUS"
DEFAULT_CORPUS: Final = Path("/work/shared/corpus")

# Largest archive we download for the benchmark; the corpus promises ≤ 5 MB per file.
MAX_DOWNLOAD_BYTES: Final = 64 * 1024 * 1024
GUARDDOG_TIMEOUT_S: Final = 600.0
# Bump when Verdict's fields or how run_engine fills them change: cached verdicts then expire.
VERDICT_FORMAT: Final = "3"
# Same for GuardDogResult: part of the GuardDog store's namespace beside GuardDog's version.
GUARDDOG_RESULT_FORMAT: Final = "2"
_NUMERIC: Final = re.compile(r"^\s*(-|n/a|[-+]?\d[\d.,]*\s*[%x×]?)\s*$")


class CorpusError(Exception):
    """A corpus manifest or sample is unusable; the message names the file, line and field."""


class BenchError(Exception):
    """The benchmark cannot proceed (a tool failed to install, a download was refused)."""


def corpus_dir(explicit: Path | None = None) -> Path:
    """The corpus root: the argument, then ``$DISTRUST_CORPUS``, then the shared default."""
    if explicit is not None:
        return explicit
    override = os.environ.get(CORPUS_ENV)
    return Path(override) if override else DEFAULT_CORPUS


# --- corpus manifests -----------------------------------------------------------------------


@dataclass(frozen=True)
class NpmPair:
    """Two consecutive published versions of a benign npm package (label: benign)."""

    name: str
    old: str
    new: str
    old_integrity: str
    new_integrity: str
    category: str
    note: str
    where: str  # "file:line", for messages


@dataclass(frozen=True)
class PypiFile:
    """One exact PyPI distribution file, as the corpus names it (the sha256 pins the bytes)."""

    name: str
    version: str
    filename: str
    sha256: str
    category: str
    where: str


@dataclass(frozen=True)
class PypiPair:
    """Previous → latest release of a benign PyPI project, each an exact file."""

    old: PypiFile
    new: PypiFile
    category: str
    where: str


@dataclass(frozen=True)
class MaliciousPypi:
    """A real malicious PyPI archive stored in the corpus (read in place, never installed)."""

    name: str
    version: str
    path: Path
    sha256: str
    cluster_id: str
    where: str


@dataclass(frozen=True)
class MaliciousNpm:
    """An unpacked malicious (or protestware) npm version stored in the corpus."""

    name: str
    version: str
    label: str  # "malicious" | "protestware"
    family: str
    path: Path
    where: str


def read_tsv(path: Path, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a tab-separated manifest as ``(line number, column → value)``.

    Raises :class:`CorpusError` when the file is missing, a required column is absent, or a
    row leaves a required field empty, so a broken manifest is reported, not half-read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read manifest ({exc})") from None
    reader = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = reader.fieldnames or []
    missing = [col for col in required if col not in header]
    if missing:
        raise CorpusError(f"{path}:1: missing column(s) {', '.join(missing)} (have: {', '.join(header)})")
    rows: list[tuple[int, dict[str, str]]] = []
    for index, raw in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        for col in required:
            if not row.get(col):
                raise CorpusError(f"{path}:{index}: field {col!r} is empty")
        rows.append((index, row))
    return rows


def load_npm_pairs(corpus: Path) -> list[NpmPair]:
    path = corpus / "npm-benign-pairs.tsv"
    cols = ("name", "old", "new", "old_integrity", "new_integrity", "category")
    return [
        NpmPair(
            r["name"],
            r["old"],
            r["new"],
            r["old_integrity"],
            r["new_integrity"],
            r["category"],
            r.get("note", ""),
            f"{path.name}:{line}",
        )
        for line, r in read_tsv(path, cols)
    ]


def load_pypi_benign(corpus: Path) -> list[PypiFile]:
    path = corpus / "pypi-benign.tsv"
    cols = ("name", "filename", "sha256", "category")
    return [
        PypiFile(
            r["name"],
            _pypi_version(r, "version", "filename", path, line),
            r["filename"],
            _sha256(r["sha256"], path, line),
            r["category"],
            f"{path.name}:{line}",
        )
        for line, r in read_tsv(path, cols)
    ]


def _pypi_version(row: Mapping[str, str], column: str, file_column: str, path: Path, line: int) -> str:
    """The row's version, or the one its file name spells when the column is empty.

    The DEV manifest has such a row (sib-api-v3-sdk); the file name is authoritative anyway,
    since it is what the sha256 pins. Refuse when neither gives a version.
    """
    if row.get(column):
        return row[column]
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    filename = row.get(file_column, "")
    try:
        if filename.endswith(".whl"):
            version = str(parse_wheel_filename(filename)[1])
        else:
            version = str(parse_sdist_filename(filename)[1])
    except (InvalidSdistFilename, InvalidWheelFilename):
        raise CorpusError(
            f"{path}:{line}: field {column!r} is empty and {filename!r} names no version"
        ) from None
    print(
        f"note: {path.name}:{line}: field {column!r} is empty; using {version} from {filename}",
        file=sys.stderr,
    )
    return version


def load_pypi_pairs(corpus: Path) -> list[PypiPair]:
    path = corpus / "pypi-benign-pairs.tsv"
    cols = ("name", "old_filename", "old_sha256", "new_filename", "new_sha256", "category")
    pairs: list[PypiPair] = []
    for line, r in read_tsv(path, cols):
        where = f"{path.name}:{line}"
        old = PypiFile(
            r["name"],
            _pypi_version(r, "old", "old_filename", path, line),
            r["old_filename"],
            _sha256(r["old_sha256"], path, line),
            r["category"],
            where,
        )
        new = PypiFile(
            r["name"],
            _pypi_version(r, "new", "new_filename", path, line),
            r["new_filename"],
            _sha256(r["new_sha256"], path, line),
            r["category"],
            where,
        )
        pairs.append(PypiPair(old, new, r["category"], where))
    return pairs


def load_pypi_malicious(corpus: Path) -> list[MaliciousPypi]:
    path = corpus / "pypi-malicious.tsv"
    cols = ("name", "version", "sha256", "cluster_id", "local_file")
    out: list[MaliciousPypi] = []
    for line, r in read_tsv(path, cols):
        sample = _inside(corpus, r["local_file"], path, line, "local_file")
        if not sample.is_file():
            raise CorpusError(f"{path}:{line}: field 'local_file': {sample} is not a file")
        out.append(
            MaliciousPypi(
                r["name"],
                r["version"],
                sample,
                _sha256(r["sha256"], path, line),
                r["cluster_id"],
                f"{path.name}:{line}",
            )
        )
    return out


def load_npm_malicious(corpus: Path) -> list[MaliciousNpm]:
    path = corpus / "npm-malicious.tsv"
    cols = ("name", "version", "label", "dir")
    out: list[MaliciousNpm] = []
    for line, r in read_tsv(path, cols):
        sample = _inside(corpus, r["dir"], path, line, "dir")
        if not sample.is_dir():
            raise CorpusError(f"{path}:{line}: field 'dir': {sample} is not a directory")
        out.append(
            MaliciousNpm(
                r["name"], r["version"], r["label"], r.get("family", ""), sample, f"{path.name}:{line}"
            )
        )
    return out


def _sha256(value: str, path: Path, line: int) -> str:
    text = value.lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise CorpusError(f"{path}:{line}: field 'sha256' is not 64 hex digits: {value[:80]!r}")
    return text


def _inside(corpus: Path, rel: str, path: Path, line: int, column: str) -> Path:
    """Resolve a manifest path and refuse one that leaves the corpus (``..``, absolute)."""
    target = (corpus / rel).resolve()
    if not target.is_relative_to(corpus.resolve()):
        raise CorpusError(f"{path}:{line}: field {column!r}: {rel!r} points outside the corpus")
    return target


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- exact PyPI files -----------------------------------------------------------------------


def pypi_exact_file(item: PypiFile, dest_dir: Path = PYPI_FILES) -> Path:
    """Download exactly the file the corpus names (not whatever ``fetch`` would prefer).

    ``fetch("pypi:NAME==VER")`` picks the sdist by policy, but the corpus pins one filename and
    its sha256; analysing another file of the same release would measure something else. The
    file's URL comes from PyPI's JSON API, the bytes are checked against the corpus sha256 (and
    PyPI's own), and a verified copy is reused on later runs.
    """
    from packaging.utils import canonicalize_name

    from distrust.fetch import Http, pypi_project_json
    from distrust.fetch.pypi import pypi_index_url

    target = dest_dir / item.sha256[:16] / item.filename
    if target.is_file() and sha256_file(target) == item.sha256:
        return target
    with Http() as http:
        # The project document lists every release's files; the per-version endpoint is not
        # served by every mirror (it answers 404 behind some proxies), so it is not used.
        doc = pypi_project_json(item.name, None, http=http)
        raw = doc.get("releases")
        releases: dict[str, Any] = raw if isinstance(raw, dict) else {}
        files = [f for group in releases.values() if isinstance(group, list) for f in group]
        entry = next((f for f in files if isinstance(f, dict) and f.get("filename") == item.filename), None)
        if entry is None:
            raise BenchError(
                f"{item.where}: PyPI lists no file {item.filename} for {item.name}=={item.version}"
            )
        published = str((entry.get("digests") or {}).get("sha256", "")).lower()
        if published != item.sha256:
            raise BenchError(
                f"{item.where}: PyPI's sha256 for {item.filename} is {published or 'missing'}, "
                f"the corpus says {item.sha256}"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_name(target.name + ".part")
        # Some mirrors answer relative file URLs ("../../packages/…"): resolve them against
        # the document's own URL, as a browser would.
        url = urljoin(f"{pypi_index_url()}/pypi/{canonicalize_name(item.name)}/json", str(entry["url"]))
        digests = http.download(url, scratch, max_bytes=MAX_DOWNLOAD_BYTES)
    if digests["sha256"].hex() != item.sha256:
        scratch.unlink(missing_ok=True)
        raise BenchError(f"{item.where}: downloaded {item.filename} does not match sha256 {item.sha256}")
    scratch.replace(target)
    return target


# --- our engine ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What one run of our engine concluded, small enough to cache as JSON.

    ``findings`` holds ``(severity label, rule id, title)`` most severe first; ``error`` is set
    (and ``level`` is ``"error"``) when the sample could not be fetched or analysed.
    """

    level: str
    score: int
    findings: tuple[tuple[str, str, str], ...] = ()
    seconds: float = 0.0
    files: int = 0
    unanalysed: tuple[str, ...] = ()  # "file: reason" of files the analyser could not read
    error: str | None = None
    # "kind x count (first file)" of the analysed version's capabilities, most frequent first:
    # tells a miss the analyser did not see from one the rules did not judge.
    capabilities: tuple[str, ...] = ()

    @property
    def severity(self) -> int:
        """The level as a number (NONE=0 … CRITICAL=4), or -1 for an error."""
        from distrust.model import Severity

        return -1 if self.error else int(Severity.parse(self.level))

    def top_titles(self, limit: int = 3) -> str:
        if self.error:
            return f"ERROR: {self.error}"
        if not self.findings:
            return "no findings"
        return "; ".join(f"[{sev}] {title} ({rule})" for sev, rule, title in self.findings[:limit])

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(
            level=str(data["level"]),
            score=int(data["score"]),
            findings=tuple((str(a), str(b), str(c)) for a, b, c in data.get("findings", ())),
            seconds=float(data.get("seconds", 0.0)),
            files=int(data.get("files", 0)),
            unanalysed=tuple(str(u) for u in data.get("unanalysed", ())),
            error=data.get("error"),
            capabilities=tuple(str(c) for c in data.get("capabilities", ())),
        )


@dataclass(frozen=True)
class EngineTask:
    """One run of our engine: ``inspect`` of one spec, or ``diff`` of two (old, new).

    ``integrity`` optionally pins what ``fetch`` must report for each spec (the corpus' npm
    ``dist.integrity``); a mismatch is an error, because then we analysed other bytes.
    """

    key: str
    mode: str  # "inspect" | "diff"
    specs: tuple[str, ...]
    integrity: tuple[str | None, ...] = ()


_HTTP: Any = None


def _shared_http() -> Any:
    """One HTTP client per process: ``fetch`` builds a fresh one (and re-reads the CA bundle,
    ~0.3 s) on every call otherwise, even when the cache answers without any request."""
    global _HTTP
    if _HTTP is None:
        from distrust.fetch import Http

        _HTTP = Http()
    return _HTTP


def _forget_http_in_child() -> None:
    global _HTTP
    _HTTP = None  # a forked worker must not share the parent's open connections


os.register_at_fork(after_in_child=_forget_http_in_child)


def fetch_artifact(spec: str, expected_integrity: str | None = None, cache_dir: Path = DISTRUST_CACHE) -> Any:
    """``distrust.fetch.fetch`` into the bench cache, optionally checking the integrity it saw."""
    from distrust.fetch import fetch

    artifact = fetch(spec, cache_dir=cache_dir, http=_shared_http())
    if expected_integrity is not None and artifact.integrity != expected_integrity:
        raise BenchError(
            f"{spec}: registry integrity {artifact.integrity[:30]}… differs from the corpus' "
            f"{expected_integrity[:30]}…"
        )
    return artifact


def run_engine(task: EngineTask, cache_dir: Path = DISTRUST_CACHE, jobs: int = 1) -> Verdict:
    """Run ``task`` the way ``distrust inspect``/``diff`` do: fetch → build_profile → assess.

    ``jobs`` is build_profile's process count (the CLI uses every usable CPU for a large
    package; the detection benchmark runs samples side by side instead, so it keeps 1).
    Any failure becomes a Verdict with ``error`` set: one unreadable sample must not abort a
    300-sample benchmark, and it is listed in the details rather than counted as a verdict.
    """
    from distrust.analyze.profile import FileMemo, build_profile
    from distrust.analyze.score import assess_diff, assess_profile

    start = time.perf_counter()
    try:
        pins = task.integrity or (None,) * len(task.specs)
        memo = FileMemo()  # as run_diff: files both versions share are analysed once
        profiles = [
            build_profile(fetch_artifact(spec, pin, cache_dir), memo=memo, jobs=jobs)
            for spec, pin in zip(task.specs, pins, strict=True)
        ]
        if task.mode == "inspect":
            assessment = assess_profile(profiles[0])
        elif task.mode == "diff":
            assessment = assess_diff(profiles[0], profiles[1])
        else:
            raise BenchError(f"unknown task mode {task.mode!r}")
    except Exception as exc:  # a benchmark reports per-sample failures, it does not stop on them
        return Verdict("error", 0, seconds=time.perf_counter() - start, error=f"{type(exc).__name__}: {exc}")
    ordered = sorted(assessment.findings, key=lambda f: -int(f.severity))
    return Verdict(
        level=assessment.level.label,
        score=assessment.score,
        findings=tuple((f.severity.label, f.rule_id, f.title) for f in ordered),
        seconds=time.perf_counter() - start,
        files=len(profiles[-1].artifact.files),
        unanalysed=tuple(f"{f}: {why}" for f, why in profiles[-1].unanalysed[:5]),
        capabilities=_capability_summary(profiles[-1].capabilities),
    )


def _capability_summary(capabilities: Iterable[Any], limit: int = 10) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    first_file: dict[str, str] = {}
    for cap in capabilities:
        counts[cap.kind] = counts.get(cap.kind, 0) + 1
        first_file.setdefault(cap.kind, cap.file)
    ranked = sorted(counts, key=lambda k: (-counts[k], k))[:limit]
    return tuple(f"{k} x{counts[k]} ({first_file[k]})" for k in ranked)


def engine_fingerprint() -> str:
    """A short hash of everything that decides our verdicts: analyser, rules, data, fetch.

    Cached verdicts carry it, so editing a rule (or any analyser file) invalidates exactly
    our results and nothing of GuardDog's.
    """
    import distrust

    package = Path(distrust.__file__).resolve().parent
    digest = hashlib.sha256(str(getattr(distrust, "__version__", "")).encode())
    digest.update(VERDICT_FORMAT.encode())
    for sub in ("analyze", "fetch", "model.py", "fsutil.py"):
        base = package / sub
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for p in paths:
            if "__pycache__" in p.parts or p.suffix == ".pyc":
                continue
            digest.update(p.relative_to(package).as_posix().encode())
            digest.update(p.read_bytes())
    return digest.hexdigest()[:16]


# --- GuardDog --------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardDogResult:
    """One ``guarddog <eco> scan`` run: the rules that matched and what it cost.

    ``issues`` is GuardDog's own count of matches; ``rules`` the distinct rules that fired.
    ``max_rss_kb`` is the peak resident memory of the process tree GuardDog waited for.
    """

    issues: int
    rules: tuple[str, ...]
    seconds: float
    max_rss_kb: int
    errors: tuple[str, ...] = ()
    error: str | None = None
    risk_label: str = ""  # GuardDog 3's own verdict: no_risks_detected | low | suspicious | high_risk
    risk_score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GuardDogResult:
        return cls(
            issues=int(data["issues"]),
            rules=tuple(str(r) for r in data.get("rules", ())),
            seconds=float(data.get("seconds", 0.0)),
            max_rss_kb=int(data.get("max_rss_kb", 0)),
            errors=tuple(str(e) for e in data.get("errors", ())),
            error=data.get("error"),
            risk_label=str(data.get("risk_label", "")),
            risk_score=float(data.get("risk_score", 0.0)),
        )


def ensure_guarddog(venv: Path = GUARDDOG_VENV, log: Any = None) -> Path:
    """The ``guarddog`` executable of a dedicated virtualenv, created and filled if missing.

    GuardDog pins its own versions of common libraries; a separate venv keeps them from
    changing what our engine runs with (and keeps it out of our dependency list).
    """
    exe = venv / "bin" / "guarddog"
    if exe.is_file():
        return exe
    say = log or (lambda text: print(text, file=sys.stderr))
    say(f"installing {GUARDDOG_REQUIREMENT} into {venv} (one-off) …")
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", GUARDDOG_REQUIREMENT],
    ]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
            raise BenchError(f"{' '.join(cmd[:4])} … failed (exit {proc.returncode}): {' | '.join(tail)}")
    if not exe.is_file():
        raise BenchError(f"pip installed {GUARDDOG_REQUIREMENT} but {exe} does not exist")
    return exe


def guarddog_version(exe: Path) -> str:
    proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False, timeout=120)
    text = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not text:
        raise BenchError(f"{exe} --version failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return text[-1].split()[-1]


@dataclass(frozen=True)
class Measured:
    """A finished child process: exit code, output, wall time and peak memory (from wait4)."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_kb: int
    timed_out: bool = False


# A minimal launcher that forks and execs the measured command, then reports wait4's rusage.
# Why not wait4 on our own child: Linux carries the pre-exec address space's peak RSS into
# ru_maxrss across execve, so a child forked from this (large) process would report our
# memory, not its own. Forked from this ~10 MB interpreter instead, the floor is ~10 MB.
_LAUNCHER = """
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as fh:
    fh.write("%r %d" % (time.perf_counter() - start, usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def run_measured(cmd: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> Measured:
    """Run ``cmd``; measure its wall time and peak RSS from outside (``wait4`` via a launcher).

    ``ru_maxrss`` from ``wait4`` covers the process and the descendants it waited for: the
    fair way to compare the memory of two tools that may spawn helpers. Output goes to
    temporary files, not pipes, so a chatty child can never block. On timeout the whole
    process group is killed.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as scratch,
    ):
        report = Path(scratch) / "rusage"
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, str(report), *cmd],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        try:
            returncode = proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            returncode = proc.wait()
            timed_out = True
        seconds = time.perf_counter() - start
        max_rss_kb = 0
        try:
            wall, rss = report.read_text(encoding="ascii").split()
            seconds, max_rss_kb = float(wall), int(rss)
        except (OSError, ValueError):
            pass  # killed before reporting: keep the outside wall time, memory unknown
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            seconds=seconds,
            max_rss_kb=max_rss_kb,
            timed_out=timed_out,
        )


def parse_guarddog_json(text: str) -> GuardDogResult:
    """Rules, errors and GuardDog's own risk label from ``--output-format json`` output.

    Time and memory are left at zero for the caller to fill. Raises ValueError when the output
    is not the JSON object GuardDog documents.
    """
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in GuardDog's output")
    doc = json.loads(text[start:])
    if not isinstance(doc, dict) or "issues" not in doc:
        raise ValueError("GuardDog's JSON has no 'issues' field")
    results = doc.get("results") or {}
    rules = tuple(sorted(name for name, hit in results.items() if hit))
    errors_obj = doc.get("errors") or {}
    errors = (
        tuple(f"{k}: {str(v)[:200]}" for k, v in errors_obj.items()) if isinstance(errors_obj, dict) else ()
    )
    raw_risk = doc.get("risk_score")
    risk: dict[str, Any] = raw_risk if isinstance(raw_risk, dict) else {}
    return GuardDogResult(
        issues=int(doc["issues"]),
        rules=rules,
        seconds=0.0,
        max_rss_kb=0,
        errors=errors,
        risk_label=str(risk.get("label", "")),
        risk_score=float(risk.get("score") or 0.0),
    )


def run_guarddog(
    exe: Path, ecosystem: str, target: Path, timeout: float = GUARDDOG_TIMEOUT_S
) -> GuardDogResult:
    """``guarddog {npm|pypi} scan TARGET --output-format json`` on a local dir or archive.

    A local path makes GuardDog extract and scan it without contacting the registry. (At start
    it still tries to refresh its popular-package lists for the typosquatting rule; that rule
    only runs on registry scans, so an offline machine gives the same verdicts.)
    """
    measured = run_measured(
        [str(exe), ecosystem, "scan", str(target), "--output-format", "json"], timeout=timeout
    )
    if measured.timed_out:
        return GuardDogResult(
            0, (), measured.seconds, measured.max_rss_kb, error=f"timed out after {timeout:.0f} s"
        )
    try:
        parsed = parse_guarddog_json(measured.stdout)
    except ValueError as exc:
        tail = " | ".join(line for line in measured.stderr.strip().splitlines()[-3:])
        return GuardDogResult(
            0,
            (),
            measured.seconds,
            measured.max_rss_kb,
            error=f"exit {measured.returncode}: {exc}; stderr: {tail[-300:]}",
        )
    return replace(parsed, seconds=measured.seconds, max_rss_kb=measured.max_rss_kb)


# --- result store ----------------------------------------------------------------------------


@dataclass
class ResultStore:
    """Per-sample results of one engine, saved as JSON and valid for one engine version only.

    Loading a file written by another version (``namespace``) starts empty: the old verdicts
    are not ours any more. Saves are atomic, so an interrupted run resumes where it stopped.
    """

    path: Path
    namespace: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, path: Path, namespace: str, *, fresh: bool = False) -> ResultStore:
        store = cls(path, namespace)
        if fresh or not path.is_file():
            return store
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return store  # a damaged cache is only a slower run
        if (
            isinstance(doc, dict)
            and doc.get("namespace") == namespace
            and isinstance(doc.get("results"), dict)
        ):
            store.results = {str(k): v for k, v in doc["results"].items() if isinstance(v, dict)}
        return store

    def get(self, key: str) -> dict[str, Any] | None:
        return self.results.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self.results[key] = value

    def save(self) -> None:
        from distrust.fsutil import atomic_write

        with self._lock:
            text = json.dumps(
                {"namespace": self.namespace, "results": self.results}, indent=1, sort_keys=True
            )
        atomic_write(self.path, text + "\n")


# --- presentation ----------------------------------------------------------------------------


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain fixed-width table: numeric columns right-aligned, text left-aligned."""
    body = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    numeric = [i > 0 and all(_NUMERIC.match(row[i]) for row in body) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(headers)), sep, *(line(r) for r in body)])


def rate(hits: int, total: int) -> str:
    return f"{100.0 * hits / total:5.1f}%" if total else "  n/a"


def self_peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
