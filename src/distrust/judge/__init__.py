"""judge stage: turn what discover/resolve found into Findings, using advisories and rules.

``check_servers`` runs the configuration rules of ``distrust scan``; the rules themselves are
data in ``rules.toml`` (``load_rules``), and the advisory store is reached only through the
small ``AdvisoryLookup`` protocol so the judge does not depend on how ``intel`` works.
"""

from distrust.judge.adapter import RecordStore, StoreLookup
from distrust.judge.checks import CHECKS, Check, CheckContext, Hit, HostContext
from distrust.judge.engine import check_servers
from distrust.judge.lookup import AdvisoryLookup, IocLike
from distrust.judge.rules import Escalation, Rule, RuleLoadError, RuleSet, load_rules, parse_rules
from distrust.judge.secrets import SecretHit, find_secrets, redact, redacted_spec, scrub

__all__ = [
    "CHECKS",
    "AdvisoryLookup",
    "Check",
    "CheckContext",
    "Escalation",
    "Hit",
    "HostContext",
    "IocLike",
    "RecordStore",
    "Rule",
    "RuleLoadError",
    "RuleSet",
    "SecretHit",
    "StoreLookup",
    "check_servers",
    "find_secrets",
    "load_rules",
    "parse_rules",
    "redact",
    "redacted_spec",
    "scrub",
]
