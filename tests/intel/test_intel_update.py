"""Importing OSV data from files, directory trees, zip archives and URLs."""

from __future__ import annotations

import http.server
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from distrust.intel import AdvisoryStore, IntelError
from distrust.intel import update as update_module
from distrust.intel.update import import_advisories


def osv(record_id: str, name: str, version: str, modified: str = "2025-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "id": record_id,
        "modified": modified,
        "summary": f"Malicious code in {name} (npm)",
        "affected": [{"package": {"ecosystem": "npm", "name": name}, "versions": [version]}],
    }


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_single_file_list_and_api_answer(tmp_path: Path, data_dir: Path) -> None:
    one = write(tmp_path / "one.json", osv("MAL-1", "evil-one", "1.0.0"))
    many = write(
        tmp_path / "many.json", [osv("MAL-2", "evil-two", "1.0.0"), osv("MAL-3", "evil-three", "2.0.0")]
    )
    api = write(tmp_path / "api.json", {"vulns": [osv("MAL-4", "evil-four", "0.1.0")]})
    assert import_advisories(str(one), data_dir).added == 1
    assert import_advisories(str(many), data_dir).added == 2
    assert import_advisories(str(api), data_dir).added == 1
    store = AdvisoryStore.load(data_dir)
    assert [a.id for a in store.match("npm", "evil-three", "2.0.0")] == ["MAL-3"]
    assert [a.id for a in store.match("npm", "evil-four", "0.1.0")] == ["MAL-4"]


def test_malicious_packages_tree_with_dedup_by_modified(tmp_path: Path, data_dir: Path) -> None:
    root = tmp_path / "osv"
    write(root / "malicious/npm/evil-a/MAL-10.json", osv("MAL-10", "evil-a", "1.0.0"))
    write(root / "malicious/npm/@scope/evil-b/MAL-11.json", osv("MAL-11", "@scope/evil-b", "3.0.0"))
    # The same id twice: the newer copy must win, whichever is walked first.
    write(
        root / "malicious/npm/evil-a/copy/MAL-10.json",
        osv("MAL-10", "evil-a", "1.0.1", "2025-06-01T00:00:00Z"),
    )
    (root / "malicious/npm/evil-a/README.md").write_text("not json", encoding="utf-8")
    write(
        root / "withdrawn/npm/gone/MAL-12.json",
        osv("MAL-12", "gone", "1.0.0") | {"withdrawn": "2025-02-01T00:00:00Z"},
    )

    report = import_advisories(str(root), data_dir)
    assert (report.added, report.updated, report.unchanged, report.skipped) == (3, 0, 0, 1)
    assert "superseded by a newer copy of MAL-10" in report.reasons[0]
    store = AdvisoryStore.load(data_dir)
    assert store.match("npm", "evil-a", "1.0.0") == ()
    assert [a.id for a in store.match("npm", "evil-a", "1.0.1")] == ["MAL-10"]
    assert [a.id for a in store.match("npm", "@scope/evil-b", "3.0.0")] == ["MAL-11"]
    assert store.match("npm", "gone", "1.0.0") == ()

    again = import_advisories(str(root / "malicious/npm/evil-a/copy"), data_dir)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    older = import_advisories(str(root / "malicious/npm/evil-a/MAL-10.json"), data_dir)
    assert older.skipped == 1 and "older than the stored copy" in older.reasons[0]
    newer = write(tmp_path / "newer.json", osv("MAL-10", "evil-a", "1.0.2", "2026-01-01T00:00:00Z"))
    assert import_advisories(str(newer), data_dir).updated == 1
    assert [a.id for a in AdvisoryStore.load(data_dir).match("npm", "evil-a", "1.0.2")] == ["MAL-10"]


