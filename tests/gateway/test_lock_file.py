"""distrust.lock as a file: stable text, round trips, clear errors for hand edits, surfaces in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distrust.gateway.lock import (
    KIND_PACKAGE,
    KIND_REMOTE,
    KIND_UNLOCKABLE,
    Launch,
    LockedPackage,
    LockedServer,
    LockError,
    LockFile,
    LockMissingError,
    LockSurfaceStore,
    ProfileSummary,
    StoreRef,
    UnknownServerError,
    approve_server,
    default_lock_path,
    load_lock,
    parse_lock,
    render_lock,
    write_lock,
)
from distrust.gateway.locking import name_servers, package_args
from distrust.gateway.surface import Surface, ToolDef
from distrust.model import Ecosystem, PackageRef, ResolvedServer, ServerSpec

SEND = ToolDef.from_mcp(
    {
        "name": "sendEmail",
        "description": 'Send a single email through Postmark.\nLine two — ünïcode "quoted"',
        "inputSchema": {"type": "object", "properties": {"to": {"type": "string"}}},
        "annotations": {"destructiveHint": True},
    }
)
LIST = ToolDef.from_mcp({"name": "listTemplates", "description": "List templates", "title": "Templates"})


def package_entry(name: str = "postmark", **changes: object) -> LockedServer:
    entry = LockedServer(
        name=name,
        kind=KIND_PACKAGE,
        clients=("cursor", "claude-code"),
        configs=("/home/u/.cursor/mcp.json", "/home/u/.claude.json"),
        config_name=name,
        env_keys=("POSTMARK_SERVER_TOKEN", "DEFAULT_SENDER_EMAIL"),
        notes=("the config pins 1.0.15",),
        package=LockedPackage(Ecosystem.NPM, "postmark-mcp", "1.0.15", "sha512-abc==", "https://r.example"),
        store=StoreRef("/data/store/npm/postmark-mcp/1.0.15-0123456789ab", "sha256:00"),
        launch=Launch("stdio", "node", ("/data/store/x/index.js", "--flag")),
        profile=ProfileSummary("sha256:11", "none", 0, env_secrets=("POSTMARK_SERVER_TOKEN",)),
        egress_allow=("api.postmarkapp.com",),
    )
    return LockedServer(**{**entry.__dict__, **changes})  # type: ignore[arg-type]


def test_round_trip_and_stable_order(tmp_path: Path) -> None:
    remote = LockedServer(
        name="a-remote", kind=KIND_REMOTE, launch=Launch("http", url="https://mcp.example.com/mcp")
    )
    box = LockedServer(name="box", kind=KIND_UNLOCKABLE, config_name="box", reason="docker image: not locked")
    surfaced = package_entry(
        tools=Surface("Use me to send mail.", (LIST, SEND)), proposed_tools=Surface(None, ())
    )
    lock = LockFile((surfaced, box, remote))  # deliberately unsorted
    text = render_lock(lock)
    assert text.index("[servers.a-remote]") < text.index("[servers.box]") < text.index("[servers.postmark]")
    # lists whose order means nothing are sorted; launch args keep their order
    assert (
        'clients = [\n    "claude-code",\n    "cursor",\n]' in text
        or 'clients = [ "claude-code", "cursor" ]' in text
    )
    assert text.index('"/data/store/x/index.js"') < text.index('"--flag"')
    parsed = parse_lock(text, tmp_path / "distrust.lock")
    assert render_lock(parsed) == text
    back = parsed.server("postmark")
    assert back is not None and back.tools is not None
    assert back.tools.digest() == Surface("Use me to send mail.", (LIST, SEND)).digest()
    assert back.proposed_tools == Surface(None, ())
    assert parsed.server("box") == box
    assert text.startswith("# distrust.lock")


def test_write_backs_up_and_skips_identical(tmp_path: Path) -> None:
    path = tmp_path / "distrust.lock"
    assert write_lock(LockFile((package_entry(),)), path) is True
    assert write_lock(LockFile((package_entry(),)), path) is False  # same text: untouched, no backup
    assert not (tmp_path / "distrust.lock.backups").exists()
    old = path.read_text()
    assert write_lock(LockFile((package_entry(egress_allow=()),)), path) is True
    [backup] = (tmp_path / "distrust.lock.backups").iterdir()
    assert backup.read_text() == old


def test_default_path_follows_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISTRUST_CONFIG_DIR", str(tmp_path / "cfg"))
    assert default_lock_path() == tmp_path / "cfg" / "distrust.lock"
    with pytest.raises(LockMissingError, match="distrust lock"):
        load_lock()


def _broken(tmp_path: Path, old: str, new: str) -> LockError:
    path = tmp_path / "distrust.lock"
    text = render_lock(LockFile((package_entry(),)))
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(LockError) as info:
        load_lock(path)
    return info.value


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "field", "needle", "reason"),
    [
        ('version = "1.0.15"', "version = 15", "servers.postmark.package.version", "version = 15", "string"),
        ("score = 0", 'score = "zero"', "servers.postmark.profile.score", 'score = "zero"', "integer"),
        ("allow = [", "allowed = [", "servers.postmark.egress.allowed", "allowed = [", "unknown key"),
        ('kind = "package"', 'kind = "pkg"', "servers.postmark.kind", 'kind = "pkg"', "expected one of"),
        (
            'integrity = "sha512-abc=="',
            "",
            "servers.postmark.package.integrity",
            "[servers.postmark.package]",
            "missing",
        ),
    ],
)
def test_hand_edit_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, field: str, needle: str, reason: str
) -> None:
    err = _broken(tmp_path, old, new)
    path = tmp_path / "distrust.lock"
    assert err.field == field
    assert err.line == _line_of(path, needle)
    assert str(err).startswith(f"{path}:{err.line} [{field}]")
    assert reason in str(err)


def test_invalid_toml_names_line(tmp_path: Path) -> None:
    err = _broken(tmp_path, 'name = "postmark-mcp"', 'name = "postmark-mcp')
    assert err.line == _line_of(tmp_path / "distrust.lock", 'name = "postmark-mcp')
    assert "not valid TOML" in str(err) and re.match(
        rf"{re.escape(str(tmp_path))}/distrust.lock:\d+", str(err)
    )


def test_other_lock_versions_and_foreign_files(tmp_path: Path) -> None:
    err = _broken(tmp_path, "lock_version = 1", "lock_version = 2")
    assert err.field == "lock_version" and "upgrade distrust" in str(err)
    path = tmp_path / "x.lock"
    path.write_text('[tool.poetry]\nname = "x"\n')
    with pytest.raises(LockError, match="does not look like a distrust lock"):
        load_lock(path)
    path.write_bytes(b"\xff\xfe not text")
    with pytest.raises(LockError, match="UTF-8"):
        load_lock(path)


def test_surface_store_pin_propose_approve(tmp_path: Path) -> None:
    path = tmp_path / "distrust.lock"
    write_lock(LockFile((package_entry(),)), path)
    store = LockSurfaceStore(path)
    assert store.pinned("postmark") is None and store.proposed("postmark") is None
    first = Surface("hello", (SEND,))
    store.pin("postmark", first)
    assert store.pinned("postmark") == first
    changed = Surface("hello", (LIST, SEND))
    store.propose("postmark", changed)
    assert store.pinned("postmark") == first and store.proposed("postmark") == changed
    # the proposal is in the file for a reviewer to read
    assert "listTemplates" in path.read_text().split("[servers.postmark.proposed_tools]")[1]
    assert approve_server("postmark", path) == changed
    assert store.pinned("postmark") == changed and store.proposed("postmark") is None
    with pytest.raises(LockError, match="no changed tools"):
        approve_server("postmark", path)
    with pytest.raises(UnknownServerError, match="nobody"):
        store.pin("nobody", first)
    backups = list((tmp_path / "distrust.lock.backups").iterdir())
    assert len(backups) == 3  # pin, propose, approve: each write kept the previous file


def test_pinning_the_proposed_surface_clears_the_proposal(tmp_path: Path) -> None:
    path = tmp_path / "distrust.lock"
    write_lock(LockFile((package_entry(proposed_tools=Surface("x", (SEND,))),)), path)
    store = LockSurfaceStore(path)
    store.pin("postmark", Surface("x", (SEND,)))
    assert store.proposed("postmark") is None


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    instructions=st.none() | _text,
    tools=st.lists(
        st.tuples(_text.filter(bool), _text, st.none() | _text), max_size=4, unique_by=lambda t: t[0]
    ),
    allow=st.lists(_text, max_size=4),
)
def test_any_surface_round_trips(
    instructions: str | None, tools: list[tuple[str, str, str | None]], allow: list[str]
) -> None:
    surface = Surface(
        instructions, tuple(sorted((ToolDef(n, d, title=t) for n, d, t in tools), key=lambda x: x.name))
    )
    lock = LockFile((package_entry(tools=surface, egress_allow=tuple(allow)),))
    text = render_lock(lock)
    parsed = parse_lock(text, Path("distrust.lock"))
    entry = parsed.server("postmark")
    assert entry is not None and entry.tools is not None
    assert entry.tools.digest() == surface.digest()
    assert entry.egress_allow == tuple(sorted(set(allow)))
    assert render_lock(parsed) == text


def _resolved(client: str, name: str, package: str | None, args: tuple[str, ...] = ()) -> ResolvedServer:
    spec = ServerSpec(client, Path(f"/h/{client}.json"), name, "stdio", "npx", args)
    ref = PackageRef(Ecosystem.NPM, package, spec="latest") if package else None
    return ResolvedServer(spec, ref)


def test_names_disambiguate_only_when_clients_disagree() -> None:
    servers = [
        _resolved("cursor", "mail", "postmark-mcp"),
        _resolved("claude-code", "mail", "postmark-mcp"),
        _resolved("cursor", "files", "files-mcp"),
        _resolved("claude-code", "files", "other-files-mcp"),
        _resolved("claude-code", "files", "third-files-mcp"),
    ]
    named = dict(name_servers(servers))
    assert sorted(named) == ["claude-code/files", "claude-code/files#2", "cursor/files", "mail"]
    assert {s.spec.client for s in named["mail"]} == {"cursor", "claude-code"}


def test_package_args_are_what_follows_the_package() -> None:
    spec = ServerSpec("c", Path("/x"), "n", "stdio", "npx", ("-y", "postmark-mcp@1.0.15", "--port", "9"))
    assert package_args(spec, PackageRef(Ecosystem.NPM, "postmark-mcp")) == ("--port", "9")
    uvx = ServerSpec("c", Path("/x"), "n", "stdio", "uvx", ("mcp-server-fetch==1.0", "--x"))
    assert package_args(uvx, PackageRef(Ecosystem.PYPI, "mcp-server-fetch")) == ("--x",)
