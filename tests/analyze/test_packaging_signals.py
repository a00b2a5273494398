"""Packaging-level signals: what a package says about itself, how its archive names files, and
what its setup.py imports. Every package here is synthetic and written for the test."""

from __future__ import annotations

import io
import tarfile
import textwrap
from pathlib import Path

import pytest

from distrust.analyze.claims import scan_claims
from distrust.model import Severity
from distrust.pipeline.risk import FetchOptions, InspectResult, run_inspect

OFFLINE = FetchOptions(metadata=False)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content))
    return root


def _rules(result: InspectResult) -> set[str]:
    return {f.rule_id for f in result.assessment.findings}


SETUP_PLAIN = """\
    from setuptools import setup
    setup(name="widget", version="1.0.0", description="{description}", author_email="{email}")
"""


# --- self-declared probes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        ("Summary: Security research - dependency confusion PoC (placeholder)", "dependency-confusion"),
        ("This harmless package is used for testing dependency confusion.", "dependency-confusion"),
        ("description='Security project for PoC'", "security-poc"),
        ("A proof of concept for an RCE in build pipelines", "security-poc"),
        ("This package is for authorized penetration testing only.", "authorised-testing"),
        ("Author-email: someone+probe@wearehackerone.com", "bug-bounty-address"),
        ("A malicious package for a CTF challenge", "malware-demo"),
        ("Summary: RCE reverse shell script", "malware-demo"),
    ],
)
def test_self_descriptions_are_claims(text: str, claim: str) -> None:
    found = scan_claims("PKG-INFO", text)
    assert [c.value.split(":")[0] for c in found][:1] == [claim], found


@pytest.mark.parametrize(
    "text",
    [
        "This placeholder is registered to prevent dependency confusion attacks on our internal names.",
        "confused: a scanner that detects dependency confusion in requirements files.",
        "Protects your CI against malicious packages and typosquats.",
        "A tool that finds malicious code in PyPI uploads (a malicious package detector).",
        "A proof-of-concept implementation of our research paper on graph layouts.",
        "PoC of a faster JSON parser.",
        "Security headers middleware for Flask.",
    ],
)
def test_mentions_in_other_contexts_are_not_claims(text: str) -> None:
    assert scan_claims("README.md", text) == []


@pytest.mark.parametrize(
    "text",
    [
        "description='A proof-of-concept MCP server for security scanning; not audited'",
        "Summary: Proof of concept of a faster tokenizer",
        "Summary: Tools to report a malicious package to the registry",
    ],
)
def test_ordinary_summaries_are_not_claims(text: str) -> None:
    assert scan_claims("PKG-INFO", text) == []


def test_readme_text_in_pkg_info_only_counts_for_strong_claims() -> None:
    header = "Metadata-Version: 2.1\nName: w\nSummary: Widgets\n\n"
    assert scan_claims("PKG-INFO", header + "This is a malicious package demo for class.\n") == []
    found = scan_claims("PKG-INFO", header + "A dependency confusion PoC.\n")
    assert [c.line for c in found] == [5]


def test_a_dependency_confusion_probe_is_high_on_its_own(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "probe",
        {
            "setup.py": SETUP_PLAIN.format(description="PoC for dependency confusion", email="me@x.org"),
            "probe/__init__.py": "def hello():\n    return 'hi'\n",
        },
    )
    result = run_inspect(str(root), OFFLINE)
    assert result.assessment.level >= Severity.HIGH
    assert "DT-RISK-120" in _rules(result)


def test_a_plain_library_has_no_claims(tmp_path: Path) -> None:
    root = _tree(
        tmp_path / "plain",
        {
            "setup.py": SETUP_PLAIN.format(description="Parse widgets", email="dev@widgets.io"),
            "README.md": "# widget\n\nProtects your build against dependency confusion by pinning indexes.\n",
            "widget/__init__.py": "def parse(text):\n    return text.split()\n",
        },
    )
    result = run_inspect(str(root), OFFLINE)
    assert "DT-RISK-120" not in _rules(result)
    assert result.assessment.level <= Severity.LOW


# --- archive entries named with control characters -------------------------------------------

HIDDEN_PAYLOAD = "import base64\npayload = base64.b64decode('cHJpbnQoMSk=').decode()\nexec(payload)\n"


