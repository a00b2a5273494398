"""Benchmark: how often the Risk Engine cries wolf on benign packages, and how much malware it
catches, beside GuardDog 3.x on the very same files.

An alarm is a verdict at level ``high`` or above, the level at which ``distrust`` blocks by
default. For GuardDog the standard alarm is any rule match (``issues > 0``); the rate at ≥ 2
distinct rules is printed too, since GuardDog has no severity to threshold on.

    .venv/bin/python bench/detect.py [--only npm|pypi|malicious] [--no-guarddog]
                                     [--refresh-guarddog] [--jobs N]

Samples (see the corpus README): benign npm pairs (inspect NEW, diff OLD→NEW), benign PyPI
releases (inspect) and pairs (diff), 150 malicious PyPI archives and 11 malicious/protestware
npm versions (inspect), and the an0n-chat-lib version series (diff; 0.1.1→0.1.2 adds the
postinstall hook and must be ≥ high). Benign artefacts are downloaded once into
``bench/.cache`` and verified against the corpus hashes; malicious ones are read in place.

Per-sample results are cached in ``bench/out/ours.json`` (keyed by a hash of the analyser,
rules and fetch code) and ``bench/out/guarddog.json`` (keyed by GuardDog's version), so a re-run
after a rule tweak redoes only our engine. Every false alarm and miss, with its top findings,
goes to the terminal and to ``bench/out/detect-details.txt``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from _common import (
    DISTRUST_CACHE,
    GUARDDOG_RESULT_FORMAT,
    OUT_DIR,
    BenchError,
    CorpusError,
    EngineTask,
    GuardDogResult,
    PypiFile,
    ResultStore,
    Verdict,
    corpus_dir,
    engine_fingerprint,
    ensure_guarddog,
    fetch_artifact,
    format_table,
    guarddog_version,
    load_npm_malicious,
    load_npm_pairs,
    load_pypi_benign,
    load_pypi_malicious,
    load_pypi_pairs,
    pypi_exact_file,
    rate,
    run_engine,
    run_guarddog,
)

HIGH = 3  # distrust.model.Severity.HIGH: the default blocking level, and our alarm threshold
# GuardDog 3's own top risk label: the closest peer of our "≥ high", shown beside the standard
# "any rule matched" alarm.
GUARDDOG_HIGH_LABEL = "high_risk"


@dataclass(frozen=True)
class Group:
    """One section of the results table: which samples, what an alarm means there."""

    id: str
    title: str
    malicious: bool  # True: an alarm is a detection; False: an alarm is a false alarm
    only: str  # the --only choice that selects it


# The table's sections, in print order. Data, so adding a corpus slice is one row.
GROUPS: tuple[Group, ...] = (
    Group("npm-inspect", "npm benign: inspect NEW", False, "npm"),
    Group("npm-diff", "npm benign: diff OLD->NEW", False, "npm"),
    Group("pypi-inspect", "PyPI benign: inspect", False, "pypi"),
    Group("pypi-diff", "PyPI benign pairs: diff OLD->NEW", False, "pypi"),
    Group("pypi-mal", "PyPI malicious: inspect", True, "malicious"),
    Group("npm-mal", "npm malicious: inspect", True, "malicious"),
    Group("npm-series", "npm malicious series: diff", True, "malicious"),
)
GROUP_BY_ID = {g.id: g for g in GROUPS}

# Version steps of a malicious series whose diff must reach ≥ high: the step that adds the
# install hook (see the corpus README). Other steps are printed for information only.
MUST_ALARM_STEPS: frozenset[tuple[str, str, str]] = frozenset({("an0n-chat-lib", "0.1.1", "0.1.2")})
SERIES_NAMES: tuple[str, ...] = ("an0n-chat-lib",)


@dataclass(frozen=True)
class GuardDogJob:
    key: str
    ecosystem: str  # "npm" | "pypi"
    target: Path


@dataclass(frozen=True)
class Sample:
    """One labelled sample: the run of our engine, and GuardDog's scan of the same file."""

    group: str
    category: str
    name: str
    ours: EngineTask
    guarddog: GuardDogJob | None
    must_alarm: bool = True  # only meaningful in malicious groups


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- building the sample list ----------------------------------------------------------------


