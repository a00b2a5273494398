"""Read a server's command line and say which package it launches, without touching the disk.

MCP client configs launch servers through a zoo of launchers (npx, npm exec, pnpm dlx, bunx,
uvx, pipx run, docker run, node/python with a path) and wrappers around them (``cmd /c`` on
Windows, ``sh -c "…"``, ``env VAR=… …``). Each launcher has its own options, and some options
take a value: getting that wrong turns ``-e API_KEY=…`` or ``--registry URL`` into the "package".
So the option vocabularies are data tables below, one per launcher, and the code only walks them.

The result is a :class:`Launch`; anything that needs the disk (a script's package.json, a
module's dist) is finished in :mod:`distrust.resolve.ondisk`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from distrust.model import Ecosystem, PackageRef
from distrust.resolve.names import is_npm_non_registry, npm_ref, pypi_ref


class LaunchKind:
    """What kind of thing a command line starts."""

    PACKAGE = "package"  # a registry package named on the command line (npx, uvx, pipx, docker)
    NODE_SCRIPT = "node-script"  # node/bun/tsx with a path: the package is found from package.json
    PYTHON_MODULE = "python-module"  # python -m module: the package is the dist that owns the module
    PYTHON_SCRIPT = "python-script"  # python path.py
    BINARY = "binary"  # a program path or PATH name: may be a symlink into node_modules or a venv
    PROJECT_BIN = "project-bin"  # pnpm exec / yarn <bin>: a bin from the project's node_modules
    UNKNOWN = "unknown"  # nothing recognisable (empty command, inline code)


@dataclass(frozen=True)
class Launch:
    """What a command line launches, as far as the words alone tell."""

    kind: str
    ref: PackageRef | None = None
    target: str | None = None  # script path, module name, binary path/name
    python: str | None = None  # the interpreter word for python -m (its venv holds the module)
    cwd: str | None = None  # a directory the launcher was told to work in (uv --directory)
    notes: tuple[str, ...] = ()


# --- option vocabularies (data) -----------------------------------------------------------
# Options NOT listed as taking a value are treated as flags. `--opt=value` never consumes the
# next word, whatever the table says.

# npm/npx/pnpm/yarn/bun options that take a separate value (from `npm help config`, `pnpm dlx
# --help`, `bunx --help`). `--package`/`-p` and `--call`/`-c` are handled specially.
NPM_VALUE_OPTIONS = frozenset(
    {
        "--registry",
        "--cache",
        "--userconfig",
        "--globalconfig",
        "--prefix",
        "--loglevel",
        "--logs-dir",
        "--logs-max",
        "--node-options",
        "--script-shell",
        "--workspace",
        "-w",
        "--tag",
        "--before",
        "--otp",
        "--dir",
        "-C",
        "--reporter",
        "--shell-mode",
        "--cwd",
        "--config",
        "--omit",
        "--include",
        "--install-strategy",
    }
)

# uv / uvx options that take a value (`uv tool run --help`, `uv run --help`, global options).
UV_VALUE_OPTIONS = frozenset(
    {
        "--from",
        "--with",
        "--with-editable",
        "--with-requirements",
        "--python",
        "-p",
        "--index",
        "--index-url",
        "-i",
        "--extra-index-url",
        "--default-index",
        "--find-links",
        "-f",
        "--directory",
        "--project",
        "--constraints",
        "-c",
        "--overrides",
        "--build-constraints",
        "-b",
        "--env-file",
        "--cache-dir",
        "--config-file",
        "--color",
        "--python-preference",
        "--resolution",
        "--prerelease",
        "--exclude-newer",
        "--exclude-newer-package",
        "--index-strategy",
        "--keyring-provider",
        "--refresh-package",
        "--reinstall-package",
        "--upgrade-package",
        "-P",
        "--no-binary-package",
        "--no-build-package",
        "--config-setting",
        "-C",
        "--link-mode",
        "--allow-insecure-host",
        "--torch-backend",
        "--extra",
        "--group",
        "--only-group",
        "--no-group",
        "--package",
        "--script",
        "--fork-strategy",
        "--python-platform",
    }
)

# pipx run options that take a value (`pipx run --help`).
PIPX_VALUE_OPTIONS = frozenset({"--spec", "--python", "--pip-args", "--index-url", "-i", "--backend"})

# `docker run` / `podman run` FLAGS (no value). Docker has far more value-taking options than
# flags, so the short list is the one kept; anything else starting with `-` takes a value.
DOCKER_RUN_FLAGS = frozenset(
    {
        "-i",
        "--interactive",
        "-t",
        "--tty",
        "-d",
        "--detach",
        "--rm",
        "--init",
        "--privileged",
        "--read-only",
        "-P",
        "--publish-all",
        "--no-healthcheck",
        "--oom-kill-disable",
        "-q",
        "--quiet",
        "--disable-content-trust",
        "--sig-proxy",
        "--use-api-socket",
        "--help",
        # podman-only flags
        "--replace",
        "--tls-verify",
        "--http-proxy",
        "--env-host",
        "--read-only-tmpfs",
    }
)
# Single letters that are flags, so `-it` / `-itd` / `-di` combined forms can be recognised.
DOCKER_SHORT_FLAG_LETTERS = frozenset("itdPq")
# docker/podman options before the sub-command that take a value.
DOCKER_GLOBAL_VALUE_OPTIONS = frozenset(
    {
        "-H",
        "--host",
        "-c",
        "--context",
        "--config",
        "-l",
        "--log-level",
        "--tlscacert",
        "--tlscert",
        "--tlskey",
        "--connection",
        "--url",
        "--identity",
        "--root",
        "--runroot",
        "--storage-driver",
    }
)

# node (and tsx / ts-node / bun run) options that take a value.
NODE_VALUE_OPTIONS = frozenset(
    {
        "-r",
        "--require",
        "--import",
        "--loader",
        "--experimental-loader",
        "-C",
        "--conditions",
        "--input-type",
        "--title",
        "--env-file",
        "--inspect-port",
        "--tsconfig",
        "--watch-path",
        "--max-old-space-size",
        "--stack-size",
        "--cwd",
    }
)
# node options that mean "the code is on the command line", so there is no script to find.
NODE_INLINE_OPTIONS = frozenset({"-e", "--eval", "-p", "--print"})

# python options that take a value; `-m` and `-c` are handled specially.
PYTHON_VALUE_OPTIONS = frozenset({"-W", "-X", "--check-hash-based-pycs"})

# Shell builtins/wrappers that may precede the real command inside `sh -c "…"`.
SHELL_PREFIX_WORDS = frozenset({"exec", "command", "nohup", "time", "builtin"})
# Simple commands inside `sh -c` that only prepare the environment (skipped when looking for
# the launcher): `cd dir && npx …`, `source ~/.nvm/nvm.sh && npx …`.
SHELL_SETUP_WORDS = frozenset(
    {
        "cd",
        "source",
        ".",
        "export",
        "set",
        "unset",
        "nvm",
        "fnm",
        "ulimit",
        "true",
        "echo",
        "printf",
        "trap",
        "umask",
        "eval",
        "conda",
        "pyenv",
    }
)

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "fish", "ash"})

_PYTHON_PROGRAM = re.compile(r"^(?:python(?:\d+(?:\.\d+)?)?w?|py|pypy3?)$")
_WINDOWS_EXEC_SUFFIXES = (".cmd", ".exe", ".bat", ".ps1", ".com")
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")

MAX_WRAPPER_DEPTH = 6  # sh -c "cmd /c 'env … npx …'" nests; a loop of wrappers must end


def program_name(word: str) -> str:
    """The launcher's name as a key: basename, lower-case, Windows suffix dropped (``npx.cmd``)."""
    base = re.split(r"[\\/]", word)[-1].lower()
    for suffix in _WINDOWS_EXEC_SUFFIXES:
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def _takes_value(opt: str, table: frozenset[str]) -> bool:
    return "=" not in opt and opt in table


