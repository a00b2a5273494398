"""Real malicious PyPI samples, READ as data (ast.parse and text only; never installed or run).

The corpus lives outside the repository (``/work/shared/corpus``); these tests skip cleanly
when it is absent. Archives are opened in memory; nothing is extracted to disk.
"""

from __future__ import annotations

import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from distrust.analyze.manifest import analyze_manifest, manifest_analyzer
from distrust.analyze.python import analyze_python
from distrust.model import Capability

CORPUS = Path("/work/shared/corpus/pypi-malicious")
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="malicious PyPI corpus not present")

MAX_MEMBER = 2 * 1024 * 1024
EXEC_OR_NETWORK = frozenset({"network.request", "process.spawn", "code.dynamic", "code.decode_exec"})


def members(archive: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of regular files in an sdist or wheel, by content type (some .tar.gz are zips)."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir() and info.file_size <= MAX_MEMBER:
                    yield info.filename, zf.read(info)
        return
    with tarfile.open(archive) as tf:
        for member in tf.getmembers():
            if member.isfile() and member.size <= MAX_MEMBER:
                handle = tf.extractfile(member)
                if handle is not None:
                    yield member.name, handle.read()


def analyse_archive(archive: Path) -> list[Capability]:
    caps: list[Capability] = []
    for name, data in members(archive):
        if manifest_analyzer(name):
            result = analyze_manifest(name, data)
            caps.extend(result.capabilities if result else ())
        elif name.endswith(".py"):
            caps.extend(analyze_python(name, data).capabilities)
    return caps


def sample(name: str) -> Path:
    archives = sorted((CORPUS / name).iterdir())
    assert archives, name
    return archives[0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # cmdclass install override downloading a RAT with requests and running it
        ("SpammingSynonym", {("install.hook", "cmdclass install: CustomInstallCommand")}),
        # setup.py top level: download an .exe from a Discord CDN and os.startfile it
        ("web3-essential", {("process.spawn", "os.startfile: %APPDATA%/ily.exe")}),
        # code after setup(): downloads two executables
        ("stealthpy", set()),
    ],
)
def test_install_time_droppers(name: str, expected: set[tuple[str, str]]) -> None:
    caps = analyse_archive(sample(name))
    pairs = {(c.kind, c.value) for c in caps}
    assert expected <= pairs, sorted(pairs)
    hooks = [c for c in caps if c.kind == "install.hook" and c.file.endswith("setup.py")]
    assert hooks, "the dropper must be reported as an install hook"
    assert any(c.kind == "network.request" for c in caps)
    assert any(c.kind == "network.url" and "discord" in c.value for c in caps)


def test_base64_exec_dropper_payload_is_decoded() -> None:
    # setup.py hides `exec(compile(b64decode("…")))` far to the right of a print(); the payload
    # writes a second stage that downloads code from a bare IP and execs it.
    caps = analyse_archive(sample("xhttpsp"))
    pairs = {(c.kind, c.value) for c in caps}
    assert ("code.decode_exec", "exec(base64)") in pairs
    assert any(k == "install.hook" and v.startswith("setup.py: code.decode_exec") for k, v in pairs)
    assert any(k == "network.ip" for k, _ in pairs), sorted(pairs)


def test_hyperion_obfuscated_exec_alias() -> None:
    # Hyperion obfuscator: `a, b, … = exec, str, …` then a(...) runs the payload.
    caps = analyse_archive(sample("discord-solver"))
    kinds = {c.kind for c in caps}
    assert "code.dynamic" in kinds
    assert "install.hook" in kinds


@pytest.mark.slow
def test_most_of_the_corpus_shows_install_hooks_or_network_or_exec() -> None:
    # Every third archive keeps the test fast while covering the corpus' variety.
    archives = sorted(p for d in CORPUS.iterdir() if d.is_dir() for p in d.iterdir())[::3]
    flagged = 0
    for archive in archives:
        kinds = {c.kind for c in analyse_archive(archive)}
        if "install.hook" in kinds or kinds & EXEC_OR_NETWORK:
            flagged += 1
    # 144 of all 150 at the time of writing; the rest are typosquats with no code at all.
    assert flagged >= 0.9 * len(archives), f"{flagged}/{len(archives)}"
