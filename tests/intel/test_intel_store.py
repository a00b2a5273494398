"""The bundled snapshot matches exactly the versions its sources name, and the store merges imports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from distrust.intel import AdvisoryStore
from distrust.intel.npm_semver import parse
from distrust.intel.store import BUNDLED_DIR, BUNDLED_SOURCE
from distrust.intel.update import import_advisories

BUNDLED = sorted(BUNDLED_DIR.glob("*.json"))


def _raw(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def store() -> AdvisoryStore:
    return AdvisoryStore.load(Path("/nonexistent-distrust-data-dir"))


def test_snapshot_loads_completely(store: AdvisoryStore) -> None:
    assert store.notices == ()
    assert len(store) == len(BUNDLED) == 32


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_record_is_sourced_and_named_after_its_id(path: Path) -> None:
    data = _raw(path)
    assert path.stem == data["id"]
    assert re.match(r"https://github\.com/", data["database_specific"]["source"])
    if data["id"].startswith("MAL-"):
        name = data["affected"][0]["package"]["name"]
        assert data["database_specific"]["source"].endswith(f"/osv/malicious/npm/{name}/{data['id']}.json")


def _neighbours(version: str) -> list[str]:
    v = parse(version)
    below = [f"{v.major}.{v.minor}.{v.patch - 1}"] if v.patch else []
    return [*below, f"{v.major}.{v.minor}.{v.patch + 1}", f"{v.major}.{v.minor + 1}.0"]


@pytest.mark.parametrize(
    "path", [p for p in BUNDLED if "versions" in _raw(p)["affected"][0]], ids=lambda p: p.stem
)
def test_listed_versions_match_and_their_neighbours_do_not(store: AdvisoryStore, path: Path) -> None:
    data = _raw(path)
    affected = data["affected"][0]
    name, versions = affected["package"]["name"], affected["versions"]
    for version in versions:
        assert [a.id for a in store.match("npm", name, version)] == [data["id"]], version
    for version in {n for v in versions for n in _neighbours(v)} - set(versions):
        assert store.match("npm", name, version) == (), version


@pytest.mark.parametrize(
    ("name", "clean", "affected", "advisory"),
    [
        (
            "postmark-mcp",
            ["1.0.0", "1.0.15", "1.0.16-beta.1"],
            ["1.0.16", "1.0.17", "2.0.0"],
            "MAL-2025-47604",
        ),
        ("chalk", ["5.6.0", "5.6.2", "4.1.2"], ["5.6.1"], "MAL-2025-46969"),
        ("mcp-remote", ["0.0.4", "0.1.16", "0.1.17"], ["0.0.5", "0.1.15"], "GHSA-6xpm-ggf7-wc3p"),
        ("chalk-template", ["1.1.0", "1.1.2"], ["1.1.1"], "MAL-2025-46970"),
        ("@ctrl/tinycolor", ["4.1.0", "4.1.3"], ["4.1.1", "4.1.2"], "MAL-2025-47141"),
        ("debug", ["4.4.1", "4.4.3"], ["4.4.2"], "MAL-2025-46974"),
        ("@duckdb/duckdb-wasm", ["1.29.1", "1.30.0"], ["1.29.2"], "MAL-2025-46991"),
        ("nx", ["21.4.1", "20.8.2", "21.9.0"], ["20.9.0", "21.8.0"], "MAL-2025-41443"),
    ],
)
def test_known_incidents(
    store: AdvisoryStore, name: str, clean: list[str], affected: list[str], advisory: str
) -> None:
    for version in clean:
        assert store.match("npm", name, version) == (), version
    for version in affected:
        assert [a.id for a in store.match("npm", name, version)] == [advisory], version


def test_advisory_fields(store: AdvisoryStore) -> None:
    (postmark,) = store.match("npm", "postmark-mcp", "1.0.16")
    assert postmark.malicious and postmark.source == BUNDLED_SOURCE and postmark.severity is None
    (remote,) = store.match("npm", "mcp-remote", "0.1.0")
    assert not remote.malicious and remote.severity == "critical" and remote.aliases == ("CVE-2025-6514",)
    (chalk,) = store.match("npm", "chalk", "5.6.1")
    assert chalk.aliases == ("GHSA-2v46-p5h4-248w",)


def test_history_and_iocs(store: AdvisoryStore) -> None:
    assert [a.id for a in store.advisories_for("npm", "postmark-mcp")] == ["MAL-2025-47604"]
    assert store.advisories_for("npm", "left-pad") == ()
    iocs = {(i.value, i.kind) for i in store.iocs() if i.advisory_id == "MAL-2025-47604"}
    assert iocs == {("phan@giftshop.club", "email"), ("giftshop.club", "domain"), ("phanpak", "account")}
    assert ("npmjs.help", "domain") in {
        (i.value, i.kind) for i in store.iocs() if i.advisory_id == "MAL-2025-46974"
    }


def test_unparseable_version_is_a_notice_not_a_match(store: AdvisoryStore) -> None:
    result = store.check("npm", "postmark-mcp", "latest")
    assert result.advisories == ()
    assert "'latest'" in result.notices[0].message and result.notices[0].file is not None


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_imports_merge_with_and_override_the_snapshot(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bundled = _raw(BUNDLED_DIR / "MAL-2025-47604.json")
    feed = tmp_path / "feed"
    feed.mkdir()
    newer = dict(bundled, modified="2030-01-01T00:00:00Z")
    newer["affected"] = [
        {
            "package": {"ecosystem": "npm", "name": "postmark-mcp"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.16"}, {"fixed": "1.0.18"}]}],
        }
    ]
    _write(feed / "MAL-2025-47604.json", newer)
    _write(
        feed / "PYSEC-1.json",
        {
            "id": "PYSEC-1",
            "modified": "2025-01-01T00:00:00Z",
            "summary": "demo",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "Mcp_Server.Demo"}, "versions": ["1.0"]}],
            "database_specific": {"iocs": {"domains": ["exfil.test"]}},
        },
    )
    report = import_advisories(str(feed), data_dir)
    assert (report.added, report.skipped) == (2, 0)

    store = AdvisoryStore.load(data_dir)
    assert len(store) == 33
    assert store.match("npm", "postmark-mcp", "1.0.18") == ()  # the newer copy wins
    (hit,) = store.match("npm", "postmark-mcp", "1.0.17")
    assert hit.source.endswith("MAL-2025-47604.json") and hit.modified == "2030-01-01T00:00:00Z"
    assert [a.id for a in store.match("PyPI", "mcp-server-demo", "1.0.0")] == ["PYSEC-1"]
    assert ("exfil.test", "domain", "PYSEC-1") in {(i.value, i.kind, i.advisory_id) for i in store.iocs()}

    withdrawn = dict(newer, modified="2031-01-01T00:00:00Z", withdrawn="2031-01-01T00:00:00Z")
    _write(feed / "MAL-2025-47604.json", withdrawn)
    assert import_advisories(str(feed / "MAL-2025-47604.json"), data_dir).updated == 1
    store = AdvisoryStore.load(data_dir)
    assert store.match("npm", "postmark-mcp", "1.0.16") == ()
    assert store.advisories_for("npm", "postmark-mcp") == ()
    assert "phanpak" not in {i.value for i in store.iocs()}
    assert len(store) == 32


def test_older_import_does_not_displace_the_snapshot(tmp_path: Path) -> None:
    bundled = _raw(BUNDLED_DIR / "MAL-2025-46969.json")
    older = dict(
        bundled,
        modified="2020-01-01T00:00:00Z",
        affected=[{"package": {"ecosystem": "npm", "name": "chalk"}, "versions": ["9.9.9"]}],
    )
    report = import_advisories(str(_write(tmp_path / "chalk.json", older)), tmp_path / "data")
    assert report.added == 1
    store = AdvisoryStore.load(tmp_path / "data")
    assert [a.source for a in store.match("npm", "chalk", "5.6.1")] == [BUNDLED_SOURCE]
    assert store.match("npm", "chalk", "9.9.9") == ()
    assert len(store) == 32


def test_corrupt_database_is_a_notice(tmp_path: Path) -> None:
    db = tmp_path / "data" / "intel" / "advisories.sqlite3"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not sqlite" * 100)
    store = AdvisoryStore.load(tmp_path / "data")
    assert [a.id for a in store.match("npm", "chalk", "5.6.1")] == ["MAL-2025-46969"]
    assert any("unreadable" in n.message for n in store.notices)