def _sdist(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            data = content.encode()
            info = tarfile.TarInfo(f"widget-1.0.0/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_file_hidden_behind_a_newline_in_its_name_is_still_analysed(tmp_path: Path) -> None:
    archive = _sdist(
        tmp_path / "widget-1.0.0.tar.gz",
        {
            "setup.py": SETUP_PLAIN.format(description="Widgets", email="dev@widgets.io"),
            "widget/__init__.py": "",
            "widget/core.py\ncore.py": HIDDEN_PAYLOAD,
        },
    )
    result = run_inspect(str(archive), OFFLINE)
    rules = _rules(result)
    assert "DT-RISK-121" in rules  # the name itself
    assert "DT-RISK-020" in rules  # and what the file does: decode, then exec
    shown = {c.file for c in result.profile.capabilities if c.kind == "obfuscation.filename"}
    assert shown == {"widget/core.py\u240acore.py"}
    assert not any("\n" in c.file for c in result.profile.capabilities)


# --- setup.py ---------------------------------------------------------------------------------

SETUP_WITH_COMMAND = """\
    from setuptools import setup
    from setuptools.command.install import install
    {imports}

    class PostInstall(install):
        def run(self):
            install.run(self)
            print("installed")

    setup(name="widget", version="1.0.0", cmdclass={{"install": PostInstall}})
"""


@pytest.mark.parametrize(
    ("imports", "flagged"),
    [
        ("import requests\nimport getpass", True),
        ("import socket", True),
        ("from urllib.request import urlopen", True),
        ("from urllib.parse import urljoin\nimport os\nimport platform", False),
    ],
)
def test_install_command_next_to_network_imports(tmp_path: Path, imports: str, flagged: bool) -> None:
    setup = textwrap.dedent(SETUP_WITH_COMMAND).format(imports=imports)
    root = _tree(tmp_path / "pkg", {"setup.py": setup})
    result = run_inspect(str(root), OFFLINE)
    assert ("DT-RISK-123" in _rules(result)) is flagged
    assert (result.assessment.level >= Severity.HIGH) is flagged


def test_network_imports_without_an_install_command_are_not_this_rule(tmp_path: Path) -> None:
    setup = "import requests\nfrom setuptools import setup\nsetup(name='widget', version='1.0.0')\n"
    result = run_inspect(str(_tree(tmp_path / "pkg", {"setup.py": setup})), OFFLINE)
    assert "DT-RISK-123" not in _rules(result)


def test_an_obfuscated_setup_script_is_high(tmp_path: Path) -> None:
    junk = "\n".join(f"{'lI' * 6}{'l' * i} = {i}" for i in range(12))
    setup = (
        f"{junk}\nfrom setuptools import setup\n"
        "setup(name='widget', version='1.0.0', install_requires=['left' + 'pad'])\n"
    )
    result = run_inspect(str(_tree(tmp_path / "pkg", {"setup.py": setup})), OFFLINE)
    assert "DT-RISK-122" in _rules(result)
    assert result.assessment.level >= Severity.HIGH


# --- code pushed off-screen -------------------------------------------------------------------


def test_code_after_a_wall_of_blanks_is_found(tmp_path: Path) -> None:
    hidden = "from setuptools import setup" + " " * 240 + ";__import__('os').system('id')\nsetup(name='w')\n"
    result = run_inspect(str(_tree(tmp_path / "pkg", {"setup.py": hidden})), OFFLINE)
    found = [c for c in result.profile.capabilities if c.kind == "obfuscation.offscreen"]
    assert [(c.line, c.value) for c in found] == [(1, "240 blanks, then: ;__import__('os').system('id')")]
    assert "DT-RISK-126" in _rules(result)


@pytest.mark.parametrize(
    "source",
    [
        "x = 1" + " " * 40 + "# aligned comment\n",  # ordinary alignment
        "PAD = '" + " " * 300 + "'\n",  # a string of blanks: not code after the gap
        "def f():\n" + " " * 8 + "return 1\n" + " " * 300 + "\n",  # trailing blanks only
        "table = '''\nname" + " " * 120 + "# not code: a comment after the gap\n'''\n",
    ],
)
def test_ordinary_whitespace_is_not_hidden_code(tmp_path: Path, source: str) -> None:
    result = run_inspect(str(_tree(tmp_path / "pkg", {"mod.py": source})), OFFLINE)
    assert not [c for c in result.profile.capabilities if c.kind == "obfuscation.offscreen"]
