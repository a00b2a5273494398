"""The verified store: locked versions installed once, from the exact bytes that were analysed.

``npx -y pkg`` fetches and runs whatever the registry serves at launch; that is how
postmark-mcp 1.0.16 reached people who had reviewed 1.0.15. ``distrust run`` instead starts
the server from a store entry made at lock time, so nothing is fetched at launch.

Layout (content-addressed, one directory per locked artifact)::

    <data dir>/store/<ecosystem>/<name>/<version>-<first 12 hex of the archive sha256>/
        npm:   package.json (depends on file:package.tgz), package.tgz (the verified
               tarball), package-lock.json and node_modules/ as the real npm client wrote them
        PyPI:  dist/<wheel> (the verified wheel), requirements.txt (with its sha256), venv/
        distrust-store.json   the manifest: what this is, how to launch it, sha256 of every file

Install rules, and why:

* npm runs with ``--ignore-scripts``: install hooks are where npm droppers live, and nothing
  from the package may run before the user decides to run the server (in the sandbox).
  Dependencies are resolved by npm from the lock's registry; the ``package-lock.json`` npm
  writes records their versions and integrity, and the manifest hashes every installed file.
* PyPI installs only wheels (``--only-binary :all:``): building an sdist runs its
  ``setup.py``. The locked wheel is installed with ``--require-hashes``. Its dependencies are
  resolved by pip from the index at lock time (wheels only) and then frozen by the manifest;
  they are not checked against registry hashes before install. That gap is documented, not
  hidden: the manifest makes later tampering visible, but the first install trusts the index.
* The manifest's digest is recorded in ``distrust.lock``, so :func:`verify_store_entry` can
  refuse an entry whose files, or whose manifest, changed after locking.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from distrust import paths
from distrust.fetch.cache import sha256_file
from distrust.fetch.records import FetchedArtifact
from distrust.fsutil import ReadError, atomic_write, read_text_capped
from distrust.gateway.surface import canonical_json
from distrust.model import Ecosystem

MANIFEST_NAME: Final = "distrust-store.json"
MANIFEST_FORMAT: Final = 1
NPM_TARBALL_NAME: Final = "package.tgz"
INSTALL_TIMEOUT_S: Final = 600.0

# Flags for every npm invocation that writes the store; each one closes a door.
NPM_INSTALL_FLAGS: Final = (
    "--ignore-scripts",  # no install hooks: nothing from the package runs at install time
    "--no-audit",  # no extra network request to the registry's audit endpoint
    "--no-fund",
    "--omit=dev",  # devDependencies never run in a server
    "--package-lock=true",  # a user's npmrc may turn it off; the store keeps npm's record of deps
    "--install-links=false",
    "--loglevel=error",
)

# Files npm rewrites on its own that are not part of what runs; everything else is hashed.
_UNHASHED: Final = frozenset({MANIFEST_NAME})


class StoreError(Exception):
    """A store entry could not be made or used; the message says which and why."""


class StoreTamperedError(StoreError):
    """An entry's files no longer match the manifest (or the manifest no longer matches the lock)."""


class StoreMissingError(StoreError):
    """The entry the lock names is not on disk."""


@dataclass(frozen=True)
class StoreEntry:
    """One installed, verified package version and how to start it from the store.

    ``command``/``args`` launch the package's own program; the server's configured arguments
    are appended by the caller. ``digest`` is the sha256 of the manifest (recorded in the lock).
    """

    ecosystem: str
    name: str
    version: str
    integrity: str
    registry: str
    path: Path
    command: str
    args: tuple[str, ...]
    digest: str
    files: int


def store_root() -> Path:
    """``<data dir>/store`` (``$DISTRUST_DATA_DIR`` moves it)."""
    return paths.data_dir() / "store"


def entry_dir(ecosystem: str, name: str, version: str, archive_sha256: str, root: Path | None = None) -> Path:
    """Where an artifact is installed; refuses names that would escape the store."""
    for part in (ecosystem, *name.split("/"), version):
        if not part or part in (".", "..") or "\\" in part or "\x00" in part:
            raise StoreError(f"refusing unsafe store path component {part!r} in {name}@{version}")
    if name.count("/") > 1 or (name.count("/") == 1 and not name.startswith("@")):
        raise StoreError(f"refusing package name {name!r}: only @scope/name may contain a slash")
    base = root or store_root()
    return base / ecosystem / name / f"{version}-{archive_sha256[:12]}"


# --- manifests -------------------------------------------------------------------------------


