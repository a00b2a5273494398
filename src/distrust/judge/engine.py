"""Run the configuration rules over resolved servers and turn hits into Findings.

The engine owns the three policies every rule shares, so no check has to re-implement them:

* **dedup**: all hits of one rule on one server (same client, config file and entry name)
  become a single Finding whose evidence, advisories and detail aggregate the hits;
* **escalation**: the severity is the rule's base severity raised by the ``escalate`` entries
  of rules.toml whose condition a hit reported;
* **supersession**: when a rule fires that ``supersedes`` others (no safe version exists, so
  "pin a version" is wrong advice), their findings for that server are dropped;

and one guarantee: every text in a Finding, including the attached ServerSpec, passes
through the secret scrubber, so a secret value can never reach a report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from distrust.judge.checks import CHECKS, CheckContext, Hit, HostContext, command_line_of, entry_evidence
from distrust.judge.fields import command_line, display_path
from distrust.judge.lookup import AdvisoryLookup
from distrust.judge.rules import BASE_PARAMS, Rule, RuleSet, load_rules
from distrust.judge.secrets import SecretHit, find_secrets, is_secret_key, redacted_spec, scrub
from distrust.model import Evidence, Finding, PackageRef, ResolvedServer, ServerSpec

ServerKey = tuple[str, str, str]


@dataclass
class _Group:
    """The hits of one rule on one server, in the order they were found."""

    rule: Rule
    server: ResolvedServer
    hits: list[Hit] = field(default_factory=list)


def server_key(server: ResolvedServer) -> ServerKey:
    """Identity of a server entry for dedup: the same entry read twice is one server."""
    spec = server.spec
    return (spec.client, str(spec.config_path), spec.name)


def check_servers(
    servers: Sequence[ResolvedServer],
    intel: AdvisoryLookup,
    *,
    rules: RuleSet | None = None,
    host: HostContext | None = None,
) -> tuple[Finding, ...]:
    """Judge every server against every rule; findings come in server order, then rule order.

    ``rules`` may be a subset (``RuleSet.only``/``without``); ``host`` replaces facts about
    this machine (shared temp dirs, uid, home) for tests and for scanning another user's files.
    """
    ruleset = rules if rules is not None else load_rules()
    context = CheckContext(intel=intel, host=host or HostContext.current(), iocs=tuple(intel.iocs()))
    groups: dict[tuple[ServerKey, str], _Group] = {}
    for server in servers:
        key = server_key(server)
        for rule in ruleset:
            check = CHECKS.get(rule.id)
            if check is None:
                continue  # a custom RuleSet may carry ids this build has no check for
            for hit in check.run(server, context):
                group = groups.setdefault((key, rule.id), _Group(rule, server))
                group.hits.append(hit)
    fired: dict[ServerKey, set[str]] = {}
    for skey, rule_id in groups:
        fired.setdefault(skey, set()).add(rule_id)
    findings: list[Finding] = []
    for (skey, rule_id), group in groups.items():
        superseded_by = [r for r in fired[skey] if rule_id in ruleset.get(r).supersedes]
        if superseded_by:
            continue
        findings.append(_finding(group, context))
    return tuple(findings)


def _finding(group: _Group, context: CheckContext) -> Finding:
    rule, server = group.rule, group.server
    secrets = find_secrets(server.spec)
    safe_spec = redacted_spec(server.spec, secrets)
    params = _base_params(server, safe_spec, context)
    merged: dict[str, list[str]] = {}
    for hit in group.hits:
        for name, value in hit.params:
            values = merged.setdefault(name, [])
            if value and value not in values:
                values.append(value)
    for name in CHECKS[rule.id].params:
        params[name] = ""
    params.update({name: ", ".join(values) for name, values in merged.items()})
    conditions = frozenset[str]().union(*(h.conditions for h in group.hits))
    evidence: list[Evidence] = []
    found = [e for h in group.hits for e in h.evidence]
    if not any(e.file == str(server.spec.config_path) for e in found):
        # Every finding points at the server's entry first, even when the hits are about files
        # elsewhere (an npx cache copy): that entry is what the user has to change.
        found.insert(0, entry_evidence(server, command_line_of(server)))
    for ev in found:
        clean = dataclasses.replace(ev, snippet=scrub(ev.snippet, secrets) if ev.snippet else ev.snippet)
        if clean not in evidence:
            evidence.append(clean)
    facts = list(dict.fromkeys(h.fact for h in group.hits))
    detail = "; ".join(facts)
    detail += "" if detail.endswith(".") else "."
    advisories = tuple(dict.fromkeys(a for h in group.hits for a in h.advisories))
    package = next((h.package for h in group.hits if h.package is not None), server.package)
    return Finding(
        rule_id=rule.id,
        severity=rule.severity_for(conditions),
        title=scrub(rule.title.format_map(params), secrets),
        detail=scrub(detail, secrets),
        remediation=scrub(rule.remediation.format_map(params), secrets),
        server=safe_spec,
        package=_clean_ref(package, secrets),
        advisories=advisories,
        evidence=tuple(evidence),
    )


def _base_params(server: ResolvedServer, safe_spec: ServerSpec, context: CheckContext) -> dict[str, str]:
    """Placeholders every rule may use; values come from the redacted spec where text is shown."""
    spec = server.spec
    pkg = server.package
    env_keys = [k for k in spec.env_keys if is_secret_key(k)] or list(spec.env_keys)
    header_keys = [k for k, _ in spec.headers if is_secret_key(k)]
    named = [
        f"{label}: {', '.join(dict.fromkeys(keys))}"
        for label, keys in (("env keys", env_keys), ("headers", header_keys))
        if keys
    ]
    if named:
        credentials = f"rotate the server's credentials ({'; '.join(named)})"
    else:
        credentials = "rotate any credentials the server could read"
    params = {
        "server": spec.name,
        "client": spec.client,
        "config": display_path(spec.config_path, context.host.home),
        "package": str(pkg) if pkg else spec.name,
        "name": pkg.name if pkg else spec.name,
        "command": command_line(safe_spec),
        "credentials": credentials,
    }
    assert set(params) == BASE_PARAMS
    return params


def _clean_ref(ref: PackageRef | None, secrets: tuple[SecretHit, ...]) -> PackageRef | None:
    """Package names and specs come from the config too; a pasted token there must not leak."""
    if ref is None:
        return None
    return dataclasses.replace(
        ref,
        name=scrub(ref.name, secrets),
        version=scrub(ref.version, secrets) if ref.version else ref.version,
        spec=scrub(ref.spec, secrets) if ref.spec else ref.spec,
    )
