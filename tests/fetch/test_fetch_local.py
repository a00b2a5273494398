"""Spec parsing and local inputs: directories analysed in place, archives hashed and cached."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from fetch_helpers import npm_tarball, sdist

from distrust.fetch import ArtifactSpec, SpecError, fetch, parse_spec
from distrust.model import Ecosystem

# --- parse_spec -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "name", "version"),
    [
        ("npm:postmark-mcp@1.0.16", "npm", "postmark-mcp", "1.0.16"),
        ("npm:@scope/pkg@2.0.0-beta.1+build.5", "npm", "@scope/pkg", "2.0.0-beta.1+build.5"),
        ("npm:@scope/pkg", "npm", "@scope/pkg", None),
        ("npm:postmark-mcp@latest", "npm", "postmark-mcp", "latest"),
        ("pypi:six==1.16.0", "pypi", "six", "1.16.0"),
        ("pypi:Mail_Demo.x == 1!2.0rc1", "pypi", "Mail_Demo.x", "1!2.0rc1"),
        ("pypi:six", "pypi", "six", None),
    ],
)
def test_parse_registry_specs(text: str, kind: str, name: str, version: str | None) -> None:
    assert parse_spec(text) == ArtifactSpec(kind, text.strip(), name=name, version=version)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty package spec"),
        ("npm:", "invalid npm package name"),
        ("npm:../../etc/passwd@1.0.0", "invalid npm package name"),
        ("npm:a/b/c@1", "invalid npm package name"),
        ("npm:pkg@^1.0.0", "ranges such as"),
        ("npm:pkg@", "empty version"),
        ("pypi:six>=1.0", "only exact versions"),
        ("pypi:six==", "empty version"),
        ("pypi:-bad==1.0", "invalid PyPI project name"),
        ("pypi:six==1.0/../../x", "invalid PyPI version"),
        ("postmark-mcp@1.0.16", "did you mean npm:postmark-mcp@1.0.16"),
        ("six==1.16.0", "did you mean pypi:six==1.16.0"),
        ("/no/such/pkg.tgz", "no such file"),
        ("gopher://x", "not a package spec"),
    ],
)
def test_parse_rejects_with_reason(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("^", r"\^").replace("+", r"\+")):
        parse_spec(text)


def test_parse_local_paths(tmp_path: Path) -> None:
    (tmp_path / "a.tgz").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    assert parse_spec(str(tmp_path)).kind == "directory"
    assert parse_spec(str(tmp_path / "a.tgz")) == ArtifactSpec(
        "archive", str(tmp_path / "a.tgz"), path=tmp_path / "a.tgz"
    )
    with pytest.raises(SpecError, match="not a known archive"):
        parse_spec(str(tmp_path / "notes.txt"))


# --- local directory ------------------------------------------------------------------------


def _server_dir(root: Path) -> Path:
    (root / "lib").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"name": "local-mail", "version": "0.3.0"}))
    (root / "lib" / "index.js").write_text("module.exports = 1;\n")
    (root / "node_modules" / "dep").mkdir(parents=True)
    (root / "node_modules" / "dep" / "index.js").write_text("1")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")
    os.symlink("/etc/passwd", root / "passwd-link")
    os.mkfifo(root / "pipe")
    return root


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for d, dirs, files in os.walk(root):
        for n in (*dirs, *files):
            st = os.lstat(Path(d) / n)
            out[str(Path(d) / n)] = (st.st_mtime_ns, st.st_mode)
    return out


def test_directory_is_used_in_place_and_never_modified(tmp_path: Path) -> None:
    root = _server_dir(tmp_path / "srv")
    before = _snapshot(root)
    art = fetch(str(root), cache_dir=tmp_path / "cache")
    assert _snapshot(root) == before
    assert art.root == root.resolve() and art.source == str(root.resolve())
    assert art.files == ("lib/index.js", "package.json")
    assert art.ref.ecosystem == Ecosystem.NPM and (art.ref.name, art.ref.version) == ("local-mail", "0.3.0")
    assert art.integrity.startswith("sha256-tree:") and len(art.integrity) == len("sha256-tree:") + 64
    reasons = {p: r.split(":")[0] for p, r in art.skipped}
    assert reasons == {
        ".git/": "excluded",
        "node_modules/": "excluded",
        "passwd-link": "symlink",
        "pipe": "special",
    }
    assert not (tmp_path / "cache").exists(), "a directory is not copied into the cache"


def test_directory_digest_tracks_paths_and_contents(tmp_path: Path) -> None:
    root = _server_dir(tmp_path / "srv")
    first = fetch(str(root)).integrity
    assert fetch(str(root)).integrity == first
    (root / "lib" / "index.js").write_text("module.exports = 2;\n")
    second = fetch(str(root)).integrity
    assert second != first
    (root / "lib" / "index.js").rename(root / "lib" / "main.js")
    assert fetch(str(root)).integrity not in (first, second)


# --- local archives -------------------------------------------------------------------------


def test_local_npm_tarball_is_hashed_cached_and_named(tmp_path: Path) -> None:
    data = npm_tarball(
        {"package.json": json.dumps({"name": "x-mcp", "version": "1.2.3"}).encode(), "i.js": b"1"}
    )
    path = tmp_path / "x-mcp-1.2.3.tgz"
    path.write_bytes(data)
    art = fetch(str(path), cache_dir=tmp_path / "cache")
    assert (art.ref.ecosystem, art.ref.name, art.ref.version) == (Ecosystem.NPM, "x-mcp", "1.2.3")
    assert art.files == ("i.js", "package.json") and art.integrity.startswith("sha256:")
    assert art.root.is_relative_to(tmp_path / "cache" / "artifacts") and not art.from_cache
    again = fetch(str(path), cache_dir=tmp_path / "cache")
    assert again.from_cache and again.root == art.root
    assert path.read_bytes() == data


def test_local_wheel_and_sdist_are_named_from_metadata(tmp_path: Path) -> None:
    wheel = tmp_path / "mailer_demo-2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("mailer_demo/__init__.py", "")
        zf.writestr(
            "mailer_demo-2.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: mailer-demo\nVersion: 2.0\n"
        )
    art = fetch(str(wheel))
    assert (art.ref.ecosystem, art.ref.name, art.ref.version) == (Ecosystem.PYPI, "mailer-demo", "2.0")
    sd = tmp_path / "mailer_demo-2.0.tar.gz"
    sd.write_bytes(sdist("mailer_demo", "2.0", {"setup.py": b"setup()"}))
    art = fetch(str(sd))
    assert art.files == ("PKG-INFO", "setup.py") and art.ref.ecosystem == Ecosystem.PYPI


def test_unnamed_archive_is_local(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("server.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"1"))
    path = tmp_path / "thing.tar.gz"
    path.write_bytes(buf.getvalue())
    art = fetch(str(path))
    assert (art.ref.ecosystem, art.ref.name, art.ref.version) == (Ecosystem.LOCAL, "thing", None)


def test_broken_manifest_is_a_note_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "p.tgz"
    path.write_bytes(npm_tarball({"package.json": b"{not json", "i.js": b"1"}))
    art = fetch(str(path))
    assert art.ref.ecosystem == Ecosystem.LOCAL
    assert any("package.json could not be read" in n for n in art.notes)
