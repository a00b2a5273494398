"""Archive and registry-document builders shared by the fetch tests (own fixtures, built in memory)."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile

from fetch_server import FakeRegistry


def npm_tarball(files: dict[str, bytes], top: str = "package") -> bytes:
    """An npm-style .tgz built in memory: every file under one top directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sri(data: bytes, algorithm: str = "sha512") -> str:
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def publish_npm(
    reg: FakeRegistry,
    name: str,
    versions: dict[str, bytes],
    *,
    times: dict[str, str] | None = None,
    dist_override: dict[str, dict[str, object]] | None = None,
) -> dict[str, object]:
    """Serve a packument for ``name`` and the tarballs it points to; returns the packument."""
    encoded = name.replace("/", "%2f")
    base = name.rsplit("/", 1)[-1]
    doc_versions: dict[str, object] = {}
    for version, tarball in versions.items():
        tar_path = f"/{name}/-/{base}-{version}.tgz"
        reg.add_bytes(tar_path, tarball)
        dist: dict[str, object] = {
            "tarball": reg.url + tar_path,
            "integrity": sri(tarball),
            "shasum": hashlib.sha1(tarball).hexdigest(),
        }
        if dist_override and version in dist_override:
            dist = {**dist, **dist_override[version]}
            dist = {k: v for k, v in dist.items() if v is not None}
        doc_versions[version] = {"name": name, "version": version, "dist": dist}
    doc: dict[str, object] = {
        "name": name,
        "dist-tags": {"latest": list(versions)[-1]},
        "versions": doc_versions,
    }
    if times is not None:
        doc["time"] = times
    reg.add_json(f"/{encoded}", doc)
    return doc


def sdist(name: str, version: str, files: dict[str, bytes], mode: str = "w:gz") -> bytes:
    """A PyPI sdist built in memory, with its ``name-version/`` top directory and PKG-INFO."""
    buf = io.BytesIO()
    top = f"{name}-{version}"
    all_files = {"PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(), **files}
    with tarfile.open(fileobj=buf, mode=mode) as tar:  # type: ignore[call-overload]
        for rel, data in all_files.items():
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def publish_pypi(
    reg: FakeRegistry, name: str, version: str, files: list[tuple[str, str, bytes]]
) -> dict[str, object]:
    """Serve ``/pypi/{name}/{version}/json`` listing ``(filename, packagetype, bytes)`` files."""
    urls = []
    for filename, packagetype, data in files:
        path = f"/packages/{filename}"
        reg.add_bytes(path, data)
        urls.append(
            {
                "filename": filename,
                "packagetype": packagetype,
                "url": reg.url + path,
                "digests": {"sha256": hashlib.sha256(data).hexdigest(), "md5": hashlib.md5(data).hexdigest()},
                "size": len(data),
                "upload_time_iso_8601": "2024-01-01T00:00:00.000000Z",
                "yanked": False,
            }
        )
    doc: dict[str, object] = {"info": {"name": name, "version": version}, "urls": urls}
    reg.add_json(f"/pypi/{name}/{version}/json", doc)
    return doc
