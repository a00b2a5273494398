"""Hand-built registry documents shaped like the real ones (npm packument, PyPI JSON API).

Only the fields the metadata rules read are filled in, with the same types and nesting the
registries serve: ``versions[v]._npmUser``, ``versions[v].dist.attestations``, ``time[v]``,
``maintainers``; PyPI ``info``, ``releases[v][*].upload_time_iso_8601`` / ``yanked`` and
``ownership``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def npm_packument(
    name: str,
    releases: Sequence[tuple[str, int, str]],
    *,
    repository: str | None = None,
    homepage: str | None = None,
    author: object = None,
    attested: Iterable[str] = (),
    deprecated: Mapping[str, str] | None = None,
    emails: Mapping[str, str] | None = None,
    maintainers_of: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """A packument: ``releases`` are (version, days after START, publishing account)."""
    attested = set(attested)
    emails = dict(emails or {})
    deprecated = dict(deprecated or {})
    maintainers_of = dict(maintainers_of or {})

    def person(account: str) -> dict[str, str]:
        return {"name": account, "email": emails.get(account, f"{account}@example.org")}

    versions: dict[str, Any] = {}
    time: dict[str, str] = {}
    for version, day, publisher in releases:
        doc: dict[str, Any] = {
            "name": name,
            "version": version,
            "description": f"{name} test fixture",
            "_id": f"{name}@{version}",
            "_npmUser": person(publisher),
            "maintainers": [person(m) for m in maintainers_of.get(version, [publisher])],
            "dist": {
                "integrity": "sha512-AAAA",
                "shasum": "0" * 40,
                "tarball": f"https://registry.npmjs.org/{name}/-/{name.split('/')[-1]}-{version}.tgz",
            },
        }
        if version in attested:
            doc["dist"]["attestations"] = {
                "url": f"https://registry.npmjs.org/-/npm/v1/attestations/{name}@{version}",
                "provenance": {"predicateType": "https://slsa.dev/provenance/v1"},
            }
        if repository is not None:
            doc["repository"] = {"type": "git", "url": repository}
        if homepage is not None:
            doc["homepage"] = homepage
        if author is not None:
            doc["author"] = author
        if version in deprecated:
            doc["deprecated"] = deprecated[version]
        versions[version] = doc
        time[version] = _iso(START + timedelta(days=day))
    time["created"] = _iso(START + timedelta(days=min(d for _, d, _ in releases)))
    time["modified"] = _iso(START + timedelta(days=max(d for _, d, _ in releases)))
    last_publisher = releases[-1][2]
    packument: dict[str, Any] = {
        "_id": name,
        "name": name,
        "dist-tags": {"latest": releases[-1][0]},
        "versions": versions,
        "time": time,
        "maintainers": [person(last_publisher)],
        "readme": "",
    }
    if repository is not None:
        packument["repository"] = {"type": "git", "url": repository}
    return packument


def postmark_mcp_like(
    repository: str = "git+https://github.com/ActiveCampaign/postmark-mcp.git",
) -> dict[str, Any]:
    """Like the impostor: 1.0.0-1.0.16 over four months, all published by phanpak."""
    releases = [(f"1.0.{i}", i * 7, "phanpak") for i in range(17)]
    return npm_packument(
        "postmark-mcp",
        releases,
        repository=repository,
        homepage="https://github.com/ActiveCampaign/postmark-mcp#readme",
        author="phanpak",
        emails={"phanpak": "phan@giftshop.club"},
    )


def pypi_document(
    name: str,
    releases: Sequence[tuple[str, int]],
    *,
    project_urls: Mapping[str, str] | None = None,
    roles: Sequence[tuple[str, str]] = (("Owner", "someone"),),
    organization: str | None = None,
    author: str | None = None,
    author_email: str | None = None,
    yanked: Mapping[str, str | None] | None = None,
    classifiers: Sequence[str] = (),
) -> dict[str, Any]:
    """A PyPI JSON API document: ``releases`` are (version, days after START)."""
    yanked = dict(yanked or {})
    files: dict[str, Any] = {}
    for version, day in releases:
        when = START + timedelta(days=day)
        files[version] = [
            {
                "filename": f"{name.replace('-', '_')}-{version}-py3-none-any.whl",
                "packagetype": "bdist_wheel",
                "upload_time": when.strftime("%Y-%m-%dT%H:%M:%S"),
                "upload_time_iso_8601": when.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                "yanked": version in yanked,
                "yanked_reason": yanked.get(version),
                "digests": {"sha256": "0" * 64},
            }
        ]
    return {
        "info": {
            "name": name,
            "version": releases[-1][0],
            "summary": f"{name} test fixture",
            "author": author,
            "author_email": author_email,
            "maintainer": None,
            "maintainer_email": None,
            "home_page": None,
            "project_urls": dict(project_urls or {}),
            "classifiers": list(classifiers),
            "yanked": False,
        },
        "releases": files,
        "urls": files[releases[-1][0]],
        "vulnerabilities": [],
        "ownership": {"organization": organization, "roles": [{"role": r, "user": u} for r, u in roles]},
    }
