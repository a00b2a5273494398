"""OSV records: reading them defensively and deciding, exactly as the OSV spec says, what they affect.

The evaluation follows the pseudocode of the OSV schema's "Evaluation" section
(https://ossf.github.io/osv-schema/#evaluation): a version is affected when it is listed in
``affected[].versions`` or when any range includes it; a range walks its events sorted by
version (``introduced`` sets, ``fixed`` clears at and after, ``last_affected`` clears after) and
only counts while the version is below one of its ``limit`` events (none means no limit).
``introduced: "0"`` sorts before every version and a ``limit`` containing ``*`` is infinity.
Events naming the same version keep the record's own order (a stable sort), so the record's
timeline decides a tie.

Version orderings are a table (:data:`ORDERINGS`): ``SEMVER`` ranges use npm's SemVer 2.0.0
precedence whatever the ecosystem; ``ECOSYSTEM`` ranges use the ecosystem's own ordering (npm
semver for npm, PEP 440 for PyPI). An ordering we do not have, a version it cannot read, or a
malformed range never raises: that range does not match and the reason is returned, so a caller
can say "could not judge" instead of a silent "clean". ``GIT`` ranges need the repository and are
skipped, as the spec says the ``versions`` list is the way to match them.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from packaging.version import InvalidVersion, Version

from distrust.intel import npm_semver
from distrust.model import Advisory, Ecosystem


class IntelError(Exception):
    """Advisory data could not be read or imported; the message names the file or member and why."""


# --- version orderings ------------------------------------------------------------------------


class _Comparable(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...
    def __le__(self, other: Any, /) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...


@dataclass(frozen=True)
class Ordering:
    """How one kind of version string is parsed into something ``<``-comparable."""

    name: str
    parse: Callable[[str], _Comparable]  # raises ValueError for text it cannot read


def _npm_key(text: str) -> npm_semver.NpmVersion:
    """npm versions as npm reads them from a registry or a lockfile: strict first, then loose."""
    try:
        return npm_semver.parse(text)
    except npm_semver.InvalidVersionError:
        return npm_semver.parse(text, loose=True)


def _pep440_key(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion as exc:
        raise ValueError(str(exc)) from None


NPM_SEMVER = Ordering("npm semver", _npm_key)
PEP440 = Ordering("PEP 440", _pep440_key)

# Which ordering an ECOSYSTEM range uses, by OSV ecosystem name (the part before any ":").
ORDERINGS: Mapping[str, Ordering] = {
    Ecosystem.NPM: NPM_SEMVER,
    Ecosystem.PYPI: PEP440,
}
# SEMVER ranges are SemVer 2.0.0 in every ecosystem; npm's ordering implements its precedence.
SEMVER_ORDERING = NPM_SEMVER


def base_ecosystem(ecosystem: str) -> str:
    """``"Debian:12"`` -> ``"Debian"``: OSV scopes some ecosystems with a suffix."""
    return ecosystem.split(":", 1)[0].strip()


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# How package names compare, per ecosystem: PyPI treats runs of "-_." and case as equal (PEP
# 503); npm names are exact (new names are lowercase; legacy mixed-case names such as
# "JSONStream" are distinct packages from their lowercase look-alikes, so folding case would
# attach one package's advisories to another).
NAME_NORMALISERS: Mapping[str, Callable[[str], str]] = {
    Ecosystem.PYPI: _pep503,
}


def normalise_name(ecosystem: str, name: str) -> str:
    """The form of ``name`` under which two spellings of one package compare equal."""
    normaliser = NAME_NORMALISERS.get(base_ecosystem(ecosystem))
    stripped = name.strip()
    return normaliser(stripped) if normaliser else stripped


def package_key(ecosystem: str, name: str) -> str:
    """The index key for a package: ecosystem and normalised name."""
    return f"{base_ecosystem(ecosystem)}:{normalise_name(ecosystem, name)}"


# --- the record model -------------------------------------------------------------------------

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


@dataclass(frozen=True)
class OsvEvent:
    kind: str  # one of EVENT_KINDS
    version: str


@dataclass(frozen=True)
class OsvRange:
    type: str  # "SEMVER" | "ECOSYSTEM" | "GIT" | anything a newer schema adds
    events: tuple[OsvEvent, ...]
    problem: str | None = None  # why this range cannot be evaluated, found while reading it


@dataclass(frozen=True)
class OsvAffected:
    ecosystem: str
    name: str
    purl: str | None
    ranges: tuple[OsvRange, ...]
    versions: tuple[str, ...]


@dataclass(frozen=True)
class Ioc:
    """An indicator of compromise an advisory names: something to hunt for in mail and logs."""

    value: str
    kind: str  # "email" | "domain" | "account" | "url"
    advisory_id: str


@dataclass(frozen=True)
class OsvRecord:
    id: str
    modified: str
    summary: str
    details: str
    aliases: tuple[str, ...]
    affected: tuple[OsvAffected, ...]
    published: str | None = None
    withdrawn: str | None = None
    severity: str | None = None
    malicious: bool = False
    iocs: tuple[Ioc, ...] = ()
    source_url: str | None = None  # database_specific.source, our bundled records' provenance

    def to_advisory(self, source: str) -> Advisory:
        return Advisory(
            id=self.id,
            summary=self.summary or self.details.strip().split("\n", 1)[0][:200],
            aliases=self.aliases,
            modified=self.modified,
            source=source,
            malicious=self.malicious,
            severity=self.severity,
        )


# IOC lists in database_specific.iocs, by key: the OpenSSF malicious-packages records use
# {"domains": [...], "urls": [...]}; our bundled records use the same shape and add "emails"
# and "accounts" (publisher accounts). Keys not listed here (ips, hashes) are not kinds we hunt.
IOC_KEYS: Mapping[str, str] = {
    "emails": "email",
    "email": "email",
    "domains": "domain",
    "domain": "domain",
    "urls": "url",
    "url": "url",
    "accounts": "account",
    "account": "account",
    "publishers": "account",
}

# Signals that a record describes malware rather than a vulnerability: (where, pattern, why).
MALWARE_SIGNALS: tuple[tuple[str, str, str], ...] = (
    ("id", r"^MAL-", "OpenSSF malicious-packages ids start with MAL-"),
    ("alias", r"^MAL-", "a record aliased to a malicious-packages entry"),
    ("cwe", r"^CWE-506$", "CWE-506 is 'Embedded Malicious Code' (GitHub malware advisories)"),
    ("summary", r"(?i)\bmalicious (code|package|version)|\bmalware\b", "the summary says so"),
    ("database_specific", r"^malicious-packages-origins$", "record imported by malicious-packages"),
)


def _fail(origin: str, field: str, why: str) -> IntelError:
    return IntelError(f"{origin}: field {field!r} {why}")


def _opt_str(obj: Mapping[str, Any], key: str, origin: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(origin, f"{where}{key}", f"must be a string, got {type(value).__name__}")
    return value


def _str_list(value: Any, origin: str, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(origin, field, "must be a list of strings")
    return tuple(value)


def _parse_range(raw: Any, origin: str, where: str) -> OsvRange:
    if not isinstance(raw, Mapping):
        raise _fail(origin, where, "must be an object")
    rtype = raw.get("type")
    if not isinstance(rtype, str):
        raise _fail(origin, f"{where}.type", "is required and must be a string")
    raw_events = raw.get("events")
    if not isinstance(raw_events, list):
        return OsvRange(rtype, (), problem=f"{where}.events is missing or not a list")
    events: list[OsvEvent] = []
    problem: str | None = None
    for n, raw_event in enumerate(raw_events):
        keys = [k for k in EVENT_KINDS if isinstance(raw_event, Mapping) and k in raw_event]
        if len(keys) != 1 or not isinstance(raw_event[keys[0]], str):
            problem = problem or f"{where}.events[{n}] must hold exactly one of {', '.join(EVENT_KINDS)}"
            continue
        events.append(OsvEvent(keys[0], raw_event[keys[0]]))
    if problem is None and not any(e.kind == "introduced" for e in events):
        problem = f"{where}.events has no 'introduced' event"
    return OsvRange(rtype, tuple(events), problem)


def _parse_affected(raw: Any, origin: str, where: str) -> OsvAffected | None:
    if not isinstance(raw, Mapping):
        raise _fail(origin, where, "must be an object")
    package = raw.get("package")
    if package is None:
        return None  # allowed by the schema for non-package (e.g. GIT-only) entries
    if not isinstance(package, Mapping):
        raise _fail(origin, f"{where}.package", "must be an object")
    ecosystem = _opt_str(package, "ecosystem", origin, f"{where}.package.")
    name = _opt_str(package, "name", origin, f"{where}.package.")
    if not ecosystem or not name:
        raise _fail(origin, f"{where}.package", "needs both 'ecosystem' and 'name'")
    raw_ranges = raw.get("ranges") or []
    if not isinstance(raw_ranges, list):
        raise _fail(origin, f"{where}.ranges", "must be a list")
    ranges = tuple(_parse_range(r, origin, f"{where}.ranges[{i}]") for i, r in enumerate(raw_ranges))
    return OsvAffected(
        ecosystem=ecosystem,
        name=name,
        purl=_opt_str(package, "purl", origin, f"{where}.package."),
        ranges=ranges,
        versions=_str_list(raw.get("versions"), origin, f"{where}.versions"),
    )


def _severity(data: Mapping[str, Any]) -> str | None:
    db = data.get("database_specific")
    if isinstance(db, Mapping) and isinstance(db.get("severity"), str):
        return str(db["severity"]).lower()
    entries = data.get("severity")
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, Mapping) and isinstance(entry.get("score"), str):
                return str(entry["score"])
    return None


def _iocs(record_id: str, data: Mapping[str, Any]) -> tuple[Ioc, ...]:
    db = data.get("database_specific")
    raw = db.get("iocs") if isinstance(db, Mapping) else None
    found: list[Ioc] = []
    if isinstance(raw, Mapping):
        for key, values in raw.items():
            kind = IOC_KEYS.get(str(key).lower())
            if kind and isinstance(values, list):
                found.extend(
                    Ioc(v.strip(), kind, record_id) for v in values if isinstance(v, str) and v.strip()
                )
    elif isinstance(raw, list):  # [{"kind": "email", "value": "..."}]
        for item in raw:
            if isinstance(item, Mapping):
                kind = IOC_KEYS.get(str(item.get("kind", item.get("type", ""))).lower() + "s")
                value = item.get("value")
                if kind and isinstance(value, str) and value.strip():
                    found.append(Ioc(value.strip(), kind, record_id))
    return tuple(dict.fromkeys(found))


def _is_malicious(record_id: str, aliases: tuple[str, ...], summary: str, data: Mapping[str, Any]) -> bool:
    cwes: list[str] = []
    db = data.get("database_specific")
    db_keys = list(db.keys()) if isinstance(db, Mapping) else []
    if isinstance(db, Mapping):
        cwes += [c for c in db.get("cwe_ids") or [] if isinstance(c, str)]
    for affected in data.get("affected") or []:
        adb = affected.get("database_specific") if isinstance(affected, Mapping) else None
        if isinstance(adb, Mapping):
            for cwe in adb.get("cwes") or []:
                if isinstance(cwe, Mapping) and isinstance(cwe.get("cweId"), str):
                    cwes.append(cwe["cweId"])
    candidates = {
        "id": [record_id],
        "alias": list(aliases),
        "cwe": cwes,
        "summary": [summary],
        "database_specific": db_keys,
    }
    return any(
        re.search(pattern, text) for where, pattern, _why in MALWARE_SIGNALS for text in candidates[where]
    )


def parse_record(data: Any, origin: str) -> OsvRecord:
    """Read one OSV record, or raise :class:`IntelError` naming ``origin`` and the bad field.

    Structural errors (not an object, no ``id``/``modified``, wrong types) reject the record;
    a malformed range is kept with its ``problem`` so matching can report it.
    """
    if not isinstance(data, Mapping):
        raise IntelError(f"{origin}: an OSV record must be a JSON object, got {type(data).__name__}")
    record_id = _opt_str(data, "id", origin, "")
    if not record_id:
        raise _fail(origin, "id", "is required and must be a non-empty string")
    modified = _opt_str(data, "modified", origin, "")
    if not modified:
        raise _fail(origin, "modified", "is required and must be a non-empty string")
    raw_affected = data.get("affected") or []
    if not isinstance(raw_affected, list):
        raise _fail(origin, "affected", "must be a list")
    affected = tuple(
        a for i, raw in enumerate(raw_affected) if (a := _parse_affected(raw, origin, f"affected[{i}]"))
    )
    aliases = _str_list(data.get("aliases"), origin, "aliases")
    summary = _opt_str(data, "summary", origin, "") or ""
    db = data.get("database_specific")
    source_url = db.get("source") if isinstance(db, Mapping) and isinstance(db.get("source"), str) else None
    return OsvRecord(
        id=record_id,
        modified=modified,
        summary=summary,
        details=_opt_str(data, "details", origin, "") or "",
        aliases=aliases,
        affected=affected,
        published=_opt_str(data, "published", origin, ""),
        withdrawn=_opt_str(data, "withdrawn", origin, ""),
        severity=_severity(data),
        malicious=_is_malicious(record_id, aliases, summary, data),
        iocs=_iocs(record_id, data),
        source_url=source_url,
    )


# --- evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Whether a record affects a version, and why parts of it could not be judged."""

    affected: bool
    unjudged: tuple[str, ...] = ()