def npm_benign_samples(corpus: Path) -> list[Sample]:
    """Fetch both versions of each pair (verified against the corpus integrity) and pair them."""
    samples: list[Sample] = []
    pairs = load_npm_pairs(corpus)
    _log(f"npm benign: fetching {len(pairs)} pairs into {DISTRUST_CACHE} (cached after the first run)")
    for pair in pairs:
        old_spec, new_spec = f"npm:{pair.name}@{pair.old}", f"npm:{pair.name}@{pair.new}"
        gd_job: GuardDogJob | None = None
        try:
            fetch_artifact(old_spec, pair.old_integrity)
            new_artifact = fetch_artifact(new_spec, pair.new_integrity)
            if new_artifact.archive is not None:
                gd_job = GuardDogJob(f"npm|{new_spec}|{pair.new_integrity}", "npm", new_artifact.archive)
        except Exception as exc:  # the engine run repeats the fetch and records the error per sample
            _log(f"  {pair.where}: {type(exc).__name__}: {exc}")
        label = f"{pair.name} {pair.new}"
        samples.append(
            Sample(
                "npm-inspect",
                pair.category,
                label,
                EngineTask(f"inspect|{new_spec}", "inspect", (new_spec,), (pair.new_integrity,)),
                gd_job,
            )
        )
        samples.append(
            Sample(
                "npm-diff",
                pair.category,
                f"{pair.name} {pair.old}->{pair.new}",
                EngineTask(
                    f"diff|{old_spec}|{new_spec}",
                    "diff",
                    (old_spec, new_spec),
                    (pair.old_integrity, pair.new_integrity),
                ),
                None,
            )
        )
    return samples


def pypi_benign_samples(corpus: Path) -> list[Sample]:
    """Download the exact files the corpus names (sha256-checked); analyse them as local archives."""
    samples: list[Sample] = []
    singles = load_pypi_benign(corpus)
    pairs = load_pypi_pairs(corpus)
    _log(f"PyPI benign: {len(singles)} releases and {len(pairs)} pairs (exact files, cached)")

    def local(item: PypiFile) -> Path | None:
        try:
            return pypi_exact_file(item)
        except Exception as exc:  # recorded per sample: the engine run then reports it as an error
            _log(f"  {item.where}: {type(exc).__name__}: {exc}")
            return None

    for item in singles:
        path = local(item)
        spec = str(path) if path else f"missing:{item.filename}"
        key = f"pypi:{item.filename}#{item.sha256[:16]}"
        samples.append(
            Sample(
                "pypi-inspect",
                item.category,
                f"{item.name} {item.version} ({item.filename})",
                EngineTask(f"inspect|{key}", "inspect", (spec,)),
                GuardDogJob(f"pypi|{key}", "pypi", path) if path else None,
            )
        )
    for pair in pairs:
        old_path, new_path = local(pair.old), local(pair.new)
        specs = tuple(str(p) if p else "missing:" for p in (old_path, new_path))
        old_key = f"pypi:{pair.old.filename}#{pair.old.sha256[:16]}"
        key = f"diff|{old_key}|pypi:{pair.new.filename}#{pair.new.sha256[:16]}"
        samples.append(
            Sample(
                "pypi-diff",
                pair.category,
                f"{pair.old.name} {pair.old.version}->{pair.new.version}",
                EngineTask(key, "diff", specs),
                None,
            )
        )
    return samples


def malicious_samples(corpus: Path) -> list[Sample]:
    """Malicious PyPI archives and npm directories, read where they are in the corpus."""
    samples: list[Sample] = []
    for mal in load_pypi_malicious(corpus):
        key = f"file:{mal.sha256}"
        samples.append(
            Sample(
                "pypi-mal",
                "malicious",
                f"{mal.name} {mal.version} ({mal.path.name})",
                EngineTask(f"inspect|{key}", "inspect", (str(mal.path),)),
                GuardDogJob(f"pypi|{key}", "pypi", mal.path),
            )
        )
    npm = load_npm_malicious(corpus)
    for item in npm:
        key = f"dir:{item.name}@{item.version}"
        samples.append(
            Sample(
                "npm-mal",
                item.label,
                f"{item.name} {item.version}",
                EngineTask(f"inspect|{key}", "inspect", (str(item.path),)),
                GuardDogJob(f"npm|{key}", "npm", item.path),
            )
        )
    for series in SERIES_NAMES:
        versions = sorted((i for i in npm if i.name == series), key=lambda i: _version_key(i.version))
        for old, new in itertools.pairwise(versions):
            key = f"diff|dir:{old.name}@{old.version}|dir:{new.name}@{new.version}"
            samples.append(
                Sample(
                    "npm-series",
                    new.label,
                    f"{series} {old.version}->{new.version}",
                    EngineTask(key, "diff", (str(old.path), str(new.path))),
                    None,
                    must_alarm=(series, old.version, new.version) in MUST_ALARM_STEPS,
                )
            )
    return samples


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in version.split("."))


