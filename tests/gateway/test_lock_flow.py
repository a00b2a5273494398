"""The postmark-mcp story against a real registry (Verdaccio) and the real npm client.

A user's Cursor config runs ``npx -y postmark-mcp``. ``distrust lock`` pins 1.0.15 and installs
it into the verified store. Then the impostor publishes 1.0.16 (one added ``Bcc`` line):
the machine still runs 1.0.15 from the store, ``verify`` sees no drift, and ``update`` shows
the critical diff and changes nothing unless the user approves.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lock_fixtures import (
    POSTMARK,
    POSTMARK_SERVER,
    SECRET_TOKEN,
    Verdaccio,
    prepare_storage,
    running_verdaccio,
    verdaccio_available,
    write_cursor_config,
)

from distrust.analyze.results import DiffResult
from distrust.fetch.cache import sha256_file
from distrust.gateway.lock import (
    KIND_PACKAGE,
    KIND_REMOTE,
    KIND_UNLOCKABLE,
    Launch,
    LockedPackage,
    LockedServer,
    LockFile,
    default_lock_path,
    load_lock,
    write_lock,
)
from distrust.gateway.locking import (
    STATUS_KEPT,
    STATUS_LOCKED,
    STATUS_REFUSED,
    STATUS_REMOTE,
    STATUS_SKIPPED,
    UPDATE_DECLINED,
    UPDATE_UPDATED,
    LockResult,
    Machine,
    Sources,
    lock_servers,
    update_server,
    verify_machine,
)
from distrust.gateway.store import verify_store_entry
from distrust.model import Severity


@pytest.fixture(scope="session")
def seeded_storage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Verdaccio storage holding the stand-in deps and postmark-mcp 1.0.15, and a shared npm cache."""
    assert verdaccio_available(), (
        "Verdaccio is not installed: run `npm ci --ignore-scripts` in tests/tools/registry "
        "(scripts/test.sh does)"
    )
    root = tmp_path_factory.mktemp("verdaccio-seed")
    cache = root / "npm-cache"
    prepare_storage(root / "storage", root / "work", cache)
    return root / "storage", cache


@pytest.fixture()
def registry(
    seeded_storage: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Verdaccio]:
    storage, cache = seeded_storage
    mine = tmp_path / "registry-storage"
    shutil.copytree(storage, mine)
    with running_verdaccio(mine, tmp_path / "registry-work", cache) as reg:
        # The store's npm install reads the same user config: private cache, no real ~/.npmrc.
        monkeypatch.setenv("npm_config_userconfig", str(reg.npmrc))
        yield reg


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    write_cursor_config(home, {"postmark": POSTMARK_SERVER})
    return home


def _lock(home: Path, registry: Verdaccio | None, **kwargs: Any) -> LockResult:
    sources = Sources(npm_registry=registry.url if registry else None)
    return lock_servers(Machine(home), sources=sources, **kwargs)