def _option_value(args: Sequence[str], i: int) -> tuple[str | None, int]:
    """Value of the option at ``args[i]`` (``--opt=v`` or ``--opt v``), and the next index."""
    opt = args[i]
    if opt.startswith("--") and "=" in opt:
        return opt.split("=", 1)[1], i + 1
    if i + 1 < len(args):
        return args[i + 1], i + 2
    return None, i + 1


def _split_opt(opt: str) -> str:
    return opt.split("=", 1)[0] if opt.startswith("--") else opt


# --- npm family ---------------------------------------------------------------------------


def _npm_package_launch(spec_text: str, launcher: str, extra_notes: tuple[str, ...] = ()) -> Launch:
    if is_npm_non_registry(spec_text):
        ref = PackageRef(Ecosystem.NPM, spec_text, None, False, spec_text)
        note = (
            f"{launcher} fetches {spec_text!r} from outside the npm registry: "
            "the name does not identify the code"
        )
        return Launch(LaunchKind.PACKAGE, ref, notes=(note, *extra_notes))
    return Launch(LaunchKind.PACKAGE, npm_ref(spec_text), notes=extra_notes)


def _parse_npx_like(args: Sequence[str], launcher: str) -> Launch:
    """``npx``/``npm exec``/``pnpm dlx``/``yarn dlx``/``bunx``: options, then package or bin.

    With ``--package`` the first positional is a bin name, and the package comes from the option.
    """
    packages: list[str] = []
    call: str | None = None
    positional: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            positional.extend(args[i + 1 :])
            break
        if positional:
            positional.append(word)
            i += 1
            continue
        if word.startswith("-") and len(word) > 1:
            opt = _split_opt(word)
            if opt in ("-p", "--package"):
                value, i = _option_value(args, i)
                if value:
                    packages.append(value)
                continue
            if opt in ("-c", "--call"):
                call, i = _option_value(args, i)
                continue
            if _takes_value(word, NPM_VALUE_OPTIONS):
                i += 2
                continue
            i += 1
            continue
        positional.append(word)
        i += 1

    command = positional[0] if positional else None
    if packages:
        notes: tuple[str, ...] = ()
        chosen = packages[0]
        if len(packages) > 1:
            notes = (f"{launcher} installs several packages ({', '.join(packages)}); reporting {chosen!r}",)
        return _npm_package_launch(chosen, launcher, notes)
    if command:
        launch = _npm_package_launch(command, launcher)
        if command == "mcp-remote" or command.startswith("mcp-remote@"):
            remote = next((a for a in positional[1:] if a.startswith(("http://", "https://"))), None)
            if remote:
                launch = replace(launch, notes=(*launch.notes, f"mcp-remote proxies to {safe_url(remote)}"))
        return launch
    if call:
        return Launch(LaunchKind.UNKNOWN, notes=(f"{launcher} --call runs a shell string without a package",))
    return Launch(LaunchKind.UNKNOWN, notes=(f"{launcher} without a package name",))


