"""Package names and version specs as npm and Python tools spell them.

Two configs that say ``Postmark-MCP`` and ``postmark-mcp``, or ``mcp_server_fetch`` and
``mcp-server-fetch``, run the same package; advisories and installed copies must be found under
one key. This module owns that key and the one question that matters most for safety: does the
config name an exact version (reproducible) or a floating one (whatever the registry serves today,
which is how postmark-mcp 1.0.16 reached its victims)?
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from distrust.model import Ecosystem, PackageRef

# A full semver version as npm accepts it for an exact pin: `1.2.3`, `1.2.3-beta.1`, `1.2.3+build`.
# npm also accepts a leading `v` or `=` and ignores it.
NPM_EXACT = re.compile(
    r"^[=v]*(?P<version>(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)$"
)

# Spec prefixes that fetch from somewhere other than the registry: the name does not identify code.
NPM_NON_REGISTRY_PREFIXES = (
    "git+",
    "git:",
    "github:",
    "gitlab:",
    "bitbucket:",
    "gist:",
    "http:",
    "https:",
    "file:",
    "link:",
    "workspace:",
    ".",
    "/",
    "~",
)

_PEP503_RUN = re.compile(r"[-_.]+")


def normalize_pypi(name: str) -> str:
    """PEP 503 normal form, so ``Mcp_Server.Fetch`` and ``mcp-server-fetch`` are one package."""
    return _PEP503_RUN.sub("-", name).lower()


def normalize_npm(name: str) -> str:
    """npm names are lower-case since 2017; older mixed-case names are matched case-insensitively."""
    return name.strip().lower()


def normalize(ecosystem: str, name: str) -> str:
    """The lookup key for a package name within its ecosystem."""
    if ecosystem == Ecosystem.PYPI:
        return normalize_pypi(name)
    if ecosystem == Ecosystem.NPM:
        return normalize_npm(name)
    return name


def npm_exact_version(text: str) -> str | None:
    """The version if ``text`` pins exactly one npm version (``1.2.3``, ``=1.2.3``), else None."""
    match = NPM_EXACT.match(text.strip())
    return match.group("version") if match else None


def split_npm_spec(spec: str) -> tuple[str, str | None]:
    """Split ``@scope/pkg@^1`` into (``@scope/pkg``, ``^1``); the version part is None when absent.

    The separator is the first ``@`` after the name: for a scoped name that is the second ``@``.
    """
    start = 1 if spec.startswith("@") else 0
    at = spec.find("@", start)
    if at <= 0:
        return spec, None
    return spec[:at], spec[at + 1 :]


def npm_ref(spec_text: str) -> PackageRef:
    """The PackageRef an npm package spec (as given to npx, npm exec, dlx, bunx) asks for.

    No version or a range/tag is floating: ``version`` stays None and ``spec`` keeps the text
    (``latest`` when nothing was given, because that is what npm resolves).
    """
    text = spec_text.strip()
    if text.startswith("npm:"):  # deno and alias syntax: npm:pkg@ver
        text = text[4:]
    name, wanted = split_npm_spec(text)
    if wanted is None or wanted == "":
        return PackageRef(Ecosystem.NPM, normalize_npm(name), None, False, "latest")
    exact = npm_exact_version(wanted)
    if exact:
        return PackageRef(Ecosystem.NPM, normalize_npm(name), exact, True, wanted)
    return PackageRef(Ecosystem.NPM, normalize_npm(name), None, False, wanted)


def is_npm_non_registry(spec_text: str) -> bool:
    """True for git/URL/path specs, where the package name tells nothing about the code fetched."""
    text = spec_text.strip()
    if text.startswith(NPM_NON_REGISTRY_PREFIXES):
        return True
    # `user/repo` (GitHub shorthand) has a slash but no leading scope `@`.
    name, _ = split_npm_spec(text)
    return "/" in name and not name.startswith("@")


def pypi_ref(requirement: str) -> PackageRef | None:
    """The PackageRef a PEP 508 requirement (``pkg``, ``pkg==1.0``, ``pkg[cli]>=1``) or uv's
    ``pkg@1.0`` shorthand asks for; None when the text is not a requirement (a path, a URL).

    Only a single ``==X`` (no wildcard) or ``===X`` is exact; anything else floats.
    """
    text = requirement.strip()
    if not text or text.startswith(("git+", "http:", "https:", "file:", ".", "/", "~")):
        return None
    if "@" in text and not re.search(r"\s@\s|@\s*(?:git\+|https?:|file:)", text):
        # uv shorthand: `pkg@1.2.3`, `pkg@latest`
        name, _, wanted = text.partition("@")
        name = name.strip()
        wanted = wanted.strip()
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?", name):
            return None
        base = normalize_pypi(name.split("[", 1)[0])
        if wanted == "latest" or not wanted:
            return PackageRef(Ecosystem.PYPI, base, None, False, wanted or None)
        try:
            return PackageRef(Ecosystem.PYPI, base, str(Version(wanted)), True, f"=={wanted}")
        except InvalidVersion:
            return PackageRef(Ecosystem.PYPI, base, None, False, wanted)
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    if req.url:
        return PackageRef(Ecosystem.PYPI, normalize_pypi(req.name), None, False, req.url)
    specs = list(req.specifier)
    spec_text = str(req.specifier) or None
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return PackageRef(Ecosystem.PYPI, normalize_pypi(req.name), specs[0].version, True, spec_text)
    return PackageRef(Ecosystem.PYPI, normalize_pypi(req.name), None, False, spec_text)


def dist_info_name_version(dirname: str) -> tuple[str, str] | None:
    """(normalised name, version) from ``Name-1.0.dist-info``; None for anything else.

    Wheel installers escape ``-`` in names to ``_``, so the version starts after the last ``-``.
    """
    if not dirname.endswith(".dist-info"):
        return None
    stem = dirname[: -len(".dist-info")]
    name, sep, version = stem.rpartition("-")
    if not sep or not name or not version:
        return None
    return normalize_pypi(name), version