# --- running the engines ---------------------------------------------------------------------


def run_ours(samples: Sequence[Sample], store: ResultStore, jobs: int) -> dict[str, Verdict]:
    """Our verdict for each sample, from the store or computed in a process pool.

    Errors are not cached: they are usually a missing download, which the next run retries.
    """
    verdicts: dict[str, Verdict] = {}
    todo: dict[str, EngineTask] = {}
    for s in samples:
        cached = store.get(s.ours.key)
        if cached is not None:
            verdicts[s.ours.key] = Verdict.from_json(cached)
        else:
            todo[s.ours.key] = s.ours
    _log(f"our engine: {len(verdicts)} cached, {len(todo)} to run with {jobs} process(es)")
    done = 0
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures: dict[Future[Verdict], str] = {
            pool.submit(run_engine, task): key for key, task in todo.items()
        }
        for fut in as_completed(futures):
            key = futures[fut]
            verdict = fut.result()
            verdicts[key] = verdict
            if verdict.error is None:
                store.put(key, verdict.to_json())
            done += 1
            if done % 20 == 0 or done == len(todo):
                store.save()
                _log(f"  ours {done}/{len(todo)} ({time.perf_counter() - start:.0f} s)")
    store.save()
    return verdicts


def run_peer(
    samples: Sequence[Sample], store: ResultStore, exe: Path, jobs: int
) -> dict[str, GuardDogResult]:
    """GuardDog's result for each sample that has a GuardDog job, cached by GuardDog version."""
    results: dict[str, GuardDogResult] = {}
    todo: dict[str, GuardDogJob] = {}
    for s in samples:
        job = s.guarddog
        if job is None:
            continue
        cached = store.get(job.key)
        if cached is not None:
            results[job.key] = GuardDogResult.from_json(cached)
        else:
            todo[job.key] = job
    _log(f"GuardDog: {len(results)} cached, {len(todo)} to scan with {jobs} parallel process(es)")
    done = 0
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(run_guarddog, exe, job.ecosystem, job.target): key for key, job in todo.items()
        }
        for fut in as_completed(futures):
            key = futures[fut]
            result = fut.result()
            results[key] = result
            if result.error is None:
                store.put(key, result.to_json())
            done += 1
            if done % 10 == 0 or done == len(todo):
                store.save()
                _log(f"  GuardDog {done}/{len(todo)} ({time.perf_counter() - start:.0f} s)")
    store.save()
    return results


# --- reporting -------------------------------------------------------------------------------


@dataclass
class Tally:
    n: int = 0
    ours: int = 0
    ours_err: int = 0
    gd_n: int = 0
    gd1: int = 0
    gd2: int = 0
    gd_high: int = 0
    gd_err: int = 0


