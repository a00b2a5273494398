"""Decode the literals JavaScript malware hides its strings in, without running anything.

``Buffer.from("aHR0cHM6Ly9…", "base64").toString()``, ``atob("…")`` and
``String.fromCharCode(104, 116, 116, 112…)`` are how npm droppers keep a URL, a module name or
a shell command away from a grep. When every input is a literal the decoded text is fixed, so
we decode it here (bounded; nothing is evaluated) and the engine scans the result like any
other string. What gets decoded is only interesting when it is readable text: embedded fonts,
certificates and wasm blobs decode to binary and are left alone.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Final

from distrust.analyze import textscan

MAX_ENCODED_CHARS: Final = 64 * 1024
MAX_CHAR_CODES: Final = 4096
MIN_DECODED_CHARS: Final = 4

BUFFER_ENCODINGS: Final = frozenset({"base64", "base64url", "hex"})

# Decoded text worth a capability of its own: what nobody hides for a good reason.
NOTEWORTHY: Final = re.compile(
    r"(?i)\b(?:https?|wss?|ftp)://|\b\d{1,3}(?:\.\d{1,3}){3}\b|"
    r"\b(?:curl|wget|powershell|pwsh|cmd(?:\.exe)?\s*/c|bash\s+-c|sh\s+-c|invoke-webrequest|certutil|"
    r"bitsadmin|mshta|rundll32|regsvr32)\b|"
    r"\b(?:child_process|process\.env|execSync|spawnSync|eval|Function|require)\b|"
    r"(?:^|[\\/~])\.(?:ssh|npmrc|aws|env|git-credentials)\b|"
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|"
    r"\b(?:discord(?:app)?\.com/api/webhooks|api\.telegram\.org)"
)


def readable(data: bytes) -> str | None:
    """``data`` as text when it is printable UTF-8 (the Python analyser's test), else None."""
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(decoded) < MIN_DECODED_CHARS:
        return None
    return decoded if textscan.is_readable_text(decoded) else None


def from_buffer(value: str, encoding: str) -> str | None:
    """``Buffer.from(value, encoding).toString()`` for base64/base64url/hex, or None."""
    if len(value) > MAX_ENCODED_CHARS:
        return None
    encoding = encoding.lower()
    try:
        if encoding == "hex":
            data = bytes.fromhex(value)
        elif encoding in BUFFER_ENCODINGS:
            compact = re.sub(r"\s+", "", value).replace("-", "+").replace("_", "/")
            data = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        else:
            return None
    except (ValueError, binascii.Error):
        return None
    return readable(data)


def from_atob(value: str) -> str | None:
    """``atob(value)``: base64 to a latin-1 string; readable text only."""
    return from_buffer(value, "base64")


def from_char_codes(codes: list[int]) -> str | None:
    """``String.fromCharCode(...codes)`` for plausible code points, or None."""
    if not codes or len(codes) > MAX_CHAR_CODES or any(c < 0 or c > 0x10FFFF for c in codes):
        return None
    try:
        text = "".join(chr(c) for c in codes)
    except ValueError:
        return None
    return text if readable(text.encode("utf-8", "surrogatepass")) is not None else None


def noteworthy(decoded: str) -> bool:
    """True when hidden text names an endpoint, a command, a secret location or a risky API."""
    return NOTEWORTHY.search(decoded) is not None
