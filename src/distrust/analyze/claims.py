"""What a package says about itself: "proof of concept", "dependency confusion", "malicious".

A large share of real registry malware announces itself. Dependency-confusion probes publish
an internal-sounding name at version 99.x and write "Security research - dependency confusion
PoC" in the summary, with an author address at a bug-bounty platform; demo "malicious
packages" say so in the README. Whatever the author's intent, such a package runs a
stranger's code on the machine of whoever installs it by mistake, and often sends that
machine's user and host name somewhere. Nobody needs it in an MCP server's dependency tree.

Every pattern is a self-description, not a mention: security scanners also talk about
dependency confusion and malicious packages ("detects typosquats", "protects against
dependency confusion"), and placeholder packages that companies register to *prevent*
confusion say so. A sentence with a defensive verb near the phrase does not count.

The scan reads the metadata files (summary, description, author fields) and top-level
README files as plain text; nothing is parsed or executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

from distrust.analyze import relpath
from distrust.model import Capability

KIND: Final = "metadata.self_declared"


@dataclass(frozen=True)
class Claim:
    """One way a package declares itself a probe or a malware demo.

    ``anywhere`` claims are also read in READMEs and long descriptions; the others only in the
    metadata fields a package sets about itself (summary, description, author), because
    READMEs of ordinary projects say "proof of concept" or "a malicious package" about other
    things all the time.
    """

    id: str
    pattern: re.Pattern[str]
    meaning: str
    anywhere: bool = False


_POC = r"(poc|proof[\s-]*of[\s-]*concept)"

CLAIMS: Final[tuple[Claim, ...]] = (
    Claim(
        "dependency-confusion",
        re.compile(
            r"\bdependency[\s_-]*confusion\b[^.\n]{0,60}?\b(poc|proof[\s-]*of[\s-]*concept|test(ing)?|research|"
            r"demo|exploit|payload|placeholder|attack|vulnerabilit(y|ies)|finding)\b"
            r"|\b(poc|proof[\s-]*of[\s-]*concept|test(ing)?|research|demo|exploit|payload)\b[^.\n]{0,40}?"
            r"\bdependency[\s_-]*confusion\b",
            re.IGNORECASE,
        ),
        "describes itself as a dependency-confusion test",
        anywhere=True,
    ),
    Claim(
        "bug-bounty-address",
        re.compile(
            r"[\w.+-]+@(wearehackerone\.com|bugcrowdninja\.com|intigriti\.me|yeswehack\.ninja)\b",
            re.IGNORECASE,
        ),
        "is published under a bug-bounty researcher's address",
        anywhere=True,
    ),
    Claim(
        "security-poc",
        re.compile(
            rf"\b(security|pentest(ing)?|penetration[\s-]*test(ing)?|red[\s-]*team|bug[\s-]*bounty)\b"
            rf"[\w\s-]{{0,24}}?\b{_POC}\b"
            rf"|\b{_POC}\s+(for|of|to\s+demonstrate|demonstrating)\s+(an?\s+|the\s+)?(rce\b|remote\s+code|"
            r"exploit|vulnerabilit|cve-\d{4}|supply[\s-]*chain\s+attack|security\s+(test|research|issue))"
            rf"|^\s*(summary|description)\s*[:=]\s*[\"']?\s*{_POC}\s*\.?\s*[\"']?\s*,?\s*$",
            re.IGNORECASE | re.MULTILINE,
        ),
        "describes itself as a security proof of concept",
    ),
    Claim(
        "authorised-testing",
        re.compile(
            r"\b(authori[sz]ed|approved)\s+(security\s+|penetration\s+|pen)?(test(ing)?|pentest(ing)?)\b",
            re.IGNORECASE,
        ),
        "describes itself as a penetration-test package",
    ),
    Claim(
        "malware-demo",
        re.compile(
            # the description opens with it ("A malicious package for…") or says "this is …"
            r"(?:^|[:=]\s*[\"']?\s*|\b(?:is|am|are)\s+)(?:a\s+|an\s+|this\s+|the\s+)?(?:test\s+|demo\s+|sample\s+)?"
            r"(?:malicious|evil)\s+(?:pip\s+|pypi\s+|npm\s+)?(?:package|module|library|file|code)\b"
            r"|\b(reverse|bind)\s+shell\s+(script|package|payload)\b",
            re.IGNORECASE | re.MULTILINE,
        ),
        "describes itself as malicious",
    ),
)

# A defensive or analytical verb near the phrase turns a self-description into a mention.
DEFENSIVE: Final = re.compile(
    r"\b(prevent(s|ing)?|protect(s|ing|ion)?|against|avoid(s|ing)?|detect(s|ing|ion|or)?|scan(s|ning|ner)?|"
    r"check(s|ing|er)?|find(s|ing)?|identif(y|ies|ying)|audit\w*|defen[cs]e|mitigat\w*|reserv(e|ed|ing)|"
    r"block(s|ing)?)\b",
    re.IGNORECASE,
)
DEFENSIVE_WINDOW: Final = 80

MAX_TEXT: Final = 64 * 1024
"""Only the head of a README is read: self-descriptions sit at the top."""

METADATA_FILES: Final = frozenset(
    {"PKG-INFO", "METADATA", "setup.py", "setup.cfg", "pyproject.toml", "package.json"}
)
README_STEMS: Final = frozenset({"readme", "description"})


def is_claim_source(path: str) -> bool:
    """Metadata files anywhere in the package's own tree, and README files at depth ≤ 2."""
    parts = relpath.parts(path)  # asked of every file of a package: strings, not PurePosixPath
    if "node_modules" in parts or not parts:
        return False
    name = parts[-1]
    if name in METADATA_FILES:
        return True
    return len(parts) <= 2 and relpath.stem(name).lower() in README_STEMS


def metadata_part(path: str, text: str) -> str:
    """The part of a file where a package describes itself (not its README).

    PKG-INFO/METADATA carry the README as the body after the headers; READMEs themselves carry
    none. setup.py, setup.cfg, pyproject.toml and package.json are all self-description.
    """
    name = PurePosixPath(path).name
    if name in ("PKG-INFO", "METADATA"):
        return re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    return text if name in METADATA_FILES else ""


def scan_claims(path: str, text: str) -> list[Capability]:
    """``metadata.self_declared`` capabilities for each claim found in ``text`` (first hit per claim)."""
    text = text[:MAX_TEXT]
    own = metadata_part(path, text)
    found: list[Capability] = []
    for claim in CLAIMS:
        for match in claim.pattern.finditer(text if claim.anywhere else own):
            start = max(0, match.start() - DEFENSIVE_WINDOW)
            around = text[start : match.end() + DEFENSIVE_WINDOW]
            if claim.id != "bug-bounty-address" and DEFENSIVE.search(around):
                continue
            line = text.count("\n", 0, match.start()) + 1
            phrase = " ".join(match.group(0).split()).lstrip(":=\"' ")[:120]
            snippet = " ".join(text.splitlines()[line - 1].split())[:200] if text else ""
            found.append(Capability(KIND, f"{claim.id}: {phrase}", path, line, snippet))
            break
    return found
