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

from distrust.model import Capability

KIND: Final = "metadata.self_declared"


@dataclass(frozen=True)
class Claim:
    """One way a package declares itself a probe or a malware demo."""

    id: str
    pattern: re.Pattern[str]
    meaning: str


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
    ),
    Claim(
        "security-poc",
        re.compile(
            r"\b(security|pentest(ing)?|penetration|red[\s-]*team|bug[\s-]*bounty|vulnerability|rce)\b[^.\n]{0,40}?"
            r"\b(poc|proof[\s-]*of[\s-]*concept)\b"
            r"|\b(poc|proof[\s-]*of[\s-]*concept)\b[^.\n]{0,40}?\b(security|pentest|bug[\s-]*bounty|exploit|rce|"
            r"vulnerabilit(y|ies))\b",
            re.IGNORECASE,
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
        "bug-bounty-address",
        re.compile(
            r"[\w.+-]+@(wearehackerone\.com|bugcrowdninja\.com|intigriti\.me|yeswehack\.ninja)\b",
            re.IGNORECASE,
        ),
        "is published under a bug-bounty researcher's address",
    ),
    Claim(
        "malware-demo",
        re.compile(
            r"\b(a|this|the)\s+(test\s+|demo\s+|sample\s+)?(malicious|evil)\s+(pip\s+|pypi\s+|npm\s+)?"
            r"(package|module|library|file|code)\b(?![^.\n]{0,30}\b(scanner|detector|detection)\b)"
            r"|\b(reverse|bind)\s+shell\s+(script|package|payload)\b",
            re.IGNORECASE,
        ),
        "describes itself as malicious",
    ),
)

# A defensive or analytical verb near the phrase turns a self-description into a mention.
DEFENSIVE: Final = re.compile(
    r"\b(prevent(s|ing)?|protect(s|ing|ion)?|against|avoid(s|ing)?|detect(s|ing|ion|or)?|scan(s|ning|ner)?|"
    r"check(s|ing|er)?|find(s|ing)?|identif(y|ies|ying)|audit(s|ing)?|defen[cs]e|mitigat\w*|reserv(e|ed|ing)|"
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
    parts = PurePosixPath(path).parts
    if "node_modules" in parts or not parts:
        return False
    name = parts[-1]
    if name in METADATA_FILES:
        return True
    return len(parts) <= 2 and PurePosixPath(name).stem.lower() in README_STEMS


def scan_claims(path: str, text: str) -> list[Capability]:
    """``metadata.self_declared`` capabilities for each claim found in ``text`` (first hit per claim)."""
    text = text[:MAX_TEXT]
    found: list[Capability] = []
    for claim in CLAIMS:
        for match in claim.pattern.finditer(text):
            start = max(0, match.start() - DEFENSIVE_WINDOW)
            around = text[start : match.end() + DEFENSIVE_WINDOW]
            if claim.id != "bug-bounty-address" and DEFENSIVE.search(around):
                continue
            line = text.count("\n", 0, match.start()) + 1
            phrase = " ".join(match.group(0).split())[:120]
            snippet = " ".join(text.splitlines()[line - 1].split())[:200] if text else ""
            found.append(Capability(KIND, f"{claim.id}: {phrase}", path, line, snippet))
            break
    return found
