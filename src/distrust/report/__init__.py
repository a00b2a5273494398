"""Report stage: render findings as text, one module per format.

Reports never decide anything; each is a pure function from a result to text, and every format
renders the same findings in the same order. Two families share the helpers in ``common``:
the scan report (:class:`~distrust.model.ScanResult` → :data:`FORMATS`, :func:`render`) and
the Risk Engine report for ``inspect``/``diff``/``history`` (→ :data:`RISK_FORMATS`,
:func:`render_risk`). The terminal tables (``report.table.render_table``,
``report.risk_table.render_risk_table``) print to a rich console instead of returning text,
so they are not in the format maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from distrust.model import ScanResult
from distrust.report.common import RiskResult, RuleCatalog, RuleInfo, RuleMeta
from distrust.report.json_format import render_json
from distrust.report.markdown import render_markdown
from distrust.report.risk_json import render_risk_json
from distrust.report.risk_markdown import render_risk_markdown
from distrust.report.risk_sarif import render_risk_sarif
from distrust.report.sarif import render_sarif

if TYPE_CHECKING:
    from distrust.report.risk_table import render_risk_table, risk_table_text


def __getattr__(name: str) -> Any:
    """The terminal-table renderers, imported on first use: they need rich (~30 ms to import),
    which the text formats do not."""
    if name in ("render_risk_table", "risk_table_text"):
        from distrust.report import risk_table

        return getattr(risk_table, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class TextRenderer(Protocol):
    """The one signature every text format shares, so callers pick a format by name only."""

    def __call__(self, result: ScanResult, *, rules: RuleCatalog | None = None) -> str: ...


FORMATS: Mapping[str, TextRenderer] = MappingProxyType(
    {
        "json": render_json,
        "sarif": render_sarif,
        "markdown": render_markdown,
    }
)


class RiskRenderer(Protocol):
    """The signature every Risk Engine text format shares."""

    def __call__(self, result: RiskResult, *, rules: RuleCatalog | None = None) -> str: ...


RISK_FORMATS: Mapping[str, RiskRenderer] = MappingProxyType(
    {
        "json": render_risk_json,
        "sarif": render_risk_sarif,
        "markdown": render_risk_markdown,
    }
)


def render(result: ScanResult, fmt: str, *, rules: RuleCatalog | None = None) -> str:
    """Render ``result`` in the text format named ``fmt``; ValueError names the choices.

    ``rules`` (rule id → metadata) enriches formats that describe rules (SARIF rule
    descriptors, the Markdown rationale); formats without a rule section ignore it.
    """
    renderer = FORMATS.get(fmt.strip().lower())
    if renderer is None:
        choices = ", ".join(sorted(FORMATS))
        raise ValueError(f"unknown report format {fmt!r} (choose one of: {choices})")
    return renderer(result, rules=rules)


def render_risk(result: RiskResult, fmt: str, *, rules: RuleCatalog | None = None) -> str:
    """Render an inspect, diff or history result in the text format ``fmt``; ValueError names the choices.

    ``rules`` replaces the shipped Risk Engine rule table in formats that describe rules
    (SARIF descriptors, the Markdown "why it matters"); by default ``risk.toml`` is used.
    """
    renderer = RISK_FORMATS.get(fmt.strip().lower())
    if renderer is None:
        choices = ", ".join(sorted(RISK_FORMATS))
        raise ValueError(f"unknown report format {fmt!r} (choose one of: {choices}, or table)")
    return renderer(result, rules=rules)


__all__ = [
    "FORMATS",
    "RISK_FORMATS",
    "RiskRenderer",
    "RiskResult",
    "RuleCatalog",
    "RuleInfo",
    "RuleMeta",
    "TextRenderer",
    "render",
    "render_json",
    "render_markdown",
    "render_risk",
    "render_risk_json",
    "render_risk_markdown",
    "render_risk_sarif",
    "render_risk_table",
    "render_sarif",
    "risk_table_text",
]
