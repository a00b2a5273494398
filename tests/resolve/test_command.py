"""Every launcher form MCP configs use, read from the words alone (no disk)."""

from __future__ import annotations

import pytest

from distrust.model import Ecosystem, PackageRef
from distrust.resolve.command import LaunchKind, docker_ref, parse_command, program_name, url_ref

NPM, PYPI, DOCKER = Ecosystem.NPM, Ecosystem.PYPI, Ecosystem.DOCKER
DIGEST = "sha256:" + "ab" * 32

# (id, command, args, expected PackageRef)
PACKAGE_CASES: list[tuple[str, str, list[str], PackageRef]] = [
    # npx
    ("npx-floating", "npx", ["-y", "postmark-mcp"], PackageRef(NPM, "postmark-mcp", None, False, "latest")),
    (
        "npx-yes-long",
        "npx",
        ["--yes", "postmark-mcp@1.0.15"],
        PackageRef(NPM, "postmark-mcp", "1.0.15", True, "1.0.15"),
    ),
    ("npx-no-flag", "npx", ["postmark-mcp@latest"], PackageRef(NPM, "postmark-mcp", None, False, "latest")),
    (
        "npx-caret",
        "npx",
        ["-y", "postmark-mcp@^1.0.0"],
        PackageRef(NPM, "postmark-mcp", None, False, "^1.0.0"),
    ),
    ("npx-tag", "npx", ["-y", "postmark-mcp@next"], PackageRef(NPM, "postmark-mcp", None, False, "next")),
    ("npx-upper", "npx", ["-y", "Postmark-MCP"], PackageRef(NPM, "postmark-mcp", None, False, "latest")),
    (
        "npx-scoped",
        "npx",
        ["-y", "@scope/pkg@1.2.3", "--port", "1"],
        PackageRef(NPM, "@scope/pkg", "1.2.3", True, "1.2.3"),
    ),
    (
        "npx-scoped-floating",
        "npx",
        ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"],
        PackageRef(NPM, "@modelcontextprotocol/server-filesystem", None, False, "latest"),
    ),
    (
        "npx-prerelease",
        "npx",
        ["-y", "pkg@2.0.0-beta.3"],
        PackageRef(NPM, "pkg", "2.0.0-beta.3", True, "2.0.0-beta.3"),
    ),
    ("npx-v-prefix", "npx", ["-y", "pkg@v2.0.0"], PackageRef(NPM, "pkg", "2.0.0", True, "v2.0.0")),
    ("npx-package-eq", "npx", ["-y", "--package=foo@1", "bar"], PackageRef(NPM, "foo", None, False, "1")),
    (
        "npx-package-space",
        "npx",
        ["-p", "foo@1.2.3", "bar", "--x"],
        PackageRef(NPM, "foo", "1.2.3", True, "1.2.3"),
    ),
    (
        "npx-registry-value",
        "npx",
        ["--registry", "https://r.example.com", "-y", "foo"],
        PackageRef(NPM, "foo", None, False, "latest"),
    ),
    ("npx-cmd", "npx.cmd", ["-y", "postmark-mcp"], PackageRef(NPM, "postmark-mcp", None, False, "latest")),
    (
        "npx-windows-path",
        "C:\\Program Files\\nodejs\\npx.cmd",
        ["-y", "foo@1.0.0"],
        PackageRef(NPM, "foo", "1.0.0", True, "1.0.0"),
    ),
    # npm exec / x
    (
        "npm-exec-dashdash",
        "npm",
        ["exec", "--", "postmark-mcp"],
        PackageRef(NPM, "postmark-mcp", None, False, "latest"),
    ),
    (
        "npm-exec-yes",
        "npm",
        ["exec", "--yes", "@scope/pkg@3.0.0"],
        PackageRef(NPM, "@scope/pkg", "3.0.0", True, "3.0.0"),
    ),
    (
        "npm-exec-package",
        "npm",
        ["exec", "--package=@scope/pkg@3.0.0", "--", "pkg-bin"],
        PackageRef(NPM, "@scope/pkg", "3.0.0", True, "3.0.0"),
    ),
    ("npm-x", "npm", ["x", "-y", "foo@~1.2"], PackageRef(NPM, "foo", None, False, "~1.2")),
    # pnpm / yarn / bun
    ("pnpm-dlx", "pnpm", ["dlx", "@scope/pkg"], PackageRef(NPM, "@scope/pkg", None, False, "latest")),
    (
        "pnpm-dlx-package",
        "pnpm",
        ["--package=foo@1.0.0", "dlx", "foo-bin"],
        PackageRef(NPM, "foo", "1.0.0", True, "1.0.0"),
    ),
    ("pnpx", "pnpx", ["foo@1.0.0"], PackageRef(NPM, "foo", "1.0.0", True, "1.0.0")),
    (
        "yarn-dlx",
        "yarn",
        ["dlx", "-p", "foo@2.0.0", "foo-bin"],
        PackageRef(NPM, "foo", "2.0.0", True, "2.0.0"),
    ),
    ("bunx", "bunx", ["--bun", "pkg@1.0.0"], PackageRef(NPM, "pkg", "1.0.0", True, "1.0.0")),
    ("bun-x", "bun", ["x", "pkg"], PackageRef(NPM, "pkg", None, False, "latest")),
    ("deno-npm", "deno", ["run", "-A", "npm:pkg@1.2.3"], PackageRef(NPM, "pkg", "1.2.3", True, "1.2.3")),
    # uvx / uv tool run / pipx
    ("uvx", "uvx", ["mcp-server-fetch"], PackageRef(PYPI, "mcp-server-fetch", None, False, None)),
    (
        "uvx-at",
        "uvx",
        ["mcp-server-fetch@2025.4.7"],
        PackageRef(PYPI, "mcp-server-fetch", "2025.4.7", True, "==2025.4.7"),
    ),
    (
        "uvx-at-latest",
        "uvx",
        ["mcp-server-fetch@latest"],
        PackageRef(PYPI, "mcp-server-fetch", None, False, "latest"),
    ),
    (
        "uvx-from-pinned",
        "uvx",
        ["--from", "mcp-server-fetch==1.2", "mcp-server-fetch", "--x"],
        PackageRef(PYPI, "mcp-server-fetch", "1.2", True, "==1.2"),
    ),
    (
        "uvx-from-eq",
        "uvx",
        ["--python", "3.12", "--from=Mcp_Server.Fetch>=1", "fetch"],
        PackageRef(PYPI, "mcp-server-fetch", None, False, ">=1"),
    ),
    (
        "uvx-from-extras",
        "uvx",
        ["--from", "pkg[cli]==2.0", "pkg"],
        PackageRef(PYPI, "pkg", "2.0", True, "==2.0"),
    ),
    (
        "uvx-with",
        "uvx",
        ["--with", "httpx", "--from", "pkg==1.0", "run-it"],
        PackageRef(PYPI, "pkg", "1.0", True, "==1.0"),
    ),
    (
        "uv-tool-run",
        "uv",
        ["tool", "run", "Mcp_Server.Fetch"],
        PackageRef(PYPI, "mcp-server-fetch", None, False, None),
    ),
    ("pipx-run", "pipx", ["run", "pkg"], PackageRef(PYPI, "pkg", None, False, None)),
    (
        "pipx-run-spec",
        "pipx",
        ["run", "--spec", "pkg==1.0", "pkg-cli"],
        PackageRef(PYPI, "pkg", "1.0", True, "==1.0"),
    ),
    (
        "pipx-wildcard-floats",
        "pipx",
        ["run", "--spec", "pkg==1.*", "x"],
        PackageRef(PYPI, "pkg", None, False, "==1.*"),
    ),
    # docker
    (
        "docker-tag",
        "docker",
        [
            "run",
            "-i",
            "--rm",
            "-e",
            "POSTMARK_TOKEN=abc",
            "--env",
            "X",
            "-v",
            "/a:/b",
            "--name",
            "n",
            "--network",
            "host",
            "ghcr.io/org/img:1.2",
            "serve",
        ],
        PackageRef(DOCKER, "ghcr.io/org/img", None, False, "1.2"),
    ),
    (
        "docker-no-tag",
        "docker",
        ["run", "-it", "--rm", "mcp/fetch"],
        PackageRef(DOCKER, "mcp/fetch", None, False, "latest"),
    ),
    (
        "docker-digest",
        "docker",
        ["run", "-i", "--rm", f"mcp/fetch@{DIGEST}"],
        PackageRef(DOCKER, "mcp/fetch", DIGEST, True, DIGEST),
    ),
    (
        "docker-tag-digest",
        "docker",
        ["container", "run", "--env=A=1", f"mcp/fetch:1.0@{DIGEST}"],
        PackageRef(DOCKER, "mcp/fetch", DIGEST, True, f"1.0@{DIGEST}"),
    ),
    (
        "docker-registry-port",
        "docker",
        ["run", "--rm", "localhost:5000/team/img:2"],
        PackageRef(DOCKER, "localhost:5000/team/img", None, False, "2"),
    ),
    (
        "docker-global-opt",
        "docker",
        ["--context", "remote", "run", "-i", "img:3"],
        PackageRef(DOCKER, "img", None, False, "3"),
    ),
    (
        "podman",
        "podman",
        ["run", "-i", "--rm", "--pull=always", "quay.io/a/b:7"],
        PackageRef(DOCKER, "quay.io/a/b", None, False, "7"),
    ),
    # wrappers
    (
        "cmd-c",
        "cmd",
        ["/c", "npx", "-y", "postmark-mcp"],
        PackageRef(NPM, "postmark-mcp", None, False, "latest"),
    ),
    (
        "cmd-exe-upper",
        "cmd.exe",
        ["/C", "npx -y @scope/pkg@1.0.0"],
        PackageRef(NPM, "@scope/pkg", "1.0.0", True, "1.0.0"),
    ),
    ("sh-c", "sh", ["-c", "npx -y postmark-mcp"], PackageRef(NPM, "postmark-mcp", None, False, "latest")),
    (
        "bash-lc-setup",
        "bash",
        ["-lc", "source ~/.nvm/nvm.sh && cd /srv && exec npx -y postmark-mcp@1.0.15"],
        PackageRef(NPM, "postmark-mcp", "1.0.15", True, "1.0.15"),
    ),
    (
        "zsh-env-assign",
        "/bin/zsh",
        ["-c", "FOO=1 BAR=2 uvx mcp-server-fetch"],
        PackageRef(PYPI, "mcp-server-fetch", None, False, None),
    ),
    (
        "env-wrapper",
        "env",
        ["-u", "X", "A=1", "npx", "-y", "foo"],
        PackageRef(NPM, "foo", None, False, "latest"),
    ),
    (
        "whole-line-in-command",
        "npx -y postmark-mcp",
        [],
        PackageRef(NPM, "postmark-mcp", None, False, "latest"),
    ),
    (
        "cmd-sh-nested",
        "cmd",
        ["/c", "bash", "-c", "npx -y foo@1.0.0"],
        PackageRef(NPM, "foo", "1.0.0", True, "1.0.0"),
    ),
    (
        "powershell",
        "powershell",
        ["-NoProfile", "-Command", "npx", "-y", "foo"],
        PackageRef(NPM, "foo", None, False, "latest"),
    ),
]