def make_zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def test_osv_all_zip(tmp_path: Path, data_dir: Path) -> None:
    archive = make_zip(
        tmp_path / "all.zip",
        {
            "MAL-20.json": json.dumps(osv("MAL-20", "zipped", "1.0.0")),
            "MAL-21.json": '{\n  "id": "MAL-21",\n  "modified": ,\n}',
            "notes.txt": "ignored",
            "GHSA-bad.json": json.dumps({"id": "GHSA-x", "summary": "no modified"}),
        },
    )
    report = import_advisories(str(archive), data_dir)
    assert (report.added, report.skipped) == (1, 2)
    bad_json = next(r for r in report.reasons if "MAL-21.json" in r)
    assert f"{archive}!MAL-21.json" in bad_json and "line 3" in bad_json
    assert any("field 'modified'" in r for r in report.reasons)
    assert [a.id for a in AdvisoryStore.load(data_dir).match("npm", "zipped", "1.0.0")] == ["MAL-20"]


def test_zip_member_caps(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(update_module, "MAX_RECORD_BYTES", 200)
    archive = make_zip(tmp_path / "bomb.zip", {"MAL-30.json": json.dumps(osv("MAL-30", "x" * 300, "1.0.0"))})
    report = import_advisories(str(archive), data_dir)
    assert report.skipped == 1 and "limit" in report.reasons[0]
    monkeypatch.setattr(update_module, "MAX_ZIP_MEMBERS", 1)
    two = make_zip(tmp_path / "two.zip", {"a.json": "{}", "b.json": "{}"})
    with pytest.raises(IntelError, match="more than the 1 limit"):
        import_advisories(str(two), data_dir)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file or directory"),
        (b"PK\x03\x04 this is not really a zip", "not a readable zip archive"),
    ],
)
def test_unreadable_inputs_raise_intel_error(
    tmp_path: Path, data_dir: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "input"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(IntelError, match=message) as info:
        import_advisories(str(path), data_dir)
    assert str(path) in str(info.value)


def test_bad_records_are_skipped_with_reasons(tmp_path: Path, data_dir: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "id": "MAL-40",\n  "modified": "2025-01-01T00:00:00Z",,\n}', encoding="utf-8")
    report = import_advisories(str(bad), data_dir)
    assert report.skipped == 1 and report.reasons[0].startswith(f"{bad}: bad JSON at line 3")
    unsafe = write(tmp_path / "unsafe.json", osv("../../etc/passwd", "x", "1.0.0"))
    assert "characters an OSV id never has" in import_advisories(str(unsafe), data_dir).reasons[0]
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"id": "\xff"}')
    assert "not UTF-8" in import_advisories(str(binary), data_dir).reasons[0]


class _Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def local_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_download(tmp_path: Path, data_dir: Path, local_server: str) -> None:
    archive = make_zip(
        tmp_path / "all.zip", {"MAL-50.json": json.dumps(osv("MAL-50", "downloaded", "1.0.0"))}
    )
    _Handler.files = {
        "/npm/all.zip": archive.read_bytes(),
        "/one.json": json.dumps(osv("MAL-51", "one", "1.0.0")).encode(),
    }
    report = import_advisories(f"{local_server}/npm/all.zip", data_dir)
    assert report.added == 1 and report.source.endswith("/npm/all.zip")
    assert import_advisories(f"{local_server}/one.json", data_dir).added == 1
    store = AdvisoryStore.load(data_dir)
    (hit,) = store.match("npm", "downloaded", "1.0.0")
    assert hit.source == f"{local_server}/npm/all.zip!MAL-50.json"
    with pytest.raises(IntelError, match="HTTP 404"):
        import_advisories(f"{local_server}/missing.zip", data_dir)
    with pytest.raises(IntelError, match="download failed"):
        import_advisories("http://127.0.0.1:9/unreachable.json", data_dir)


def test_many_records_import_and_load(tmp_path: Path, data_dir: Path) -> None:
    records = [osv(f"MAL-2025-{n}", f"pkg-{n}", "1.0.0") for n in range(2000)]
    report = import_advisories(str(write(tmp_path / "bulk.json", records)), data_dir)
    assert report.added == 2000
    store = AdvisoryStore.load(data_dir)
    assert len(store) == 2000 + 32
    assert [a.id for a in store.match("npm", "pkg-1999", "1.0.0")] == ["MAL-2025-1999"]
