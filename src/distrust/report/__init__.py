"""Report stage: render a scan's findings as text, one module per format.

Reports never decide anything; each is a pure function from a :class:`~distrust.model.ScanResult`
to text, and every format renders the same findings in the same order. The terminal table
(``report.table.render_table``) prints to a rich console instead of returning text, so it is
not in :data:`FORMATS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Protocol

from distrust.model import ScanResult
from distrust.report.common import RuleCatalog, RuleInfo, RuleMeta
from distrust.report.json_format import render_json
from distrust.report.markdown import render_markdown
from distrust.report.sarif import render_sarif


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


__all__ = [
    "FORMATS",
    "RuleCatalog",
    "RuleInfo",
    "RuleMeta",
    "TextRenderer",
    "render",
    "render_json",
    "render_markdown",
    "render_sarif",
]