@pytest.mark.parametrize(
    ("command", "args", "expected"), [c[1:] for c in PACKAGE_CASES], ids=[c[0] for c in PACKAGE_CASES]
)
def test_package_forms(command: str, args: list[str], expected: PackageRef) -> None:
    launch = parse_command(command, args)
    assert launch.kind == LaunchKind.PACKAGE
    assert launch.ref == expected


# (id, command, args, kind, target)
PATH_CASES: list[tuple[str, str, list[str], str, str | None]] = [
    (
        "node-script",
        "node",
        ["/home/u/proj/node_modules/postmark-mcp/dist/index.js"],
        LaunchKind.NODE_SCRIPT,
        "/home/u/proj/node_modules/postmark-mcp/dist/index.js",
    ),
    (
        "node-options",
        "node",
        ["--env-file", ".env", "-r", "ts-node/register", "build/index.js", "--port", "3"],
        LaunchKind.NODE_SCRIPT,
        "build/index.js",
    ),
    (
        "node-exe-windows",
        "C:\\nodejs\\node.exe",
        ["C:\\srv\\index.js"],
        LaunchKind.NODE_SCRIPT,
        "C:\\srv\\index.js",
    ),
    ("node-eval", "node", ["-e", "require('x')"], LaunchKind.UNKNOWN, None),
    ("python-m", "python", ["-m", "mcp_server_fetch"], LaunchKind.PYTHON_MODULE, "mcp_server_fetch"),
    (
        "python3-m-flags",
        "python3",
        ["-u", "-X", "utf8", "-m", "pkg.server", "--x"],
        LaunchKind.PYTHON_MODULE,
        "pkg.server",
    ),
    ("venv-python-m", "/srv/.venv/bin/python", ["-m", "srv"], LaunchKind.PYTHON_MODULE, "srv"),
    ("python-script", "python3.12", ["server.py"], LaunchKind.PYTHON_SCRIPT, "server.py"),
    ("python-c", "python", ["-c", "import x"], LaunchKind.UNKNOWN, None),
    (
        "uv-run-script",
        "uv",
        ["--directory", "/srv", "run", "server.py"],
        LaunchKind.PYTHON_SCRIPT,
        "server.py",
    ),
    ("uv-run-module", "uv", ["run", "--with", "mcp", "-m", "srv"], LaunchKind.PYTHON_MODULE, "srv"),
    (
        "uv-run-python-m",
        "uv",
        ["run", "--directory", "/srv", "python", "-m", "srv"],
        LaunchKind.PYTHON_MODULE,
        "srv",
    ),
    ("uv-run-entry", "uv", ["run", "--directory", "/srv", "my-server"], LaunchKind.BINARY, "my-server"),
    ("abs-binary", "/usr/local/bin/my-server", ["--stdio"], LaunchKind.BINARY, "/usr/local/bin/my-server"),
    ("path-binary", "github-mcp-server", ["stdio"], LaunchKind.BINARY, "github-mcp-server"),
    ("pnpm-exec", "pnpm", ["exec", "my-bin"], LaunchKind.PROJECT_BIN, "my-bin"),
    ("npm-run", "npm", ["run", "start"], LaunchKind.UNKNOWN, None),
    ("docker-compose", "docker", ["compose", "up"], LaunchKind.UNKNOWN, None),
    ("empty", "", [], LaunchKind.UNKNOWN, None),
    ("npx-nothing", "npx", ["-y"], LaunchKind.UNKNOWN, None),
]