def test_lock_verify_and_update_story(registry: Verdaccio, home: Path) -> None:
    machine = Machine(home)
    sources = Sources(npm_registry=registry.url)
    result = lock_servers(machine, sources=sources)
    [outcome] = result.outcomes
    assert outcome.status == STATUS_LOCKED, outcome.detail
    lock = load_lock(result.lock_path)
    entry = lock.server("postmark")
    assert entry is not None and entry.kind == KIND_PACKAGE and entry.package is not None
    assert entry.package.version == "1.0.15"
    packument = json.loads(urllib.request.urlopen(f"{registry.url}/postmark-mcp").read())
    assert entry.package.integrity == packument["versions"]["1.0.15"]["dist"]["integrity"]
    assert entry.package.integrity.startswith("sha512-")
    assert entry.package.registry == registry.url
    assert entry.package.spec == "latest"
    assert "registry's current latest, 1.0.15" in entry.notes[0]
    assert entry.clients == ("cursor",)
    assert entry.env_keys == ("DEFAULT_SENDER_EMAIL", "POSTMARK_SERVER_TOKEN")
    assert entry.profile is not None and entry.profile.level == "none"
    assert entry.profile.env_secrets == ("POSTMARK_SERVER_TOKEN",)
    assert entry.profile.email_recipients == ()

    # The launch command runs 1.0.15 from the store: node + the bin file, no npx, no fetch.
    assert entry.launch is not None and entry.store is not None
    assert entry.launch.command == "node"
    bin_file = Path(entry.launch.args[0])
    assert bin_file.is_relative_to(Path(entry.store.path))
    assert bin_file.read_bytes() == (POSTMARK / "1.0.15" / "index.js").read_bytes()
    stored = verify_store_entry(Path(entry.store.path), entry.store.digest)
    assert stored.version == "1.0.15"
    # npm installed the dependencies from the registry, and the manifest hashed them.
    store_dir = Path(entry.store.path)
    assert (store_dir / "node_modules" / "postmark" / "package.json").is_file()
    assert (store_dir / "node_modules" / "@modelcontextprotocol" / "sdk" / "package.json").is_file()
    npm_lock = json.loads((store_dir / "package-lock.json").read_text())
    assert npm_lock["packages"]["node_modules/zod"]["version"] == "3.25.76"
    assert npm_lock["packages"]["node_modules/zod"]["integrity"].startswith("sha512-")

    # The impostor publishes 1.0.16. Nothing on this machine moves.
    registry.publish(POSTMARK / "1.0.16")
    verify = verify_machine(machine)
    assert not verify.drifted, verify.drifts
    assert [d.kind for d in verify.drifts] == ["floating"]  # advice: wrap the config
    assert load_lock(result.lock_path).server("postmark") == entry
    lock_text = result.lock_path.read_text()

    # update, declined: the approver saw the critical Bcc diff; nothing changed.
    seen: list[DiffResult] = []

    def decline(diff: DiffResult) -> bool:
        seen.append(diff)
        return False

    declined = update_server("postmark", approve=decline, sources=sources)
    assert declined.status == UPDATE_DECLINED
    assert (declined.old_version, declined.new_version) == ("1.0.15", "1.0.16")
    [diff] = seen
    assert diff.assessment.level == Severity.CRITICAL
    rules = {f.rule_id for f in diff.assessment.findings}
    assert "DT-RISK-003" in rules  # the added hidden recipient
    assert "DT-SCAN-001" in rules  # MAL-2025-47604 names 1.0.16
    bcc = next(f for f in diff.assessment.findings if f.rule_id == "DT-RISK-003")
    assert "phan@giftshop.club" in bcc.title + bcc.detail
    assert result.lock_path.read_text() == lock_text
    assert not list((result.lock_path.parent / "distrust.lock.backups").glob("*"))

    # update, approved: the lock moves to 1.0.16 (backup of the old lock kept).
    approved = update_server("postmark", approve=lambda d: True, sources=sources)
    assert approved.status == UPDATE_UPDATED
    moved = load_lock(result.lock_path).server("postmark")
    assert moved is not None and moved.package is not None and moved.store is not None
    assert moved.package.version == "1.0.16"
    assert (
        moved.package.integrity
        == json.loads(urllib.request.urlopen(f"{registry.url}/postmark-mcp").read())["versions"]["1.0.16"][
            "dist"
        ]["integrity"]
    )
    assert moved.profile is not None and moved.profile.email_recipients == ("bcc=phan@giftshop.club",)
    assert moved.launch is not None and "1.0.16" in moved.launch.args[0]
    assert Path(moved.launch.args[0]).read_bytes() == (POSTMARK / "1.0.16" / "index.js").read_bytes()
    backups = list((result.lock_path.parent / "distrust.lock.backups").glob("distrust.lock.*"))
    assert len(backups) == 1 and backups[0].read_text() == lock_text
    # the 1.0.15 entry is still intact in the store, holding the exact bytes the registry served
    verify_store_entry(Path(entry.store.path), entry.store.digest)
    tgz = urllib.request.urlopen(f"{registry.url}/postmark-mcp/-/postmark-mcp-1.0.15.tgz").read()
    assert sha256_file(Path(entry.store.path) / "package.tgz") == hashlib.sha256(tgz).hexdigest()