def hash_tree(root: Path) -> dict[str, str]:
    """``relative path -> "sha256:<hex>"`` for files, ``"symlink:<target>"`` for links.

    Symlinks are recorded by target, never followed: a link swapped to point elsewhere is a
    change. Empty directories carry no code and are not recorded.
    """
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for name in sorted(dirnames):
            full = here / name
            if full.is_symlink():
                out[full.relative_to(root).as_posix()] = "symlink:" + os.readlink(full)
        for name in filenames:
            full = here / name
            rel = full.relative_to(root).as_posix()
            if rel in _UNHASHED:
                continue
            if full.is_symlink():
                out[rel] = "symlink:" + os.readlink(full)
            elif full.is_file():
                out[rel] = "sha256:" + sha256_file(full)
            else:
                out[rel] = "special"
    return dict(sorted(out.items()))


def _manifest_digest(body: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(body).encode()).hexdigest()


def _write_manifest(entry: Path, body: dict[str, Any]) -> str:
    digest = _manifest_digest(body)
    atomic_write(
        entry / MANIFEST_NAME, json.dumps({**body, "digest": digest}, indent=2, sort_keys=True) + "\n"
    )
    return digest


def _read_manifest(entry: Path) -> dict[str, Any]:
    path = entry / MANIFEST_NAME
    if not entry.is_dir():
        raise StoreMissingError(f"store entry {entry} does not exist; run `distrust lock` again")
    try:
        doc = json.loads(read_text_capped(path))
    except ReadError as exc:
        raise StoreTamperedError(f"store entry {entry}: manifest unreadable ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise StoreTamperedError(f"store entry {entry}: manifest is not JSON (line {exc.lineno})") from None
    if (
        not isinstance(doc, dict)
        or doc.get("format") != MANIFEST_FORMAT
        or not isinstance(doc.get("files"), dict)
    ):
        raise StoreTamperedError(f"store entry {entry}: manifest has an unknown shape")
    return doc


def verify_store_entry(entry: Path, expected_digest: str | None = None) -> StoreEntry:
    """Recompute every file hash of ``entry`` and refuse it if anything changed.

    ``expected_digest`` is the digest the lock recorded; without it only the entry's own
    manifest is checked (which an attacker with write access could also rewrite). Raises
    :class:`StoreMissingError` or :class:`StoreTamperedError` naming what differs.
    """
    doc = _read_manifest(entry)
    recorded = str(doc.get("digest", ""))
    body = {k: v for k, v in doc.items() if k != "digest"}
    if _manifest_digest(body) != recorded:
        raise StoreTamperedError(f"store entry {entry}: manifest was edited (its digest no longer matches)")
    if expected_digest is not None and recorded != expected_digest:
        raise StoreTamperedError(
            f"store entry {entry}: manifest digest {recorded} is not the {expected_digest} the lock recorded"
        )
    actual = hash_tree(entry)
    wanted: dict[str, str] = {str(k): str(v) for k, v in doc["files"].items()}
    changed = sorted(k for k in wanted.keys() & actual.keys() if wanted[k] != actual[k])
    missing = sorted(wanted.keys() - actual.keys())
    added = sorted(actual.keys() - wanted.keys())
    if changed or missing or added:
        parts = []
        for label, items in (("changed", changed), ("missing", missing), ("added", added)):
            if items:
                shown = ", ".join(items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")
                parts.append(f"{label}: {shown}")
        raise StoreTamperedError(
            f"store entry {entry} was modified after it was verified ({'; '.join(parts)}); refusing to "
            "run it. Delete the directory and run `distrust lock` to reinstall from the verified archive"
        )
    raw_launch = doc.get("launch")
    launch: dict[str, Any] = raw_launch if isinstance(raw_launch, dict) else {}
    return StoreEntry(
        ecosystem=str(doc.get("ecosystem")),
        name=str(doc.get("name")),
        version=str(doc.get("version")),
        integrity=str(doc.get("integrity")),
        registry=str(doc.get("registry")),
        path=entry,
        command=str(launch.get("command", "")),
        args=tuple(str(a) for a in launch.get("args", [])),
        digest=recorded,
        files=len(actual),
    )


# --- installing ------------------------------------------------------------------------------


def install_artifact(
    artifact: FetchedArtifact,
    *,
    registry: str,
    bin_name: str | None = None,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> StoreEntry:
    """Install ``artifact`` (already verified by fetch) into the store, or reuse a verified entry.

    ``registry`` is the npm registry or PyPI index dependencies come from. ``bin_name`` picks
    one of several npm ``bin`` entries / console scripts (default: the one named like the
    package). ``env`` replaces ``os.environ`` for the installer.
    """
    if artifact.archive is None or artifact.archive_sha256 is None or artifact.ref.version is None:
        raise StoreError(f"{artifact.ref}: only registry artifacts with an archive can be stored")
    target = entry_dir(
        artifact.ref.ecosystem, artifact.ref.name, artifact.ref.version, artifact.archive_sha256, root
    )
    if target.exists():
        return verify_store_entry(target)
    if sha256_file(artifact.archive) != artifact.archive_sha256:
        raise StoreError(f"{artifact.ref}: cached archive {artifact.archive} changed since it was verified")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        if artifact.ref.ecosystem == Ecosystem.NPM:
            command, args = _install_npm(artifact, scratch, target, registry, bin_name, env)
        elif artifact.ref.ecosystem == Ecosystem.PYPI:
            command, args = _install_pypi(artifact, scratch, target, registry, bin_name, env)
        else:
            raise StoreError(f"{artifact.ref}: no store installer for ecosystem {artifact.ref.ecosystem!r}")
        body: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "ecosystem": artifact.ref.ecosystem,
            "name": artifact.ref.name,
            "version": artifact.ref.version,
            "integrity": artifact.integrity,
            "registry": registry,
            "archive_sha256": artifact.archive_sha256,
            "launch": {"command": command, "args": list(args)},
            "files": hash_tree(scratch),
        }
        _write_manifest(scratch, body)
        _make_read_only(scratch)
        os.replace(scratch, target)
    except BaseException:
        _remove_tree(scratch)
        raise
    return verify_store_entry(target)


def _run(cmd: list[str], cwd: Path, env: Mapping[str, str], what: str) -> None:
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise StoreError(f"{what}: {cmd[0]!r} is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise StoreError(f"{what}: {cmd[0]} did not finish within {INSTALL_TIMEOUT_S:.0f} s") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise StoreError(f"{what}: {Path(cmd[0]).name} exited with {proc.returncode}:\n{tail}")


def _install_npm(
    artifact: FetchedArtifact,
    scratch: Path,
    final: Path,
    registry: str,
    bin_name: str | None,
    env: Mapping[str, str] | None,
) -> tuple[str, tuple[str, ...]]:
    """``npm install`` of ``file:package.tgz`` (the verified bytes) with scripts disabled."""
    assert artifact.archive is not None
    name = artifact.ref.name
    shutil.copyfile(artifact.archive, scratch / NPM_TARBALL_NAME)
    manifest = {
        "name": "distrust-store-entry",
        "version": "0.0.0",
        "private": True,
        "description": f"distrust verified store entry for {name}@{artifact.ref.version}",
        "dependencies": {name: f"file:{NPM_TARBALL_NAME}"},
    }
    (scratch / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    run_env = dict(os.environ if env is None else env)
    run_env["npm_config_registry"] = registry
    run_env["npm_config_update_notifier"] = "false"
    _run(
        ["npm", "install", f"--registry={registry}", *NPM_INSTALL_FLAGS],
        scratch,
        run_env,
        f"installing {name}@{artifact.ref.version} into the store",
    )
    pkg_dir = scratch / "node_modules" / name
    bin_rel = _npm_bin(pkg_dir, name, bin_name)
    return "node", (str(final / "node_modules" / name / bin_rel),)


def _npm_bin(pkg_dir: Path, name: str, wanted: str | None) -> str:
    """The file a package's ``bin`` runs (what ``npx name`` would start), relative to the package."""
    try:
        meta = json.loads(read_text_capped(pkg_dir / "package.json"))
    except (ReadError, json.JSONDecodeError) as exc:
        raise StoreError(f"{name}: installed package.json unreadable: {exc}") from None
    raw = meta.get("bin") if isinstance(meta, dict) else None
    default = name.rsplit("/", 1)[-1]
    bins: dict[str, str] = {}
    if isinstance(raw, str):
        bins = {default: raw}
    elif isinstance(raw, dict):
        bins = {str(k): str(v) for k, v in raw.items() if isinstance(v, str)}
    if not bins:
        raise StoreError(f"{name}: package.json has no 'bin', so there is no program to run")
    if wanted is not None:
        chosen = bins.get(wanted)
        if chosen is None:
            raise StoreError(f"{name}: no bin named {wanted!r} (has: {', '.join(sorted(bins))})")
    elif len(bins) == 1:
        chosen = next(iter(bins.values()))
    elif default in bins:
        chosen = bins[default]
    else:
        raise StoreError(f"{name}: several bins ({', '.join(sorted(bins))}) and none named {default!r}")
    rel = PurePosixPath(chosen.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts:
        raise StoreError(f"{name}: bin path {chosen!r} leaves the package")
    target = pkg_dir / rel
    if not target.is_file():
        raise StoreError(f"{name}: bin {chosen!r} is not a file in the package")
    return rel.as_posix().removeprefix("./")


def _install_pypi(
    artifact: FetchedArtifact,
    scratch: Path,
    final: Path,
    index: str,
    script: str | None,
    env: Mapping[str, str] | None,
) -> tuple[str, tuple[str, ...]]:
    """A venv holding the verified wheel (hash-checked) and its dependencies (wheels only)."""
    assert artifact.archive is not None
    filename = PurePosixPath(unquote(urlsplit(artifact.source).path)).name
    if not filename.endswith(".whl"):
        raise StoreError(
            f"{artifact.ref}: only a wheel can be stored ({filename or artifact.source} is not one); "
            "installing an sdist would run its setup.py"
        )
    dist = scratch / "dist"
    dist.mkdir()
    wheel = dist / filename
    shutil.copyfile(artifact.archive, wheel)
    sha = artifact.archive_sha256
    requirement = f"{artifact.ref.name} @ {wheel.as_uri()} --hash=sha256:{sha}\n"
    (scratch / "requirements.txt").write_text(requirement, encoding="utf-8")
    venv = scratch / "venv"
    run_env = dict(os.environ if env is None else env)
    run_env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    run_env["PYTHONDONTWRITEBYTECODE"] = "1"
    what = f"installing {artifact.ref} into the store"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], scratch, run_env, what)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-input"]
    pip += ["--only-binary", ":all:", "--no-compile"]
    _run(
        [*pip, "--no-deps", "--require-hashes", "-r", str(scratch / "requirements.txt")],
        scratch,
        run_env,
        what,
    )
    entry_points, requires = _wheel_metadata(wheel)
    if requires:
        _run([*pip, "--index-url", f"{index.rstrip('/')}/simple", str(wheel)], scratch, run_env, what)
    scripts = {n: t for n, t in entry_points.items()}
    default = artifact.ref.name
    chosen = script or (next(iter(scripts)) if len(scripts) == 1 else default)
    if chosen not in scripts:
        listed = ", ".join(sorted(scripts)) or "none"
        raise StoreError(f"{artifact.ref}: no console script {chosen!r} (has: {listed})")
    # pip wrote the script with the scratch venv's path in its shebang; run it through the
    # final venv's interpreter instead, so moving the entry into place keeps it working.
    return str(final / "venv" / "bin" / "python"), (str(final / "venv" / "bin" / chosen),)


def _wheel_metadata(wheel: Path) -> tuple[dict[str, str], bool]:
    """(console scripts, has dependencies) read from the wheel's dist-info, without importing it."""
    scripts: dict[str, str] = {}
    requires = False
    try:
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                parts = info.filename.split("/")
                if len(parts) != 2 or not parts[0].endswith(".dist-info"):
                    continue
                if parts[1] == "entry_points.txt":
                    section = ""
                    for line in zf.read(info).decode("utf-8", "replace").splitlines():
                        line = line.strip()
                        if line.startswith("["):
                            section = line.strip("[]").strip()
                        elif section == "console_scripts" and "=" in line:
                            key, _, value = line.partition("=")
                            scripts[key.strip()] = value.strip()
                elif parts[1] == "METADATA":
                    text = zf.read(info).decode("utf-8", "replace")
                    requires = any(
                        line.startswith("Requires-Dist:") and "extra ==" not in line
                        for line in text.splitlines()
                    )
    except (zipfile.BadZipFile, OSError) as exc:
        raise StoreError(f"{wheel.name}: not a readable wheel ({exc})") from None
    return scripts, requires


def _make_read_only(root: Path) -> None:
    """Drop write bits on files so an accidental edit fails loudly (verification catches the rest)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            full = Path(dirpath) / name
            if full.is_symlink():
                continue
            mode = stat.S_IMODE(full.stat().st_mode)
            os.chmod(full, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _remove_tree(root: Path) -> None:
    """Only file write bits are dropped (directories stay writable), so a plain rmtree works."""
    if root.exists():
        shutil.rmtree(root)


def remove_store_entry(entry: Path) -> None:
    """Delete an entry (read-only files included), e.g. after ``verify`` found it tampered."""
    _remove_tree(entry)