@pytest.mark.parametrize(
    ("command", "args", "kind", "target"), [c[1:] for c in PATH_CASES], ids=[c[0] for c in PATH_CASES]
)
def test_path_and_other_forms(command: str, args: list[str], kind: str, target: str | None) -> None:
    launch = parse_command(command, args)
    assert launch.kind == kind
    assert launch.target == target
    if kind == LaunchKind.UNKNOWN:
        assert launch.notes, "an unresolvable command must say why"


def test_uv_directory_carries_to_launch() -> None:
    assert parse_command("uv", ["--directory", "/srv/app", "run", "server.py"]).cwd == "/srv/app"
    assert parse_command("uv", ["run", "--directory=/srv/b", "-m", "srv"]).cwd == "/srv/b"


def test_docker_tag_gets_note_and_digest_does_not() -> None:
    assert "not digest" in parse_command("docker", ["run", "-i", "img:1"]).notes[0]
    assert parse_command("docker", ["run", "-i", f"img@{DIGEST}"]).notes == ()


def test_docker_value_options_are_not_mistaken_for_the_image() -> None:
    # each value here looks like an image name; only the real image may be picked
    args = [
        "run",
        "--add-host",
        "h:1.2.3.4",
        "-w",
        "/work",
        "-u",
        "node",
        "--entrypoint",
        "sh",
        "--platform",
        "linux/amd64",
        "-p",
        "8080:80",
        "real/image:9",
        "other/thing:1",
    ]
    assert parse_command("docker", args).ref == PackageRef(DOCKER, "real/image", None, False, "9")


