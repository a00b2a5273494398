"""Benchmark: how long ``inspect`` and ``diff`` take, and how much memory, beside GuardDog.

For each package (default: is-number@7.0.0, express@4.21.2, lodash@4.17.21, typescript@5.6.3)
and its previous stable version:

* ``inspect`` — fetch from the (warm) cache + build_profile + assess_profile, timed inside one
  process over ``--repeat`` runs (median): the engine's own cost, with as many processes as
  ``distrust inspect`` uses (``$DISTRUST_JOBS`` or the usable CPUs); ``inspect 1p`` is the same
  in a single process;
* ``diff``    — the same for previous → this version, with assess_diff;
* ``process`` — the real command, ``distrust inspect npm:NAME@VERSION --format json
  --no-metadata`` (and ``distrust diff OLD NEW …``), each a fresh process timed from outside
  (median of ``--repeat``, after one warm-up run): the like-for-like peer of a GuardDog run.
  The artifact cache is warm, bytecode is compiled (as pip leaves an install), and registry
  metadata is not judged (``--no-metadata``): that is a download of the package's registry
  document, network time that GuardDog's scan of a local tarball does not spend either;
* GuardDog's ``guarddog npm scan <the same tarball> --output-format json`` (median of
  ``--gd-repeat``), in the same run.

Peak memory is each child process's ``ru_maxrss`` from ``os.wait4``. Targets: ≥ 10× faster
than GuardDog (engine and whole process), typescript inspect under 3 s, peak memory under
500 MB; each is printed as PASS or FAIL.

    .venv/bin/python bench/speed.py [--repeat 5] [--gd-repeat 3] [--no-guarddog]
                                    [--package NAME@VERSION ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    DISTRUST_CACHE,
    BenchError,
    EngineTask,
    GuardDogResult,
    ensure_guarddog,
    fetch_artifact,
    format_table,
    guarddog_version,
    run_engine,
    run_guarddog,
    run_measured,
)

DEFAULT_PACKAGES: tuple[str, ...] = (
    "is-number@7.0.0",
    "express@4.21.2",
    "lodash@4.17.21",
    "typescript@5.6.3",
)

# The targets the benchmark reports PASS/FAIL against (data, so they are easy to revisit).
TARGET_SPEEDUP = 10.0  # GuardDog time / our time: engine vs GuardDog, and our command vs GuardDog
TARGET_SECONDS = {"typescript": 3.0}  # inspect median per package
TARGET_RSS_MB = 500.0

CHILD_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Target:
    name: str
    version: str
    previous: str

    @property
    def spec(self) -> str:
        return f"npm:{self.name}@{self.version}"

    @property
    def previous_spec(self) -> str:
        return f"npm:{self.name}@{self.previous}"


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def split_name_version(text: str) -> tuple[str, str]:
    """``name@version`` (scoped names keep their leading ``@``); ValueError names the input."""
    at = text.rfind("@")
    if at <= 0 or at == len(text) - 1:
        raise ValueError(f"--package {text!r}: expected NAME@VERSION, e.g. express@4.21.2")
    return text[:at], text[at + 1 :]


def _stable_key(version: str) -> tuple[int, ...] | None:
    """Numeric key of an ``X.Y.Z`` release; ``None`` for pre-releases and odd forms."""
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return tuple(int(p) for p in parts)


def previous_version(name: str, version: str) -> str:
    """The highest stable version below ``version`` in the npm registry (one network request)."""
    from distrust.fetch import npm_version_list

    wanted = _stable_key(version)
    if wanted is None:
        raise BenchError(f"{name}@{version}: only X.Y.Z versions are supported here")
    older = [
        (key, r.version) for r in npm_version_list(name) if (key := _stable_key(r.version)) and key < wanted
    ]
    if not older:
        raise BenchError(f"{name}@{version}: the registry lists no earlier stable version")
    return max(older)[1]


# --- child mode: the measured work of our engine ----------------------------------------------


def child_main(mode: str, specs: list[str], repeat: int, jobs: int) -> int:
    """Run inspect/diff ``repeat`` times in this process; print the timings as one JSON line.

    One untimed run comes first: one-time set-up (grammars, compiled queries and patterns,
    the rule table) is paid once per process, and the process figures count it.
    """
    task = EngineTask(f"{mode}|speed", mode, tuple(specs))
    times: list[float] = []
    level = ""
    files = 0
    run_engine(task, jobs=jobs)
    for _ in range(repeat):
        start = time.perf_counter()
        verdict = run_engine(task, jobs=jobs)
        times.append(time.perf_counter() - start)
        if verdict.error:
            print(json.dumps({"error": verdict.error}))
            return 1
        level, files = verdict.level, verdict.files
    print(json.dumps({"times": times, "level": level, "files": files}))
    return 0


def run_child(mode: str, specs: list[str], repeat: int, jobs: int) -> tuple[dict[str, Any], float, int]:
    """(child's JSON answer, wall seconds, peak RSS KiB) of one measured child process."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, *specs, "--repeat", str(repeat)]
    cmd += ["--jobs", str(jobs)]
    measured = run_measured(cmd, timeout=CHILD_TIMEOUT_S)
    lines = [line for line in measured.stdout.splitlines() if line.startswith("{")]
    if measured.returncode != 0 or not lines:
        detail = lines[-1] if lines else measured.stderr.strip()[-400:]
        raise BenchError(f"{mode} {' '.join(specs)}: child failed (exit {measured.returncode}): {detail}")
    return json.loads(lines[-1]), measured.seconds, measured.max_rss_kb


# --- the real command --------------------------------------------------------------------------


def distrust_exe() -> Path:
    """The ``distrust`` console script of the interpreter running the benchmark."""
    exe = Path(sys.executable).with_name("distrust")
    if not exe.exists():
        raise BenchError(f"{exe} not found: install the project first (scripts/test.sh)")
    return exe


def command_env(resident_socket: Path | None = None) -> dict[str, str]:
    """The environment of a measured ``distrust`` run: the bench's warm cache, bytecode allowed.

    ``PYTHONDONTWRITEBYTECODE`` is dropped so the warm-up run leaves compiled bytecode behind,
    as ``pip install`` does; otherwise every run would recompile the modules it imports.
    Without ``resident_socket`` a resident analyser is ruled out (``DISTRUST_RESIDENT=0``), so a
    cold run stays cold even if the user left one running; with it, commands go to the
    benchmark's own analyser on that socket.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["DISTRUST_CACHE_DIR"] = str(DISTRUST_CACHE)
    if resident_socket is None:
        env["DISTRUST_RESIDENT"] = "0"
    else:
        env.pop("DISTRUST_RESIDENT", None)
        env["DISTRUST_RESIDENT_SOCKET"] = str(resident_socket)
    return env


@contextmanager
def resident_analyser() -> Iterator[Path]:
    """A resident analyser (``distrust resident start``) on a private socket, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="distrust-bench-") as tmp:
        sock = Path(tmp) / "resident" / "resident.sock"
        env = command_env(sock)
        started = subprocess.run(
            [str(distrust_exe()), "resident", "start", "--idle-timeout", "900"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if started.returncode != 0:
            raise BenchError(f"distrust resident start: {started.stderr.strip()[-400:]}")
        try:
            yield sock
        finally:
            subprocess.run(
                [str(distrust_exe()), "resident", "stop"], env=env, capture_output=True, timeout=120
            )


def run_command(args: list[str], repeat: int, resident_socket: Path | None = None) -> tuple[float, int]:
    """Median wall seconds and peak RSS (KiB) of ``distrust ARGS`` run ``repeat`` times, warm."""
    cmd = [str(distrust_exe()), *args]
    env = command_env(resident_socket)
    walls: list[float] = []
    peak = 0
    for n in range(repeat + 1):  # the first run only warms bytecode and the OS file cache
        measured = run_measured(cmd, timeout=CHILD_TIMEOUT_S, env=env)
        if measured.returncode not in (0, 1) or measured.timed_out:  # 1: findings at --fail-on
            detail = measured.stderr.strip()[-400:]
            raise BenchError(f"{' '.join(args)}: exit {measured.returncode}: {detail}")
        if n:
            walls.append(measured.seconds)
            peak = max(peak, measured.max_rss_kb)
    return statistics.median(walls), peak


# --- the benchmark ---------------------------------------------------------------------------


@dataclass
class Row:
    target: Target
    files: int = 0
    level: str = ""
    inspect_s: float = 0.0
    inspect_1p_s: float = 0.0
    diff_s: float = 0.0
    command_s: float = 0.0
    diff_command_s: float = 0.0
    resident_s: float = 0.0
    diff_resident_s: float = 0.0
    ours_rss_kb: int = 0
    gd_s: float | None = None
    gd_rss_kb: int | None = None
    gd_rules: int | None = None
    gd_error: str | None = None


def measure(
    target: Target, repeat: int, gd_exe: Path | None, gd_repeat: int, jobs: int, resident: Path
) -> Row:
    row = Row(target)
    answer, _, rss = run_child("inspect", [target.spec], repeat, jobs)
    row.inspect_s = statistics.median(answer["times"])
    row.files, row.level = int(answer["files"]), str(answer["level"])
    row.ours_rss_kb = rss
    answer, _, rss = run_child("inspect", [target.spec], repeat, 1)
    row.inspect_1p_s = statistics.median(answer["times"])
    row.ours_rss_kb = max(row.ours_rss_kb, rss)
    answer, _, rss = run_child("diff", [target.previous_spec, target.spec], repeat, jobs)
    row.diff_s = statistics.median(answer["times"])
    row.ours_rss_kb = max(row.ours_rss_kb, rss)
    flags = ["--format", "json", "--no-metadata"]
    row.command_s, rss = run_command(["inspect", target.spec, *flags], repeat)
    row.ours_rss_kb = max(row.ours_rss_kb, rss)
    row.diff_command_s, rss = run_command(["diff", target.previous_spec, target.spec, *flags], repeat)
    row.ours_rss_kb = max(row.ours_rss_kb, rss)
    # Through the resident analyser the work happens in its fork, whose memory the cold runs
    # above already measured; the client's own RSS is not a figure worth reporting.
    row.resident_s, _ = run_command(["inspect", target.spec, *flags], repeat, resident)
    diff_args = ["diff", target.previous_spec, target.spec, *flags]
    row.diff_resident_s, _ = run_command(diff_args, repeat, resident)
    if gd_exe is not None:
        archive = fetch_artifact(target.spec).archive
        runs: list[GuardDogResult] = [run_guarddog(gd_exe, "npm", archive) for _ in range(gd_repeat)]
        failed = [r.error for r in runs if r.error]
        if failed:
            row.gd_error = failed[0]
        else:
            row.gd_s = statistics.median(r.seconds for r in runs)
            row.gd_rss_kb = max(r.max_rss_kb for r in runs)
            row.gd_rules = len(runs[0].rules)
    return row


def render(rows: list[Row], gd_label: str, jobs: int) -> str:
    def mb(kb: int | None) -> str:
        return "-" if kb is None else f"{kb / 1024:.0f}"

    def ratio(peer: float | None, ours: float) -> str:
        return "-" if peer is None or ours <= 0 else f"{peer / ours:.1f}x"

    table = format_table(
        (
            "package",
            "files",
            "level",
            "inspect s",
            "inspect 1p s",
            "diff s",
            "process s",
            "diff process s",
            "resident s",
            "diff resident s",
            "ours MB",
            "GuardDog s",
            "GD MB",
            "GD rules",
            "GD/ours engine",
            "GD/ours process",
            "GD/ours resident",
        ),
        [
            [
                f"{r.target.name}@{r.target.version} (prev {r.target.previous})",
                r.files,
                r.level,
                f"{r.inspect_s:.3f}",
                f"{r.inspect_1p_s:.3f}",
                f"{r.diff_s:.3f}",
                f"{r.command_s:.3f}",
                f"{r.diff_command_s:.3f}",
                f"{r.resident_s:.3f}",
                f"{r.diff_resident_s:.3f}",
                mb(r.ours_rss_kb),
                "-" if r.gd_s is None else f"{r.gd_s:.2f}",
                mb(r.gd_rss_kb),
                "-" if r.gd_rules is None else r.gd_rules,
                ratio(r.gd_s, r.inspect_s),
                ratio(r.gd_s, r.command_s),
                ratio(r.gd_s, r.resident_s),
            ]
            for r in rows
        ],
    )
    checks = []
    for r in rows:
        limit = TARGET_SECONDS.get(r.target.name)
        if limit is not None:
            ok = r.inspect_s < limit
            checks.append(
                f"{'PASS' if ok else 'FAIL'}  {r.target.name} inspect {r.inspect_s:.2f} s < {limit:.0f} s"
            )
        ok = r.ours_rss_kb / 1024 < TARGET_RSS_MB
        checks.append(
            f"{'PASS' if ok else 'FAIL'}  {r.target.name} peak memory {r.ours_rss_kb / 1024:.0f} MB "
            f"< {TARGET_RSS_MB:.0f} MB"
        )
        if r.gd_s is not None:
            for what, ours in (("engine", r.inspect_s), ("command, resident", r.resident_s)):
                speedup = r.gd_s / ours
                checks.append(
                    f"{'PASS' if speedup >= TARGET_SPEEDUP else 'FAIL'}  {r.target.name} GuardDog/ours "
                    f"({what}) {speedup:.1f}x >= {TARGET_SPEEDUP:.0f}x"
                )
            checks.append(
                f"info  {r.target.name} GuardDog/ours (command, cold start) {r.gd_s / r.command_s:.1f}x"
            )
        if r.gd_error:
            checks.append(f"ERROR {r.target.name} GuardDog: {r.gd_error}")
    notes = [
        f"peer: {gd_label}",
        f"inspect/diff: median in-process engine time (fetch from warm cache + profile + assess), "
        f"up to {jobs} process(es) as distrust inspect uses; inspect 1p: the same in one process;",
        "process: median wall time of the real command, a fresh `distrust inspect SPEC --format json "
        "--no-metadata` (diff process: `distrust diff OLD NEW ...`), start-up and imports included;",
        "resident: the same fresh command while `distrust resident start` runs (the command is served by a "
        "fork of the warm analyser: no start-up or imports, the whole analysis still done per run);",
        "MB: peak RSS from wait4 (ours: max over all our child processes; GuardDog: max over its runs).",
    ]
    return "\n".join([*notes, "", table, "", *checks])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Risk Engine speed and memory vs GuardDog")
    parser.add_argument("--package", action="append", help="NAME@VERSION to measure (repeatable)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement of ours (default 5)")
    parser.add_argument("--gd-repeat", type=int, default=3, help="GuardDog runs per package (default 3)")
    parser.add_argument("--no-guarddog", action="store_true", help="measure our engine only")
    parser.add_argument("--child", nargs="+", metavar=("MODE", "SPEC"), help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)  # the child's processes
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        mode, specs = args.child[0], args.child[1:]
        return child_main(mode, specs, max(1, args.repeat), max(1, args.jobs))
    from distrust.analyze.profile import default_jobs

    jobs = default_jobs()  # what `distrust inspect` uses on this machine
    try:
        wanted = [split_name_version(p) for p in (args.package or DEFAULT_PACKAGES)]
        targets = [Target(name, version, previous_version(name, version)) for name, version in wanted]
        for t in targets:  # warm the cache: measured runs must not include downloads
            fetch_artifact(t.spec)
            fetch_artifact(t.previous_spec)
        gd_exe = None if args.no_guarddog else ensure_guarddog(log=_log)
        gd_label = "skipped (--no-guarddog)" if gd_exe is None else f"GuardDog {guarddog_version(gd_exe)}"
        rows = []
        with resident_analyser() as resident:
            for t in targets:
                _log(f"measuring {t.name}@{t.version} (diff from {t.previous}) …")
                rows.append(measure(t, max(1, args.repeat), gd_exe, max(1, args.gd_repeat), jobs, resident))
    except (BenchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a registry or disk failure: say what, without a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(render(rows, gd_label, jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