class _Infinity:
    """The ``limit: "*"`` version: above everything."""

    def __lt__(self, other: Any) -> bool:
        return False

    def __gt__(self, other: Any) -> bool:
        return not isinstance(other, _Infinity)


def _ordering_for(range_type: str, ecosystem: str) -> Ordering | None:
    if range_type == "SEMVER":
        return SEMVER_ORDERING
    if range_type == "ECOSYSTEM":
        return ORDERINGS.get(base_ecosystem(ecosystem))
    return None


# Events that end a vulnerable stretch, and when: "fixed" at and after its version (fixed <= v),
# "last_affected" only after it (last_affected < v). "limit" is handled before the walk.
_CLEARS: Mapping[str, Callable[[Any, Any], bool]] = {"fixed": operator.le, "last_affected": operator.lt}


def range_includes(rng: OsvRange, version: _Comparable, ordering: Ordering) -> bool:
    """The spec's ``BeforeLimits`` and event walk for one range; ValueError if an event is unreadable."""
    keyed: list[tuple[_Comparable | None, OsvEvent]] = []  # None: introduced "0", before all
    limits: list[Any] = []
    for event in rng.events:
        if event.kind == "introduced" and event.version == "0":
            keyed.append((None, event))
        elif event.kind == "limit" and "*" in event.version:
            limits.append(_Infinity())
        else:
            key = ordering.parse(event.version)
            keyed.append((key, event))
            if event.kind == "limit":
                limits.append(key)
    if limits and not any(version < limit for limit in limits):
        return False
    # Stable sort: "0" first, then by version; equal versions keep the record's order.
    bottom = [item for item in keyed if item[0] is None]
    rest = [item for item in keyed if item[0] is not None]
    rest.sort(key=_SortKey.of)
    vulnerable = False
    for event_key, event in bottom + rest:
        if event.kind == "introduced":
            if event_key is None or event_key <= version:
                vulnerable = True
        elif event_key is None:
            continue
        elif event.kind in _CLEARS and _CLEARS[event.kind](event_key, version):
            vulnerable = False
    return vulnerable