def tally_rows(
    samples: Sequence[Sample], ours: dict[str, Verdict], peer: dict[str, GuardDogResult] | None
) -> list[list[object]]:
    """Table rows: one per (group, category) and a total per group."""
    rows: list[list[object]] = []
    for group in GROUPS:
        members = [s for s in samples if s.group == group.id and (s.must_alarm or not group.malicious)]
        if not members:
            continue
        cats = sorted({s.category for s in members})
        buckets: list[tuple[str, list[Sample]]] = [
            (f"{group.title} [{c}]", [s for s in members if s.category == c]) for c in cats
        ]
        if len(cats) > 1:
            buckets.append((f"{group.title} [all]", members))
        for label, items in buckets:
            t = Tally()
            for s in items:
                t.n += 1
                v = ours[s.ours.key]
                t.ours += v.severity >= HIGH
                t.ours_err += v.error is not None
                if peer is not None and s.guarddog is not None:
                    g = peer.get(s.guarddog.key)
                    if g is None:
                        continue
                    t.gd_n += 1
                    t.gd_err += g.error is not None
                    t.gd1 += len(g.rules) >= 1
                    t.gd2 += len(g.rules) >= 2
                    t.gd_high += g.risk_label == GUARDDOG_HIGH_LABEL
            kind = "detect" if group.malicious else "FP"
            gd_cells: list[object] = (
                [
                    t.gd_n,
                    t.gd1,
                    rate(t.gd1, t.gd_n),
                    t.gd2,
                    rate(t.gd2, t.gd_n),
                    t.gd_high,
                    rate(t.gd_high, t.gd_n),
                    t.gd_err,
                ]
                if t.gd_n
                else ["-"] * 8
            )
            rows.append([label, kind, t.n, t.ours, rate(t.ours, t.n), t.ours_err, *gd_cells])
    return rows


TABLE_HEADERS = (
    "category",
    "kind",
    "n",
    "ours>=high",
    "rate",
    "err",
    "GD n",
    "GD>=1 rule",
    "rate",
    "GD>=2 rules",
    "rate",
    "GD high_risk",
    "rate",
    "GD err",
)


def detail_lines(
    samples: Sequence[Sample], ours: dict[str, Verdict], peer: dict[str, GuardDogResult] | None
) -> list[str]:
    """Every false alarm, miss and error of our engine, with its findings, for rule tuning."""
    lines: list[str] = []
    fp_rules: Counter[str] = Counter()
    fp_titles: dict[str, str] = {}
    miss_levels: Counter[str] = Counter()
    for group in GROUPS:
        members = [s for s in samples if s.group == group.id]
        if not members:
            continue
        wrong = []
        for s in members:
            v = ours[s.ours.key]
            alarm = v.severity >= HIGH
            if v.error is not None or (alarm if not group.malicious else (s.must_alarm and not alarm)):
                wrong.append((s, v))
            elif group.id == "npm-series":
                wrong.append((s, v))  # the whole series is short and worth seeing
        what = "misses" if group.malicious else "false alarms"
        if group.id == "npm-series":
            what = "every step (misses marked by level < high on a must-alarm step)"
        lines.append("")
        lines.append(f"== {group.title}: {what} and errors ({len(wrong)} of {len(members)})")
        for s, v in wrong:
            gd = ""
            if peer is not None and s.guarddog is not None and s.guarddog.key in peer:
                g = peer[s.guarddog.key]
                what = g.error or (", ".join(g.rules) if g.rules else "no rule matched")
                gd = f"  | GuardDog [{g.risk_label or '?'}]: {what}"
            tag = "" if s.must_alarm or not group.malicious else " (informational)"
            lines.append(f"- {s.name} [{s.category}]{tag}: {v.level} (score {v.score}){gd}")
            for sev, rule, title in v.findings[:6]:
                lines.append(f"    [{sev}] {rule}: {title}")
            if group.malicious and v.capabilities:
                lines.append(f"    capabilities: {', '.join(v.capabilities)}"[:400])
            if v.unanalysed and not v.findings:  # "no findings" may mean "could not read it"
                lines.append(f"    not analysed: {'; '.join(v.unanalysed)[:300]}")
            if v.error:
                lines.append(f"    ERROR {v.error}")
            elif not v.findings:
                lines.append("    no findings")
            if v.error is None and not group.malicious:
                for sev, rule, title in v.findings:
                    if sev in ("high", "critical"):
                        fp_titles.setdefault(rule, title)
                fp_rules.update({rule for sev, rule, _ in v.findings if sev in ("high", "critical")})
            if v.error is None and group.malicious and s.must_alarm and v.severity < HIGH:
                miss_levels[f"{group.title}: best level {v.level}"] += 1
    lines.append("")
    lines.append("== rules at >= high among false alarms (number of false-alarm samples each fires in)")
    for rule, count in fp_rules.most_common():
        lines.append(f"  {count:4d}  {rule}: e.g. {fp_titles[rule]}")
    lines.append("")
    lines.append("== misses by the highest level our engine reached")
    for what, count in sorted(miss_levels.items()):
        lines.append(f"  {count:4d}  {what}")
    return lines


