"""``distrust inspect``, ``diff`` and ``history``: fetch → analyze → judge. Nothing here prints."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any, Protocol

from distrust.analyze.profile import FileMemo, build_profile, default_jobs
from distrust.analyze.results import DiffResult, HistoryResult, HistoryStep, InspectResult
from distrust.analyze.score import assess_diff, assess_profile, with_findings
from distrust.fetch import (
    FetchedArtifact,
    FetchError,
    SpecError,
    fetch,
    npm_packument,
    npm_version_list,
    pypi_project_json,
    pypi_release_list,
)
from distrust.model import Capability, Change, Ecosystem, Finding, Notice, Profile


class Step(Protocol):
    """Progress callback: what is happening now, and how far along when that is known."""

    def __call__(self, text: str, done: int | None = None, total: int | None = None) -> None: ...


def _quiet(text: str, done: int | None = None, total: int | None = None) -> None:
    return None


@dataclass(frozen=True)
class FetchOptions:
    """Where packages come from; ``None`` means the env override or the public registry."""

    npm_registry: str | None = None
    pypi_index: str | None = None
    metadata: bool = True  # also judge registry metadata (publisher, impersonation, names)


def _profile(spec: str, opts: FetchOptions, step: Step, memo: FileMemo | None = None) -> Profile:
    step(f"fetching {spec}")
    artifact = fetch(spec, npm_registry=opts.npm_registry, pypi_index=opts.pypi_index)
    step(f"analysing {artifact.ref}")
    profile = build_profile(artifact, memo=memo, jobs=default_jobs())
    if isinstance(artifact, FetchedArtifact) and artifact.skipped:
        profile = replace(profile, unanalysed=(*profile.unanalysed, *artifact.skipped))
    return profile


def _metadata_findings(profile: Profile, opts: FetchOptions, notices: list[Notice]) -> tuple[Finding, ...]:
    """Registry facts about the version (publisher, provenance, impersonation), when it has one."""
    ref = profile.artifact.ref
    if not opts.metadata or not ref.version or ref.ecosystem not in (Ecosystem.NPM, Ecosystem.PYPI):
        return ()
    if not profile.artifact.source.startswith(("http://", "https://")):
        return ()  # a local directory or archive: no registry history to judge
    from distrust.analyze.metadata import assess_npm_metadata, assess_pypi_metadata

    try:
        if ref.ecosystem == Ecosystem.NPM:
            report = assess_npm_metadata(npm_packument(ref.name, opts.npm_registry), ref.version)
        else:
            report = assess_pypi_metadata(pypi_project_json(ref.name, None, opts.pypi_index), ref.version)
    except FetchError as exc:
        notices.append(Notice(f"registry metadata not judged: {exc}"))
        return ()
    return report.findings


def run_inspect(spec: str, opts: FetchOptions = FetchOptions(), step: Step = _quiet) -> InspectResult:
    """Judge one package version on its own: its code, and its registry metadata."""
    notices: list[Notice] = []
    profile = _profile(spec, opts, step)
    step("judging")
    assessment = with_findings(assess_profile(profile), _metadata_findings(profile, opts, notices))
    return InspectResult(profile=profile, assessment=assessment, notices=tuple(notices))


def _dependency_hooks(old: Profile, new: Profile, opts: FetchOptions, notices: list[Notice]) -> list[Change]:
    """Added npm dependencies whose chosen version runs an install hook, looked up in the registry.

    The profile only sees ``"dep": "^1.2.0"``; what that dependency does at install time is in
    its own manifest, which the packument carries, so no tarball is needed.
    """
    if new.artifact.ref.ecosystem != Ecosystem.NPM:
        return []
    from distrust.intel import npm_semver  # ~30 ms of imports that only a diff with metadata needs

    before = {c.value for c in old.capabilities if c.kind == "dependency"}
    out: list[Change] = []
    for cap in new.capabilities:
        if cap.kind != "dependency" or cap.value in before:
            continue
        name, _, wanted = cap.value.rpartition("@")
        if not name:
            continue
        try:
            doc = npm_packument(name, opts.npm_registry)
        except FetchError as exc:
            notices.append(Notice(f"could not check new dependency {cap.value} for install hooks: {exc}"))
            continue
        versions = [v for v in doc.get("versions", {}) if isinstance(v, str)]
        try:
            chosen = npm_semver.max_satisfying(versions, wanted or "*")
        except ValueError:
            chosen = None
        if chosen is None:
            notices.append(Notice(f"new dependency {cap.value}: no published version satisfies {wanted!r}"))
            continue
        scripts = doc["versions"][str(chosen)].get("scripts") or {}
        for hook in ("preinstall", "install", "postinstall"):
            command = scripts.get(hook) if isinstance(scripts, dict) else None
            if isinstance(command, str) and command.strip():
                value = f"{name}@{chosen}: {hook}: {command.strip()[:200]}"
                hooked = Capability("dependency.install_hook", value, cap.file, cap.line, cap.snippet)
                out.append(Change("added", hooked, in_changed_lines=True))
    return out


def run_diff(
    old_spec: str, new_spec: str, opts: FetchOptions = FetchOptions(), step: Step = _quiet
) -> DiffResult:
    """Judge an upgrade: what NEW can do that OLD could not, explained line by line."""
    notices: list[Notice] = []
    memo = FileMemo()  # files both versions share are analysed once
    old = _profile(old_spec, opts, step, memo)
    new = _profile(new_spec, opts, step, memo)
    step("comparing")
    extra = _dependency_hooks(old, new, opts, notices) if opts.metadata else []
    assessment = assess_diff(old, new, extra_changes=extra)
    new_alone = with_findings(assess_profile(new), _metadata_findings(new, opts, notices))
    meta_new = [f for f in new_alone.findings if f.rule_id.startswith("DT-META")]
    return DiffResult(
        old=old,
        new=new,
        assessment=with_findings(assessment, meta_new),
        new_version=new_alone,
        notices=tuple(notices),
    )


def run_history(
    package: str, opts: FetchOptions = FetchOptions(), step: Step = _quiet, limit: int | None = None
) -> HistoryResult:
    """Diff every consecutive pair of published versions, oldest first.

    ``limit`` keeps only the newest N+1 versions (N steps). The oldest analysed version is also
    judged on its own, so a package malicious from its first release is not missed.
    """
    ecosystem, name = _split_package(package)
    step(f"listing versions of {name}")
    if ecosystem == Ecosystem.NPM:
        releases = npm_version_list(name, opts.npm_registry)
        doc: dict[str, Any] | None = npm_packument(name, opts.npm_registry) if opts.metadata else None
    else:
        releases = pypi_release_list(name, opts.pypi_index)
        doc = None
    versions = [r for r in releases if r.published is not None or ecosystem == Ecosystem.NPM]
    if limit is not None and len(versions) > limit + 1:
        versions = versions[-(limit + 1) :]
    notices: list[Notice] = []
    prefix, sep = ("npm:", "@") if ecosystem == Ecosystem.NPM else ("pypi:", "==")
    profiles: list[Profile] = []
    memo = FileMemo()  # consecutive versions share most files: each distinct file is analysed once
    for i, release in enumerate(versions):
        step(f"fetching and analysing {name} {release.version}", i, len(versions) * 2 - 1)
        try:
            profiles.append(_profile(f"{prefix}{name}{sep}{release.version}", opts, step, memo))
        except FetchError as exc:
            notices.append(Notice(f"{name} {release.version} skipped: {exc}"))
    first = None
    if profiles:
        first = InspectResult(profiles[0], assess_profile(profiles[0]))
    steps: list[HistoryStep] = []
    for i, (old, new) in enumerate(itertools.pairwise(profiles)):
        step(
            f"comparing {old.artifact.ref.version} → {new.artifact.ref.version}",
            len(versions) + i,
            len(versions) * 2 - 1,
        )
        dated = next((r for r in versions if r.version == new.artifact.ref.version), None)
        publisher = _npm_publisher(doc, new.artifact.ref.version) if doc else None
        steps.append(
            HistoryStep(
                old=old.artifact.ref,
                new=new.artifact.ref,
                assessment=assess_diff(old, new),
                published=dated.published.isoformat() if dated and dated.published else None,
                publisher=publisher,
            )
        )
    return HistoryResult(ecosystem, name, first, tuple(steps), tuple(notices))


def _split_package(package: str) -> tuple[str, str]:
    kind, sep, name = package.partition(":")
    if not sep or not name or kind.lower() not in ("npm", "pypi"):
        raise SpecError(f"history needs npm:NAME or pypi:NAME, not {package!r}")
    for cut in ("==", "@"):
        if cut in name[1:]:
            raise SpecError(f"history takes a package name without a version, not {package!r}")
    return (Ecosystem.NPM if kind.lower() == "npm" else Ecosystem.PYPI), name


def _npm_publisher(doc: dict[str, Any], version: str | None) -> str | None:
    meta = doc.get("versions", {}).get(version or "", {})
    user = meta.get("_npmUser") if isinstance(meta, dict) else None
    return user.get("name") if isinstance(user, dict) and isinstance(user.get("name"), str) else None
