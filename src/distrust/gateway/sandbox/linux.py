"""Run an MCP server inside a bubblewrap sandbox whose only way out is the egress proxy.

The server gets new namespaces for everything (``--unshare-all``): its own process tree, its
own (empty) network with just a loopback interface, its own mounts. It sees a read-only
allowlist of system directories (:data:`SYSTEM_MOUNTS`), the toolchain that runs it, its store
entry and the paths the lock grants it, plus a private ``/tmp`` and a private HOME. The real
HOME (``~/.ssh``, cloud credentials), ``/run`` (docker.sock, dbus) and every other host unix
socket are simply not there: an allowlist, because a read-only bind of ``/`` still lets
``connect()`` reach host sockets.

Network: the gateway's egress proxy listens on a unix socket on the host; that socket is
bind-mounted to ``/run/egress.sock`` and ``socat`` bridges it to ``127.0.0.1:3128`` inside,
where ``HTTPS_PROXY`` points. Anything that ignores the proxy (raw sockets, DNS, UDP, a client
with its own networking) finds no route and fails closed. Node's fetch/https ignore the proxy
variables, so a ``--require`` preload (:mod:`node_preload`) routes them through it.

The server's environment is handed to bwrap as bwrap's own environment (which bwrap passes on
unchanged) rather than as ``--setenv`` arguments: argv is world-readable in ``/proc`` and
``ps``, and the environment holds the server's API keys.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from distrust import paths
from distrust.gateway.launch import ServerLaunch

PROXY_HOST = "127.0.0.1"
EGRESS_SOCKET_INSIDE = "/run/egress.sock"
DISTRUST_DIR_INSIDE = "/run/distrust"
CA_INSIDE = f"{DISTRUST_DIR_INSIDE}/ca.pem"
PRELOAD_INSIDE = f"{DISTRUST_DIR_INSIDE}/preload.cjs"
PRELOAD_MODULES_INSIDE = f"{DISTRUST_DIR_INSIDE}/node_modules"
HOME_INSIDE = "/home/sandbox"
CA_ENV_KEYS = (
    "NODE_EXTRA_CA_CERTS",
    "npm_config_cafile",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)
"""Where Node, npm, OpenSSL/Python, requests and curl look for the CA bundle to trust."""
TMP_INSIDE = "/tmp"
BRIDGE_TIMEOUT_SECONDS = 5
"""How long the inner shell waits for socat to listen before giving up (it takes ~2 ms)."""

BRIDGE_FAILED_EXIT = 70
"""Exit status (EX_SOFTWARE) when the egress bridge could not start; the server never ran."""

NAMESPACE_FLAGS: tuple[str, ...] = (
    "--unshare-all",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
)
"""Every namespace new; die with the gateway; no terminal to inject keystrokes into (setsid);
and no capabilities, because bwrap started as root otherwise keeps them all."""


@dataclass(frozen=True)
class SystemMount:
    """A host path every sandbox sees read-only, and why the server needs it."""

    path: str
    rationale: str


SYSTEM_MOUNTS: tuple[SystemMount, ...] = (
    SystemMount("/usr", "programs and shared libraries: sh, socat, a system node or python"),
    SystemMount("/bin", "merged-/usr symlink on modern distributions; real directory on older ones"),
    SystemMount("/sbin", "same as /bin"),
    SystemMount("/lib", "the dynamic loader and C library"),
    SystemMount("/lib64", "the x86-64 dynamic loader path compiled into every binary"),
    SystemMount("/lib32", "32-bit loader on multilib systems"),
    SystemMount("/etc/ld.so.cache", "lets the loader find shared libraries quickly"),
    SystemMount("/etc/alternatives", "Debian's alternatives symlinks (e.g. which `nodejs` is `node`)"),
    SystemMount("/etc/ssl", "the system CA bundle, for clients that verify TLS"),
    SystemMount("/etc/ca-certificates", "source of the CA bundle on Debian-family systems"),
    SystemMount("/etc/pki", "the system CA bundle on Fedora-family systems"),
    SystemMount("/etc/localtime", "time zone of timestamps the server writes"),
    SystemMount("/etc/passwd", "user lookup: node's os.userInfo(), npm and getpass fail without it"),
    SystemMount("/etc/group", "group lookup, same reason as /etc/passwd"),
    SystemMount("/etc/nsswitch.conf", "tells the C library to read /etc/passwd for user lookups"),
)
"""The read-only system allowlist. Deliberately absent: ``/etc/resolv.conf`` and ``/etc/hosts``
(DNS is the proxy's job), ``/home``, ``/root``, ``/run``, ``/var``, ``/sys``, ``/mnt``."""


class SandboxError(Exception):
    """A sandbox cannot be built as asked; the message names the path or setting at fault."""


@dataclass(frozen=True)
class SandboxSupport:
    """Whether bubblewrap sandboxes work on this machine, and if not, a reason a user can act on."""

    ok: bool
    reason: str
    bwrap: str | None
    socat: str | None


@dataclass(frozen=True)
class SandboxSpec:
    """What one server may touch besides the system allowlist.

    ``egress_socket`` is the host unix socket the egress proxy listens on. ``ro_paths`` are the
    server's store entry and toolchain directories, ``rw_paths`` the filesystem grants from the
    lock (bound at the same path inside). ``ca_cert`` is the egress proxy's CA in PEM, trusted
    inside through the usual variables. ``node_preload`` is a folder from :func:`ensure_preload`.
    """

    egress_socket: Path
    ro_paths: tuple[Path, ...] = ()
    rw_paths: tuple[Path, ...] = ()
    ca_cert: Path | None = None
    proxy_port: int = 3128
    node_preload: Path | None = None


def _system_mount_args() -> list[str]:
    """Bind each allowlisted system path that exists; recreate symlinks (merged /usr) as symlinks."""
    args: list[str] = []
    for mount in SYSTEM_MOUNTS:
        path = mount.path
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


_PROBE_CACHE: dict[str, SandboxSupport] = {}


def probe(*, refresh: bool = False) -> SandboxSupport:
    """Try a real ``bwrap --unshare-all … true`` once per process and say whether sandboxes work.

    Looking for the binary is not enough: user namespaces may be disabled by sysctl or AppArmor
    (Ubuntu 24.04), or a container may forbid them; only running it tells.
    """
    if not refresh and "result" in _PROBE_CACHE:
        return _PROBE_CACHE["result"]
    result = _probe_uncached()
    _PROBE_CACHE["result"] = result
    return result


def _probe_uncached() -> SandboxSupport:
    if not sys.platform.startswith("linux"):
        return SandboxSupport(False, f"bubblewrap sandboxes need Linux (this is {sys.platform})", None, None)
    bwrap = shutil.which("bwrap")
    socat = shutil.which("socat")
    if bwrap is None:
        return SandboxSupport(
            False, "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)", None, socat
        )
    if socat is None:
        reason = "socat is not installed (Debian/Ubuntu: apt-get install socat)"
        return SandboxSupport(False, reason, bwrap, None)
    true = shutil.which("true") or "/bin/true"
    argv = [bwrap, *NAMESPACE_FLAGS, *_system_mount_args(), "--proc", "/proc", "--dev", "/dev", "--", true]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return SandboxSupport(False, f"could not run {bwrap}: {exc}", bwrap, socat)
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        message = detail[-1] if detail else f"exit code {done.returncode}"
        hint = ""
        if "namespace" in message.lower() or "permission" in message.lower():
            hint = (
                " (user namespaces look disabled: check sysctl kernel.unprivileged_userns_clone, "
                "kernel.apparmor_restrict_unprivileged_userns, or the container's seccomp profile)"
            )
        return SandboxSupport(False, f"bwrap cannot create a sandbox: {message}{hint}", bwrap, socat)
    return SandboxSupport(True, "bubblewrap sandbox works", bwrap, socat)


def _which(program: str, env_path: str | None) -> Path | None:
    if os.sep in program:
        return Path(program) if os.path.exists(program) else None
    found = shutil.which(program, path=env_path)
    return Path(found) if found else None


def _shebang_interpreter(script: Path) -> str | None:
    """The program a ``#!`` script names (``/usr/bin/env node`` -> ``node``); read, never run."""
    try:
        with script.open("rb") as fh:
            head = fh.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not words:
        return None
    if Path(words[0]).name == "env":
        rest = [w for w in words[1:] if not w.startswith("-")]
        return rest[0] if rest else None
    return words[0]


def _install_root(binary: Path) -> Path:
    """The installation a binary belongs to: ``/opt/node-v20/bin/node`` -> ``/opt/node-v20``.

    A runtime needs its whole installation (Node's bundled npm, Python's standard library), not
    just the executable.
    """
    return binary.parent.parent if binary.parent.name in ("bin", "sbin") else binary.parent


def _venv_root(start: Path) -> Path | None:
    """The virtualenv holding ``start`` (a ``bin/python`` or console script), read from pyvenv.cfg."""
    if start.parent.name in ("bin", "Scripts") and (start.parent.parent / "pyvenv.cfg").is_file():
        return start.parent.parent
    return None


def _venv_home(venv: Path) -> Path | None:
    """The base Python installation a virtualenv was made from (``home = …/bin`` in pyvenv.cfg)."""
    try:
        text = (venv / "pyvenv.cfg").read_text("utf-8", "replace")[:4096]
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "home" and value.strip():
            return _install_root(Path(value.strip()) / "python")
    return None


def toolchain_paths(command: str, env_path: str | None) -> tuple[Path, ...]:
    """Directories the launch command needs to start: its install root, its venv, its interpreter's.

    ``npx`` is a ``#!/usr/bin/env node`` script, a venv console script names the venv's python,
    and that python is a symlink into a base installation (pyenv, /usr/local): each hop adds the
    installation it lands in. Nothing is executed to find out.
    """
    found: list[Path] = []
    seen: set[str] = set()
    queue = [command]
    while queue and len(seen) < 8:
        program = queue.pop(0)
        if program in seen:
            continue
        seen.add(program)
        located = _which(program, env_path)
        if located is None:
            continue
        for candidate in (located.absolute(), located.resolve()):
            venv = _venv_root(candidate)
            if venv is not None:
                found.append(venv)
                home = _venv_home(venv)
                if home is not None:
                    found.append(home)
            found.append(_install_root(candidate))
        interpreter = _shebang_interpreter(located.resolve())
        if interpreter is not None:
            queue.append(interpreter)
    unique: list[Path] = []
    for path in found:
        resolved = path.resolve()
        if resolved not in unique and str(resolved) != "/":
            unique.append(resolved)
    return tuple(unique)


def _covered_by_system(path: Path) -> bool:
    text = str(path)
    return any(text == m.path or text.startswith(m.path.rstrip("/") + "/") for m in SYSTEM_MOUNTS)


def _checked(path: Path, what: str) -> Path:
    if not path.is_absolute():
        raise SandboxError(f"{what} {path} must be an absolute path")
    if not path.exists():
        raise SandboxError(f"{what} {path} does not exist")
    return path.resolve()


def bridge_script(proxy_port: int, socat: str) -> str:
    """The inner shell: start the socat bridge, wait until it listens, then ``exec`` the server.

    Waiting matters: a server that connects in its first millisecond would otherwise find no
    proxy and fail. The wait reads ``/proc/net/tcp`` of the sandbox's own network namespace (no
    probe connection reaches the proxy). socat gets ``/dev/null`` for stdin/stdout because those
    two pipes carry the MCP JSON-RPC stream and belong to the server alone.
    """
    listen = f"0100007F:{proxy_port:04X}"
    tries = BRIDGE_TIMEOUT_SECONDS * 200
    return (
        f"{socat} TCP-LISTEN:{proxy_port},bind={PROXY_HOST},fork,reuseaddr,nodelay "
        f"UNIX-CONNECT:{EGRESS_SOCKET_INSIDE} </dev/null >/dev/null & bridge=$!\n"
        "ready() { while read -r _ addr _ state _; do\n"
        f'  [ "$addr" = "{listen}" ] && [ "$state" = "0A" ] && return 0; done </proc/net/tcp; return 1; }}\n'
        "i=0\n"
        "until ready; do\n"
        '  if ! kill -0 "$bridge" 2>/dev/null || [ "$i" -ge ' + str(tries) + " ]; then\n"
        '    echo "distrust sandbox: the egress bridge (socat) did not start" >&2; exit '
        + str(BRIDGE_FAILED_EXIT)
        + "\n"
        "  fi\n"
        "  i=$((i+1)); sleep 0.005\n"
        "done\n"
        'exec "$@"\n'
    )


def sandbox_env(launch: ServerLaunch, spec: SandboxSpec) -> dict[str, str]:
    """The server's environment inside: its own, plus proxy, CA and preload settings.

    HOME and TMPDIR point at the private tmpfs mounts; ``NO_PROXY`` is empty so nothing is
    exempt from the proxy. The CA variables replace the trust store for npm and Python clients
    on purpose: all TLS is intercepted by the egress proxy, so its CA is the only one needed.
    """
    env = dict(launch.env)
    proxy = f"http://{PROXY_HOST}:{spec.proxy_port}"
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        env[key] = proxy
    env["NO_PROXY"] = ""
    env["no_proxy"] = ""
    env["HOME"] = HOME_INSIDE
    env["TMPDIR"] = TMP_INSIDE
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    if spec.ca_cert is not None:
        for key in CA_ENV_KEYS:
            env[key] = CA_INSIDE
    if spec.node_preload is not None:
        require = f"--require {PRELOAD_INSIDE}"
        existing = env.get("NODE_OPTIONS", "").strip()
        env["NODE_OPTIONS"] = f"{existing} {require}".strip() if existing else require
    return env


def sandboxed(
    launch: ServerLaunch, spec: SandboxSpec, *, support: SandboxSupport | None = None
) -> ServerLaunch:
    """Wrap ``launch`` so it runs inside a bubblewrap sandbox; stdio passes through unchanged.

    Raises :class:`SandboxError` when the sandbox is unavailable (the reason from :func:`probe`)
    or a path in ``spec`` or the launch is unusable. The returned launch has ``cwd=None``: the
    server starts in ``launch.cwd`` inside when that directory is granted, else in its HOME.
    """
    support = support or probe()
    if not support.ok or support.bwrap is None or support.socat is None:
        raise SandboxError(f"cannot sandbox {launch.command[0]!r}: {support.reason}")
    if not 1 <= spec.proxy_port <= 65535:
        raise SandboxError(f"proxy_port {spec.proxy_port} is not a TCP port (1-65535)")
    egress = Path(spec.egress_socket)
    if not egress.is_absolute():
        raise SandboxError(f"egress_socket {egress} must be an absolute path")
    if not egress.exists():
        raise SandboxError(f"egress_socket {egress} does not exist: start the egress proxy first")

    ro: list[Path] = []
    socat = Path(support.socat).resolve()
    extra_tools = [] if _covered_by_system(socat) else [socat.parent]
    env_path = launch.env.get("PATH")
    for path in (*toolchain_paths(launch.command[0], env_path), *extra_tools):
        if not _covered_by_system(path):
            ro.append(path)
    ro += [_checked(Path(p), "read-only path") for p in spec.ro_paths]
    rw = [_checked(Path(p), "writable path") for p in spec.rw_paths]

    args: list[str] = [support.bwrap, *NAMESPACE_FLAGS, *_system_mount_args()]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", TMP_INSIDE, "--tmpfs", HOME_INSIDE]
    # Parents before children, so a writable grant inside a read-only entry stays writable.
    binds = sorted(
        {**{str(p): "--ro-bind" for p in ro}, **{str(p): "--bind" for p in rw}}.items(),
        key=lambda item: (len(Path(item[0]).parts), item[0]),
    )
    for where, flag in binds:
        args += [flag, where, where]
    args += ["--ro-bind", str(egress), EGRESS_SOCKET_INSIDE]
    if spec.ca_cert is not None:
        args += ["--ro-bind", str(_checked(Path(spec.ca_cert), "ca_cert")), CA_INSIDE]
    if spec.node_preload is not None:
        modules = _checked(Path(spec.node_preload) / "node_modules", "node preload")
        args += ["--ro-bind", str(PRELOAD_SOURCE / "preload.cjs"), PRELOAD_INSIDE]
        args += ["--ro-bind", str(modules), PRELOAD_MODULES_INSIDE]
    chdir: str = HOME_INSIDE
    if launch.cwd is not None:
        cwd = Path(launch.cwd).resolve()
        if not any(cwd == p or p in cwd.parents for p in (*ro, *rw)):
            raise SandboxError(
                f"working directory {cwd} is not granted to the server (add it as a path grant)"
            )
        chdir = str(cwd)
    args += ["--chdir", chdir, "--"]
    args += ["/bin/sh", "-c", bridge_script(spec.proxy_port, str(socat)), "sh", *launch.command]
    return ServerLaunch(command=tuple(args), env=sandbox_env(launch, spec), cwd=None)


# --- the Node proxy preload -------------------------------------------------------------------

PRELOAD_SOURCE = Path(__file__).parent / "node_preload"
"""preload.cjs plus the package.json/package-lock.json pinning its two dependencies."""

PRELOAD_DIR_ENV = "DISTRUST_NODE_PRELOAD_DIR"
PRELOAD_DEPENDENCIES = ("undici", "https-proxy-agent")


class PreloadError(Exception):
    """The Node preload could not be installed or an installed copy is unusable; says why."""


def preload_digest() -> str:
    """Short hash of the pinned manifest and lock: a new pin installs into a new folder."""
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((PRELOAD_SOURCE / name).read_bytes())
    return digest.hexdigest()[:16]


def _check_installed(folder: Path, origin: str) -> Path:
    modules = folder / "node_modules"
    missing = [d for d in PRELOAD_DEPENDENCIES if not (modules / d / "package.json").is_file()]
    if missing:
        raise PreloadError(f"{origin} {folder}: node_modules lacks {', '.join(missing)} (run `npm ci` there)")
    lock = folder / "package-lock.json"
    if not lock.is_file() or lock.read_bytes() != (PRELOAD_SOURCE / "package-lock.json").read_bytes():
        raise PreloadError(
            f"{origin} {folder}: package-lock.json differs from distrust's pinned preload lock"
        )
    return folder


def ensure_preload(data_dir: Path | None = None, *, npm: str | None = None) -> Path | None:
    """A folder with the preload's pinned ``node_modules``, installing it once if needed.

    ``$DISTRUST_NODE_PRELOAD_DIR`` names an already installed copy (tests, offline machines).
    Otherwise the pinned lock is installed with ``npm ci --ignore-scripts`` (no package code
    runs) into ``<data_dir>/node-preload/<hash>/``; that first install needs the npm registry.
    Returns None when npm is not installed (then no Node server can run anyway); raises
    :class:`PreloadError` when the install fails.
    """
    override = os.environ.get(PRELOAD_DIR_ENV)
    if override:
        return _check_installed(Path(override), PRELOAD_DIR_ENV)
    target = (data_dir or paths.data_dir()) / "node-preload" / preload_digest()
    if (target / ".complete").is_file():
        return target
    npm_path = npm or shutil.which("npm")
    if npm_path is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".install-", dir=target.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(PRELOAD_SOURCE / name, staging / name)
        command = [npm_path, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            done = subprocess.run(
                command, cwd=staging, capture_output=True, timeout=300, check=False, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PreloadError(f"installing the Node preload into {target} failed: {exc}") from None
        if done.returncode != 0:
            tail = " | ".join(done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:])
            raise PreloadError(
                f"`npm ci` for the Node preload failed (exit {done.returncode}; "
                f"the first install needs the npm registry): {tail}"
            )
        _check_installed(staging, "fresh preload install")
        (staging / ".complete").write_text("ok\n", encoding="utf-8")
        if target.exists():  # an interrupted earlier install: no .complete marker
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / ".complete").is_file():  # lost a race only if the winner finished
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target
