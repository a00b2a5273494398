"""Choosing a text format by name."""

from __future__ import annotations

import pytest
from report_samples import SECRETS, sample_result

from distrust.report import FORMATS, render, render_json, render_markdown, render_sarif


def test_formats_table() -> None:
    assert dict(FORMATS) == {"json": render_json, "sarif": render_sarif, "markdown": render_markdown}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_render_matches_the_format_function_and_hides_secrets(fmt: str) -> None:
    text = render(sample_result(), fmt.upper())
    assert text == FORMATS[fmt](sample_result())
    for secret in SECRETS:
        assert secret not in text


def test_unknown_format_names_the_choices() -> None:
    with pytest.raises(
        ValueError, match=r"unknown report format 'xml' \(choose one of: json, markdown, sarif\)"
    ):
        render(sample_result(), "xml")