class _SortKey:
    """Wraps a parsed version so ``list.sort`` can use it without requiring ``__gt__``."""

    __slots__ = ("key",)

    def __init__(self, key: _Comparable) -> None:
        self.key = key

    @classmethod
    def of(cls, item: tuple[_Comparable | None, OsvEvent]) -> _SortKey:
        assert item[0] is not None
        return cls(item[0])

    def __lt__(self, other: _SortKey) -> bool:
        return bool(self.key < other.key)


def affected_entry_includes(entry: OsvAffected, version: str) -> Verdict:
    """``IncludedInVersions || IncludedInRanges`` for one ``affected[]`` entry."""
    unjudged: list[str] = []
    ordering = ORDERINGS.get(base_ecosystem(entry.ecosystem))
    parsed: _Comparable | None = None
    if ordering is not None:
        try:
            parsed = ordering.parse(version)
        except ValueError:
            parsed = None
    for listed in entry.versions:
        if listed == version:
            return Verdict(True)
        if parsed is not None and ordering is not None:
            try:
                if ordering.parse(listed) == parsed:
                    return Verdict(True)
            except ValueError:
                continue
    for rng in entry.ranges:
        if rng.type == "GIT":
            continue
        if rng.problem:
            unjudged.append(rng.problem)
            continue
        range_ordering = _ordering_for(rng.type, entry.ecosystem)
        if range_ordering is None:
            unjudged.append(f"no {rng.type} version ordering for ecosystem {entry.ecosystem!r}")
            continue
        try:
            key = range_ordering.parse(version)
        except ValueError:
            unjudged.append(f"version {version!r} is not a valid {range_ordering.name} version")
            continue
        try:
            if range_includes(rng, key, range_ordering):
                return Verdict(True)
        except ValueError as exc:
            unjudged.append(f"a {rng.type} range has an unreadable version ({exc})")
    return Verdict(False, tuple(unjudged))


def record_affects(record: OsvRecord, ecosystem: str, name: str, version: str) -> Verdict:
    """The spec's ``IsVulnerable``: does ``record`` affect ``name`` at ``version``?

    Withdrawn records affect nothing. Reasons why some range could not be judged are returned
    with a negative answer, each prefixed with the record id.
    """
    if record.withdrawn:
        return Verdict(False)
    wanted = package_key(ecosystem, name)
    unjudged: list[str] = []
    for entry in record.affected:
        if package_key(entry.ecosystem, entry.name) != wanted:
            continue
        verdict = affected_entry_includes(entry, version)
        if verdict.affected:
            return Verdict(True)
        unjudged.extend(f"{record.id}: {why}" for why in verdict.unjudged)
    return Verdict(False, tuple(unjudged))


def names_package(record: OsvRecord, ecosystem: str, name: str) -> bool:
    """True when any ``affected[]`` entry of the record is this package, whatever the version."""
    wanted = package_key(ecosystem, name)
    return any(package_key(a.ecosystem, a.name) == wanted for a in record.affected)