def _skip_leading_options(args: Sequence[str], value_options: frozenset[str]) -> int:
    """Index of the first word that is not an option (or an option's value)."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if _takes_value(args[i], value_options) else 1
    return i


def _parse_npm(args: Sequence[str]) -> Launch:
    i = _skip_leading_options(args, NPM_VALUE_OPTIONS)
    if i >= len(args):
        return Launch(LaunchKind.UNKNOWN, notes=("npm without a sub-command",))
    sub, rest = args[i], args[i + 1 :]
    if sub in ("exec", "x"):
        return _parse_npx_like(rest, f"npm {sub}")
    if sub in ("run", "run-script", "start", "rum", "urn"):
        script = rest[0] if rest and sub != "start" else "start"
        return Launch(
            LaunchKind.UNKNOWN, notes=(f"npm {sub} runs the project's {script!r} script: local code",)
        )
    return Launch(LaunchKind.UNKNOWN, notes=(f"npm {sub} is not a launcher distrust understands",))


def _parse_pnpm(args: Sequence[str]) -> Launch:
    i = 0
    packages: list[str] = []
    while i < len(args) and args[i].startswith("-"):
        if _split_opt(args[i]) == "--package":
            value, i = _option_value(args, i)
            if value:
                packages.append(value)
            continue
        i += 2 if _takes_value(args[i], NPM_VALUE_OPTIONS) else 1
    if i >= len(args):
        return Launch(LaunchKind.UNKNOWN, notes=("pnpm without a sub-command",))
    sub, rest = args[i], list(args[i + 1 :])
    if sub == "dlx":
        # `pnpm --package=foo dlx bar` puts --package before dlx; fold it back in.
        return _parse_npx_like([f"--package={p}" for p in packages] + rest, "pnpm dlx")
    if sub == "exec":
        j = _skip_leading_options(rest, NPM_VALUE_OPTIONS)
        return _project_bin(rest[j] if j < len(rest) else None, "pnpm exec")
    if sub in ("run", "start"):
        return Launch(LaunchKind.UNKNOWN, notes=(f"pnpm {sub} runs a project script: local code",))
    return _project_bin(sub, "pnpm")


def _parse_yarn(args: Sequence[str]) -> Launch:
    i = _skip_leading_options(args, NPM_VALUE_OPTIONS)
    if i >= len(args):
        return Launch(LaunchKind.UNKNOWN, notes=("yarn without a sub-command",))
    sub, rest = args[i], args[i + 1 :]
    if sub == "dlx":
        return _parse_npx_like(rest, "yarn dlx")
    if sub in ("run", "start", "node"):
        return Launch(LaunchKind.UNKNOWN, notes=(f"yarn {sub} runs project code",))
    return _project_bin(sub, "yarn")


def _parse_bun(args: Sequence[str]) -> Launch:
    i = _skip_leading_options(args, NODE_VALUE_OPTIONS)
    if i >= len(args):
        return Launch(LaunchKind.UNKNOWN, notes=("bun without a sub-command",))
    sub, rest = args[i], args[i + 1 :]
    if sub == "x":
        return _parse_npx_like(rest, "bun x")
    if sub == "run":
        j = _skip_leading_options(rest, NODE_VALUE_OPTIONS)
        return _script_launch(rest[j] if j < len(rest) else None, "bun run")
    return _script_launch(sub, "bun")


def _parse_bunx(args: Sequence[str]) -> Launch:
    return _parse_npx_like(args, "bunx")


def _parse_pnpx(args: Sequence[str]) -> Launch:
    return _parse_npx_like(args, "pnpx")


def _parse_npx(args: Sequence[str]) -> Launch:
    return _parse_npx_like(args, "npx")


def _project_bin(name: str | None, launcher: str) -> Launch:
    if not name:
        return Launch(LaunchKind.UNKNOWN, notes=(f"{launcher} without a command",))
    return Launch(LaunchKind.PROJECT_BIN, target=name)


def _script_launch(path: str | None, launcher: str) -> Launch:
    """A JS/TS file run by node-like runtimes, or a bin name when it has no path shape."""
    if not path:
        return Launch(LaunchKind.UNKNOWN, notes=(f"{launcher} without a script",))
    if path.startswith("npm:"):
        return _npm_package_launch(path, launcher)
    return Launch(LaunchKind.NODE_SCRIPT, target=path)


def _parse_node(args: Sequence[str]) -> Launch:
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        opt = _split_opt(args[i])
        if opt in NODE_INLINE_OPTIONS:
            return Launch(LaunchKind.UNKNOWN, notes=("node runs inline code (-e/-p): no package to resolve",))
        if args[i] == "--":
            i += 1
            break
        i += 2 if _takes_value(args[i], NODE_VALUE_OPTIONS) else 1
    return _script_launch(args[i] if i < len(args) else None, "node")


def _parse_deno(args: Sequence[str]) -> Launch:
    i = 0
    if args and args[0] in ("run", "x"):
        i = 1
    while i < len(args) and args[i].startswith("-"):
        i += 2 if _takes_value(args[i], NODE_VALUE_OPTIONS) else 1
    target = args[i] if i < len(args) else None
    if target and target.startswith("npm:"):
        return _npm_package_launch(target[4:], "deno")
    if target and target.startswith(("jsr:", "http://", "https://")):
        return Launch(
            LaunchKind.UNKNOWN,
            notes=(
                f"deno runs {safe_url(target) if '://' in target else target}: not an npm or PyPI package",
            ),
        )
    return _script_launch(target, "deno")


# --- Python family ------------------------------------------------------------------------


def _pypi_package_launch(requirement: str, launcher: str) -> Launch:
    ref = pypi_ref(requirement)
    if ref is None:
        # A VCS URL or path: keep the text so the report can show it, but it names no release.
        # The name is the source text itself, so no PyPI advisory can match it by accident.
        shown = safe_url(requirement) if "://" in requirement else requirement
        ref = PackageRef(Ecosystem.PYPI, shown, None, False, shown)
        return Launch(LaunchKind.PACKAGE, ref, notes=(f"{launcher} installs from {shown!r}, not from PyPI",))
    return Launch(LaunchKind.PACKAGE, ref)


def _parse_uvx(args: Sequence[str], launcher: str = "uvx") -> Launch:
    from_req: str | None = None
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        if _split_opt(args[i]) == "--from":
            from_req, i = _option_value(args, i)
            continue
        i += 2 if _takes_value(args[i], UV_VALUE_OPTIONS) else 1
    if i < len(args) and args[i] == "--":
        i += 1
    command = args[i] if i < len(args) else None
    if from_req:
        return _pypi_package_launch(from_req, launcher)
    if command:
        return _pypi_package_launch(command, launcher)
    return Launch(LaunchKind.UNKNOWN, notes=(f"{launcher} without a package",))


def _parse_uv(args: Sequence[str]) -> Launch:
    directory: str | None = None
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if _split_opt(args[i]) in ("--directory", "--project"):
            directory, i = _option_value(args, i)
            continue
        i += 2 if _takes_value(args[i], UV_VALUE_OPTIONS) else 1
    if i >= len(args):
        return Launch(LaunchKind.UNKNOWN, notes=("uv without a sub-command",))
    sub, rest = args[i], args[i + 1 :]
    if sub == "tool" and rest and rest[0] == "run":
        return _parse_uvx(rest[1:], "uv tool run")
    if sub == "tool" and rest and rest[0] == "uvx":
        return _parse_uvx(rest[1:], "uvx")
    if sub == "run":
        return _parse_uv_run(rest, directory)
    return Launch(LaunchKind.UNKNOWN, notes=(f"uv {sub} is not a launcher distrust understands",))


def _parse_uv_run(args: Sequence[str], directory: str | None) -> Launch:
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        opt = _split_opt(args[i])
        if opt in ("--directory", "--project"):
            directory, i = _option_value(args, i)
            continue
        if opt == "-m" or opt == "--module":
            module, i = _option_value(args, i)
            return Launch(LaunchKind.PYTHON_MODULE, target=module, cwd=directory)
        i += 2 if _takes_value(args[i], UV_VALUE_OPTIONS) else 1
    if i < len(args) and args[i] == "--":
        i += 1
    if i >= len(args):
        return Launch(LaunchKind.UNKNOWN, cwd=directory, notes=("uv run without a command",))
    target, rest = args[i], args[i + 1 :]
    if _PYTHON_PROGRAM.match(program_name(target)):
        return replace(_parse_python(rest, target), cwd=directory)
    if target.endswith((".py", ".pyw")):
        return Launch(LaunchKind.PYTHON_SCRIPT, target=target, cwd=directory)
    # A console script of the project (or of a dependency) in the project's environment.
    return Launch(
        LaunchKind.BINARY,
        target=target,
        cwd=directory,
        notes=(f"uv run starts {target!r} from the project environment",),
    )


def _parse_pipx(args: Sequence[str]) -> Launch:
    i = _skip_leading_options(args, PIPX_VALUE_OPTIONS)
    if i >= len(args) or args[i] != "run":
        sub = args[i] if i < len(args) else ""
        return Launch(
            LaunchKind.UNKNOWN, notes=(f"pipx {sub} is not a launcher distrust understands".strip(),)
        )
    rest = args[i + 1 :]
    spec: str | None = None
    j = 0
    while j < len(rest) and rest[j].startswith("-") and rest[j] != "--":
        if _split_opt(rest[j]) == "--spec":
            spec, j = _option_value(rest, j)
            continue
        j += 2 if _takes_value(rest[j], PIPX_VALUE_OPTIONS) else 1
    if j < len(rest) and rest[j] == "--":
        j += 1
    app = rest[j] if j < len(rest) else None
    if spec:
        return _pypi_package_launch(spec, "pipx run")
    if app:
        return _pypi_package_launch(app, "pipx run")
    return Launch(LaunchKind.UNKNOWN, notes=("pipx run without a package",))


def _parse_python(args: Sequence[str], interpreter: str) -> Launch:
    i = 0
    while i < len(args):
        word = args[i]
        if word == "-m" or (word.startswith("-m") and len(word) > 2 and not word.startswith("--")):
            module = word[2:] if len(word) > 2 else (args[i + 1] if i + 1 < len(args) else None)
            if not module:
                break
            return Launch(LaunchKind.PYTHON_MODULE, target=module, python=interpreter)
        if word == "-c" or (
            word.startswith("-") and not word.startswith("--") and word.endswith("c") and word[1:].isalpha()
        ):
            return Launch(LaunchKind.UNKNOWN, notes=("python runs inline code (-c): no package to resolve",))
        if word == "--":
            i += 1
            break
        if word.startswith("-") and word != "-":
            i += 2 if _takes_value(word, PYTHON_VALUE_OPTIONS) else 1
            continue
        break
    if i < len(args):
        return Launch(LaunchKind.PYTHON_SCRIPT, target=args[i], python=interpreter)
    return Launch(LaunchKind.UNKNOWN, notes=("python without a script or module",))


# --- containers ---------------------------------------------------------------------------


def docker_ref(image: str) -> PackageRef:
    """``[registry/]name[:tag][@sha256:…]`` → PackageRef; pinned only by digest (tags move)."""
    name, _, digest = image.partition("@")
    tag: str | None = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    name = name.lower()
    if digest:
        spec = f"{tag}@{digest}" if tag else digest
        return PackageRef(Ecosystem.DOCKER, name, digest, True, spec)
    return PackageRef(Ecosystem.DOCKER, name, None, False, tag or "latest")


def _parse_docker(args: Sequence[str], program: str = "docker") -> Launch:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if _takes_value(args[i], DOCKER_GLOBAL_VALUE_OPTIONS) else 1
    if i < len(args) and args[i] == "container":
        i += 1
    if i >= len(args) or args[i] not in ("run", "create"):
        sub = " ".join(args[i : i + 2]) if i < len(args) else ""
        return Launch(
            LaunchKind.UNKNOWN,
            notes=(f"{program} {sub} does not name an image distrust can resolve".strip(),),
        )
    i += 1
    while i < len(args):
        word = args[i]
        if word == "--":
            i += 1
            break
        if not word.startswith("-") or word == "-":
            break
        if "=" in word or word in DOCKER_RUN_FLAGS:
            i += 1
        elif not word.startswith("--") and len(word) > 2 and set(word[1:]) <= DOCKER_SHORT_FLAG_LETTERS:
            i += 1  # -it, -itd
        else:
            i += 2  # -e K=V, -v a:b, --name x, --network host, ...
    if i >= len(args):
        return Launch(LaunchKind.UNKNOWN, notes=(f"{program} run without an image",))
    ref = docker_ref(args[i])
    notes: tuple[str, ...] = ()
    if not ref.pinned:
        notes = ("docker image by tag, not digest: cannot tell which build runs",)
    return Launch(LaunchKind.PACKAGE, ref, notes=notes)


# --- wrappers -----------------------------------------------------------------------------


def _parse_cmd(args: Sequence[str], depth: int) -> Launch:
    """``cmd /c npx …`` (Windows): what follows /c or /k is the real command line."""
    i = 0
    while i < len(args) and args[i].startswith("/"):
        flag = args[i].lower()
        i += 1
        if flag in ("/c", "/k", "/r"):
            return _parse_rest(args[i:], depth, "cmd")
    return _parse_rest(args[i:], depth, "cmd")


def _parse_shell(args: Sequence[str], depth: int, shell: str) -> Launch:
    """``sh -c "npx -y foo"``, ``bash -lc '…'``: the string after -c is a command line."""
    i = 0
    has_c = False
    while i < len(args) and args[i].startswith("-"):
        if args[i] in ("-o", "+o", "-O", "+O"):
            i += 2
            continue
        if not args[i].startswith("--") and "c" in args[i][1:]:
            has_c = True
        i += 1
    if has_c and i < len(args):
        return parse_shell_string(args[i], depth + 1)
    if i < len(args):
        return Launch(LaunchKind.UNKNOWN, notes=(f"{shell} runs script {args[i]!r}: local code",))
    return Launch(LaunchKind.UNKNOWN, notes=(f"{shell} without a command",))


def _parse_powershell(args: Sequence[str], depth: int) -> Launch:
    for i, word in enumerate(args):
        if word.lower() in ("-command", "-c"):
            return parse_shell_string(" ".join(args[i + 1 :]), depth + 1)
    return Launch(LaunchKind.UNKNOWN, notes=("powershell without -Command",))


def _parse_env(args: Sequence[str], depth: int) -> Launch:
    i = 0
    while i < len(args):
        word = args[i]
        if word in ("-u", "--unset", "-C", "--chdir", "-S", "--split-string"):
            if word in ("-S", "--split-string") and i + 1 < len(args):
                return parse_shell_string(args[i + 1], depth + 1)
            i += 2
        elif word.startswith("-") or _ENV_ASSIGNMENT.match(word):
            i += 1
        else:
            break
    return _parse_rest(args[i:], depth, "env")


def _parse_rest(words: Sequence[str], depth: int, wrapper: str) -> Launch:
    if not words:
        return Launch(LaunchKind.UNKNOWN, notes=(f"{wrapper} without a command",))
    if len(words) == 1 and " " in words[0]:
        return parse_shell_string(words[0], depth + 1)
    return parse_command(words[0], words[1:], _depth=depth + 1)


def parse_shell_string(text: str, _depth: int = 0) -> Launch:
    """Find the launcher inside a shell command string (``cd x && exec npx -y foo``).

    Setup commands (``cd``, ``source``, ``export``…) are skipped; the first remaining simple
    command that names a package wins, else the last one.
    """
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError as exc:
        return Launch(LaunchKind.UNKNOWN, notes=(f"could not split shell command: {exc}",))
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token and set(token) <= set(";&|()"):
            commands.append([])
        else:
            commands[-1].append(token)
    best: Launch | None = None
    for words in commands:
        while words and (_ENV_ASSIGNMENT.match(words[0]) or words[0] in SHELL_PREFIX_WORDS):
            words = words[1:]
        if not words or program_name(words[0]) in SHELL_SETUP_WORDS:
            continue
        launch = parse_command(words[0], words[1:], _depth=_depth + 1)
        if launch.kind == LaunchKind.PACKAGE:
            return launch
        if best is None or launch.kind != LaunchKind.UNKNOWN:
            best = launch
    return best or Launch(LaunchKind.UNKNOWN, notes=("shell command without a program",))


# --- entry point --------------------------------------------------------------------------

_Parser = Callable[[Sequence[str]], Launch]

# Launchers by program name. Wrappers (cmd, shells, env, powershell) recurse and are below.
LAUNCHERS: dict[str, _Parser] = {
    "npx": _parse_npx,
    "npm": _parse_npm,
    "pnpm": _parse_pnpm,
    "pnpx": _parse_pnpx,
    "yarn": _parse_yarn,
    "bunx": _parse_bunx,
    "bun": _parse_bun,
    "uvx": _parse_uvx,
    "uv": _parse_uv,
    "pipx": _parse_pipx,
    "docker": lambda a: _parse_docker(a, "docker"),
    "podman": lambda a: _parse_docker(a, "podman"),
    "nerdctl": lambda a: _parse_docker(a, "nerdctl"),
    "node": _parse_node,
    "nodejs": _parse_node,
    "tsx": _parse_node,
    "ts-node": _parse_node,
    "deno": _parse_deno,
}


def parse_command(command: str | None, args: Sequence[str] = (), *, _depth: int = 0) -> Launch:
    """What ``command args…`` launches, judged from the words alone."""
    if not command or not command.strip():
        return Launch(LaunchKind.UNKNOWN, notes=("no command",))
    if _depth > MAX_WRAPPER_DEPTH:
        return Launch(LaunchKind.UNKNOWN, notes=("wrappers nested too deeply to follow",))
    if not args and " " in command.strip() and not _looks_like_path(command):
        # Some configs put the whole command line in "command".
        return parse_shell_string(command, _depth + 1)
    program = program_name(command)
    args = list(args)
    if program in LAUNCHERS:
        return LAUNCHERS[program](args)
    if _PYTHON_PROGRAM.match(program):
        return _parse_python(args, command)
    if program == "cmd":
        return _parse_cmd(args, _depth)
    if program in SHELLS:
        return _parse_shell(args, _depth, program)
    if program in ("powershell", "pwsh"):
        return _parse_powershell(args, _depth)
    if program == "env":
        return _parse_env(args, _depth)
    return Launch(LaunchKind.BINARY, target=command)


def _looks_like_path(command: str) -> bool:
    return command.startswith(("/", "~", ".")) or bool(re.match(r"^[A-Za-z]:[\\/]", command))


def url_ref(url: str) -> PackageRef:
    """A remote server: nothing is installed, the host is what is trusted."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or url.strip()).lower()
    return PackageRef(Ecosystem.URL, host, None, False, safe_url(url))


def safe_url(url: str) -> str:
    """A URL without credentials or query string: those often carry API keys."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "<unparseable URL>"
    if not parts.scheme or not parts.hostname:
        return url.split("?", 1)[0]
    netloc = parts.hostname
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return f"{parts.scheme}://{netloc}{parts.path}"