def test_relock_is_byte_identical_never_upgrades_and_keeps_env_values_out(
    registry: Verdaccio, home: Path
) -> None:
    first = _lock(home, registry)
    text = first.lock_path.read_bytes()
    second = _lock(home, registry)
    assert second.lock_path.read_bytes() == text
    assert second.written is False
    assert not (first.lock_path.parent / "distrust.lock.backups").exists()
    assert SECRET_TOKEN.encode() not in text
    assert b"me@example.com" not in text
    assert b"POSTMARK_SERVER_TOKEN" in text
    assert text.startswith(b"# distrust.lock")
    assert b"distrust update" in text.split(b"lock_version")[0]
    # a new release does not move a locked server: only `update` does, with a diff
    registry.publish(POSTMARK / "1.0.16")
    third = _lock(home, registry)
    [outcome] = third.outcomes
    assert outcome.status == STATUS_LOCKED
    assert "kept the locked version 1.0.15" in outcome.detail
    assert third.lock_path.read_bytes() == text


def test_refusals_known_advisory_always_high_risk_unless_forced(
    registry: Verdaccio, home: Path, tmp_path: Path
) -> None:
    registry.publish(POSTMARK / "1.0.16")  # latest is now the malicious one
    result = _lock(home, registry, force=True)
    [outcome] = result.outcomes
    assert outcome.status == STATUS_REFUSED
    assert "MAL-2025-47604" in outcome.detail
    assert "MAL-2025-47604" in outcome.advisories
    assert load_lock(result.lock_path).servers == ()

    # The same Bcc code under a name no advisory knows: the Risk Engine alone must refuse it.
    impostor = tmp_path / "mail-helper-mcp"
    shutil.copytree(POSTMARK / "1.0.16", impostor)
    meta = json.loads((impostor / "package.json").read_text())
    meta.update(name="mail-helper-mcp", version="2.0.0", bin={"mail-helper-mcp": "index.js"})
    (impostor / "package.json").write_text(json.dumps(meta))
    registry.publish(impostor)
    other = tmp_path / "other-home"
    write_cursor_config(other, {"mail": {"command": "npx", "args": ["-y", "mail-helper-mcp@2.0.0"]}})
    refused = _lock(other, registry)
    [outcome] = refused.outcomes
    assert outcome.status == STATUS_REFUSED
    assert "critical" in outcome.detail and "DT-RISK-001" in outcome.detail
    assert any(f.rule_id == "DT-RISK-001" for f in outcome.findings)
    forced = _lock(other, registry, force=True)
    [outcome] = forced.outcomes
    assert outcome.status == STATUS_LOCKED
    entry = load_lock(forced.lock_path).server("mail")
    assert entry is not None and entry.package is not None and entry.package.spec is None
    assert entry.notes == ("the config pins 2.0.0",)
    assert entry.profile is not None and entry.profile.level == "critical"