def series_table(samples: Sequence[Sample], ours: dict[str, Verdict]) -> str:
    rows = []
    for s in samples:
        if s.group != "npm-series":
            continue
        v = ours[s.ours.key]
        verdict = ("PASS" if v.severity >= HIGH else "FAIL") if s.must_alarm else "info"
        rows.append(
            [s.name, v.level, v.score, "yes" if s.must_alarm else "no", verdict, v.top_titles(2)[:110]]
        )
    if not rows:
        return ""
    return format_table(("step", "level", "score", "must be >=high", "check", "top findings"), rows)


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--only",
        choices=("npm", "pypi", "malicious"),
        action="append",
        help="run only these sample sets (repeatable); default: all",
    )
    parser.add_argument("--no-guarddog", action="store_true", help="skip the GuardDog comparison")
    parser.add_argument("--refresh-guarddog", action="store_true", help="re-run GuardDog on every sample")
    parser.add_argument("--refresh-ours", action="store_true", help="ignore cached verdicts of our engine")
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers for both engines (default 2)")
    parser.add_argument(
        "--corpus", type=Path, default=None, help="corpus root (default $DISTRUST_CORPUS or shared)"
    )
    return parser.parse_args(argv)


def collect(selected: set[str], corpus: Path) -> list[Sample]:
    builders: dict[str, Callable[[Path], Iterable[Sample]]] = {
        "npm": npm_benign_samples,
        "pypi": pypi_benign_samples,
        "malicious": malicious_samples,
    }
    samples: list[Sample] = []
    for choice, build in builders.items():
        if choice in selected:
            samples.extend(build(corpus))
    return samples


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    selected = set(args.only or ("npm", "pypi", "malicious"))
    corpus = corpus_dir(args.corpus)
    try:
        samples = collect(selected, corpus)
    except (CorpusError, BenchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    fingerprint = engine_fingerprint()
    ours_store = ResultStore.load(
        OUT_DIR / "ours.json", f"distrust-engine:{fingerprint}", fresh=args.refresh_ours
    )
    ours = run_ours(samples, ours_store, args.jobs)

    peer: dict[str, GuardDogResult] | None = None
    gd_label = "GuardDog: skipped (--no-guarddog)"
    if not args.no_guarddog:
        try:
            exe = ensure_guarddog(log=_log)
            version = guarddog_version(exe)
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        gd_store = ResultStore.load(
            OUT_DIR / "guarddog.json",
            f"guarddog:{version}:{GUARDDOG_RESULT_FORMAT}",
            fresh=args.refresh_guarddog,
        )
        peer = run_peer(samples, gd_store, exe, args.jobs)
        gd_label = (
            f"GuardDog {version} (alarm = any rule match; also shown at >= 2 distinct rules "
            f"and at GuardDog's own '{GUARDDOG_HIGH_LABEL}' label)"
        )

    header = [
        f"distrust Risk Engine (fingerprint {fingerprint}) vs {gd_label}",
        f"corpus: {corpus}; alarm (ours) = level >= high; 'FP' rows: false alarms, 'detect' rows: detections",
        "diff rows have no GuardDog column: GuardDog judges single versions only",
    ]
    table = format_table(TABLE_HEADERS, tally_rows(samples, ours, peer))
    series = series_table(samples, ours)
    details = detail_lines(samples, ours, peer)
    slowest = sorted(samples, key=lambda s: -ours[s.ours.key].seconds)[:5]
    details += ["", "== slowest runs of our engine"]
    details += [f"  {ours[s.ours.key].seconds:6.1f} s  {s.ours.mode} {s.name}" for s in slowest]
    print("\n".join(header))
    print()
    print(table)
    if series:
        print()
        print(series)
    print("\n".join(details))
    total_s = sum(v.seconds for v in ours.values())
    print(
        f"\nour engine: {total_s:.1f} s of analysis over {len(ours)} runs "
        "(cached runs count their original time)"
    )
    from distrust.fsutil import atomic_write

    atomic_write(OUT_DIR / "detect-details.txt", "\n".join([*header, "", table, "", series, *details]) + "\n")
    print(f"details written to {OUT_DIR / 'detect-details.txt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