def test_non_registry_npm_spec_is_flagged() -> None:
    launch = parse_command("npx", ["-y", "github:someone/mcp-server"])
    assert launch.ref is not None and not launch.ref.pinned
    assert "outside the npm registry" in launch.notes[0]


def test_vcs_uvx_source_is_not_given_a_pypi_name() -> None:
    launch = parse_command("uvx", ["--from", "git+https://github.com/a/b?token=s3cret", "b"])
    assert launch.ref is not None
    assert launch.ref.name == "git+https://github.com/a/b"  # query (possible secret) dropped
    assert "s3cret" not in " ".join(launch.notes)


def test_mcp_remote_note_drops_secret_query() -> None:
    launch = parse_command("npx", ["-y", "mcp-remote", "https://mcp.example.com/sse?api_key=s3cret"])
    assert launch.ref == PackageRef(NPM, "mcp-remote", None, False, "latest")
    assert launch.notes == ("mcp-remote proxies to https://mcp.example.com/sse",)


def test_several_packages_reports_first_and_says_so() -> None:
    launch = parse_command("npx", ["-p", "a@1.0.0", "-p", "b@2.0.0", "a-bin"])
    assert launch.ref == PackageRef(NPM, "a", "1.0.0", True, "1.0.0")
    assert "several packages" in launch.notes[0]


def test_url_ref_uses_host_and_hides_credentials() -> None:
    ref = url_ref("https://user:pw@MCP.Example.com:8443/mcp?key=s3cret")
    assert ref.ecosystem == Ecosystem.URL and ref.name == "mcp.example.com"
    assert ref.spec == "https://mcp.example.com:8443/mcp"


def test_docker_ref_parsing() -> None:
    assert docker_ref("Repo/Img") == PackageRef(DOCKER, "repo/img", None, False, "latest")


def test_wrapper_loops_end() -> None:
    launch = parse_command("sh", ["-c", 'sh -c \'sh -c "sh -c \\"sh -c x\\""\''])
    assert launch.kind in (LaunchKind.BINARY, LaunchKind.UNKNOWN)


def test_unbalanced_shell_quotes_are_a_note_not_a_crash() -> None:
    launch = parse_command("bash", ["-c", "npx -y 'postmark-mcp"])
    assert launch.kind == LaunchKind.UNKNOWN and "could not split" in launch.notes[0]


@pytest.mark.parametrize(
    ("word", "name"),
    [("npx", "npx"), ("NPX.CMD", "npx"), ("/usr/bin/node", "node"), ("C:\\Python312\\python.exe", "python")],
)
def test_program_name(word: str, name: str) -> None:
    assert program_name(word) == name
