"""The Risk Engine over our fixture packages: each attack shape caught, each benign change quiet.

The fixtures (see tests/fixtures/packages/README.md) are our own code. Nothing here runs them;
it only fetches them as local directories (or from a local registry) and analyses them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from npm_registry import running_registry

from distrust.model import Severity
from distrust.pipeline.risk import FetchOptions, run_diff, run_inspect

PACKAGES = Path(__file__).parents[1] / "fixtures" / "packages"
OFFLINE = FetchOptions(metadata=False)

# (package, old, new, minimum level of the diff, a rule that must fire)
ATTACKS = [
    ("postmark-mcp", "1.0.15", "1.0.16", Severity.CRITICAL, "DT-RISK-003"),
    ("weather-mcp", "1.2.0", "1.2.1", Severity.CRITICAL, "DT-RISK-015"),
    ("notes-mcp", "2.0.0", "2.0.1", Severity.CRITICAL, "DT-RISK-034"),
    ("color-tools", "3.1.0", "3.1.1", Severity.HIGH, "DT-RISK-023"),
    ("py-probe", "0.1.0", "0.1.1", Severity.CRITICAL, "DT-RISK-012"),
]


@pytest.mark.parametrize(("name", "old", "new", "level", "rule"), ATTACKS)
def test_attack_upgrades_are_caught(name: str, old: str, new: str, level: Severity, rule: str) -> None:
    result = run_diff(str(PACKAGES / name / old), str(PACKAGES / name / new), OFFLINE)
    assert result.assessment.level >= level, [f.title for f in result.assessment.findings]
    assert rule in {f.rule_id for f in result.assessment.findings}
    for finding in result.assessment.findings:
        assert finding.detail and finding.evidence, finding


@pytest.mark.parametrize(("name", "old", "new", "level", "rule"), ATTACKS)
def test_attack_versions_are_caught_on_their_own(
    name: str, old: str, new: str, level: Severity, rule: str
) -> None:
    """A brand-new package, or the first version anyone sees, is judged without a baseline."""
    assert run_inspect(str(PACKAGES / name / new), OFFLINE).assessment.level >= Severity.HIGH
    assert run_inspect(str(PACKAGES / name / old), OFFLINE).assessment.level <= Severity.LOW


def test_refactor_stays_quiet() -> None:
    result = run_diff(str(PACKAGES / "text-utils/1.0.0"), str(PACKAGES / "text-utils/1.0.1"), OFFLINE)
    assert result.assessment.level <= Severity.LOW, [f.title for f in result.assessment.findings]
    assert result.new_version.level <= Severity.LOW


def test_new_dependency_with_install_hook_is_looked_up_in_the_registry() -> None:
    with running_registry() as registry:
        registry.publish(PACKAGES / "fancy-logger/2.0.0")
        opts = FetchOptions(npm_registry=registry.url)
        result = run_diff(str(PACKAGES / "files-mcp/1.0.0"), str(PACKAGES / "files-mcp/1.1.0"), opts)
    assert result.assessment.level >= Severity.HIGH
    finding = next(f for f in result.assessment.findings if f.rule_id == "DT-RISK-052")
    assert "fancy-logger@2.0.0" in finding.title and "postinstall" in finding.title
    # Without the registry the dependency cannot be judged, and the report says so.
    with running_registry() as empty:
        quiet = run_diff(
            str(PACKAGES / "files-mcp/1.0.0"),
            str(PACKAGES / "files-mcp/1.1.0"),
            FetchOptions(npm_registry=empty.url),
        )
    assert quiet.assessment.level <= Severity.LOW
    assert any("fancy-logger" in n.message for n in quiet.notices)