def test_remote_docker_and_local_servers_need_no_registry(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_cursor_config(
        home,
        {
            "remote": {"url": "https://mcp.example.com/mcp?token=abc123secret"},
            "box": {"command": "docker", "args": ["run", "-i", "--rm", "ghcr.io/example/mcp:latest"]},
            "script": {"command": "/usr/local/bin/some-mcp-binary"},
        },
    )
    result = _lock(home, None)
    statuses = {o.name: o.status for o in result.outcomes}
    assert statuses == {"box": STATUS_SKIPPED, "remote": STATUS_REMOTE, "script": STATUS_SKIPPED}
    lock = load_lock(result.lock_path)
    remote = lock.server("remote")
    assert remote is not None and remote.kind == KIND_REMOTE and remote.launch is not None
    assert remote.launch.url == "https://mcp.example.com/mcp"
    assert remote.egress_allow == ("mcp.example.com",)
    box = lock.server("box")
    assert box is not None and box.kind == KIND_UNLOCKABLE and box.reason and "docker" in box.reason
    assert "abc123secret" not in result.lock_path.read_text()
    verify = verify_machine(Machine(home))
    assert not verify.drifted
    assert sorted((d.server, d.kind) for d in verify.drifts) == [
        ("box", "unlockable"),
        ("script", "unlockable"),
    ]


def test_verify_reports_drift(registry: Verdaccio, home: Path) -> None:
    result = _lock(home, registry)
    entry = load_lock(result.lock_path).server("postmark")
    assert entry is not None and entry.store is not None
    # config now pins another version, passes another env var, and a new server appears
    write_cursor_config(
        home,
        {
            "postmark": {
                "command": "npx",
                "args": ["-y", "postmark-mcp@1.0.16"],
                "env": {"POSTMARK_SERVER_TOKEN": SECRET_TOKEN, "POSTMARK_BCC": "value-that-must-not-leak"},
            },
            "newcomer": {"command": "npx", "args": ["-y", "other-mcp@1.0.0"]},
        },
    )
    # and the store entry was tampered with
    index = Path(entry.store.path) / "node_modules" / "postmark-mcp" / "index.js"
    index.chmod(0o644)
    index.write_text(index.read_text() + "\n// injected\n")
    verify = verify_machine(Machine(home))
    kinds = {(d.server, d.kind) for d in verify.drifts}
    assert verify.drifted
    assert ("postmark", "version-changed") in kinds
    assert ("postmark", "env-keys-changed") in kinds
    assert ("postmark", "store-tampered") in kinds
    assert ("newcomer", "not-locked") in kinds
    tampered = next(d for d in verify.drifts if d.kind == "store-tampered")
    assert "node_modules/postmark-mcp/index.js" in tampered.detail
    env = next(d for d in verify.drifts if d.kind == "env-keys-changed")
    assert "added POSTMARK_BCC" in env.detail and "removed DEFAULT_SENDER_EMAIL" in env.detail
    every_detail = " ".join(d.detail for d in verify.drifts)
    assert "value-that-must-not-leak" not in every_detail and SECRET_TOKEN not in every_detail
    # a version edited by hand in the lock no longer matches its store entry
    text = result.lock_path.read_text()
    result.lock_path.write_text(text.replace('version = "1.0.15"', 'version = "1.0.14"'))
    edited = verify_machine(Machine(home), check_store=True)
    assert ("postmark", "lock-mismatch") not in {(d.server, d.kind) for d in edited.drifts}  # tampered first
    index.write_text(index.read_text().removesuffix("\n// injected\n"))
    edited = verify_machine(Machine(home))
    assert ("postmark", "lock-mismatch") in {(d.server, d.kind) for d in edited.drifts}
    assert ("postmark", "store-tampered") not in {(d.server, d.kind) for d in edited.drifts}
    # a server removed from every config is reported too
    write_cursor_config(home, {})
    gone = verify_machine(Machine(home), check_store=False)
    assert [(d.server, d.kind) for d in gone.drifts] == [("postmark", "not-configured")]


def test_wrapped_configs_run_their_lock_entry(tmp_path: Path) -> None:
    """After `distrust wrap`, configs start `distrust run --server NAME`: lock keeps, verify maps."""
    lock_path = default_lock_path()
    entry = LockedServer(
        name="postmark",
        kind=KIND_PACKAGE,
        clients=("cursor",),
        configs=("/x",),
        config_name="postmark",
        env_keys=("POSTMARK_SERVER_TOKEN",),
        package=LockedPackage("npm", "postmark-mcp", "1.0.15", "sha512-x", "http://r.invalid"),
        launch=Launch("stdio", "node", ("/store/index.js",)),
    )
    write_lock(LockFile((entry,)), lock_path)
    home = tmp_path / "home"
    wrapped = {
        "command": "/opt/distrust/bin/distrust",
        "args": ["run", "--server", "postmark"],
        "env": {"POSTMARK_SERVER_TOKEN": SECRET_TOKEN},
    }
    write_cursor_config(home, {"postmark": wrapped})
    before = lock_path.read_bytes()
    result = _lock(home, None)
    assert [(o.name, o.status) for o in result.outcomes] == [("postmark", STATUS_KEPT)]
    assert lock_path.read_bytes() == before
    assert verify_machine(Machine(home)).drifts == ()
    write_cursor_config(home, {"postmark": {**wrapped, "args": ["run", "--server", "gone"]}})
    kinds = [(d.server, d.kind) for d in verify_machine(Machine(home)).drifts]
    assert ("gone", "not-locked") in kinds and ("postmark", "not-configured") in kinds
