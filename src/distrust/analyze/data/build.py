"""Regenerate the popular-name lists the lookalike rule compares against.

Run ``python -m distrust.analyze.data.build NPM_TSV PYPI_TSV`` with the package lists
described in README.md. Kept beside the data so the lists can be rebuilt the same way when the
source lists are refreshed; distrust never runs it at inspect time.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from distrust.fsutil import atomic_write
from distrust.model import Ecosystem

HERE = Path(__file__).parent
TOP = 1000
# A name this established is a real package in its own right even when it sits one edit from a
# top name ("expresso" is not; "ethers" vs "ether" is): it goes to established-*.txt.
NPM_ESTABLISHED_DOWNLOADS = 500_000
PYPI_ESTABLISHED_RANK = 15_000  # every ranked PyPI name (the list ranks the top 15,000)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _write(name: str, header: str, rows: list[tuple[str, int]] | list[str]) -> None:
    lines = [f"# {line}" for line in header.strip().splitlines()]
    for row in rows:
        lines.append(f"{row[0]}\t{row[1]}" if isinstance(row, tuple) else row)
    atomic_write(HERE / name, "\n".join(lines) + "\n")


def build(npm_tsv: Path, pypi_tsv: Path) -> dict[str, int]:
    """Write popular-*.txt and established-*.txt; return how many names each file got."""
    npm = [(r["name"], d) for r in _rows(npm_tsv) if (d := _int(r.get("downloads_a_month"))) is not None]
    npm.sort(key=lambda item: (-item[1], item[0]))
    rank_column = "rank_among_15000_most_downloaded"
    pypi = [(r["name"], rank) for r in _rows(pypi_tsv) if (rank := _int(r.get(rank_column)))]
    pypi.sort(key=lambda item: (item[1], item[0]))
    top_npm = [(name, i) for i, (name, _) in enumerate(npm[:TOP], start=1)]
    top_pypi = [(name, i) for i, (name, _) in enumerate(pypi[:TOP], start=1)]
    _write("popular-npm.txt", f"Top {TOP} npm packages by downloads a month (rank, 1 = most).", top_npm)
    _write("popular-pypi.txt", f"Top {TOP} PyPI packages by download rank (rank, 1 = most).", top_pypi)
    _write("established-npm.txt", "(being rebuilt)", [])
    _write("established-pypi.txt", "(being rebuilt)", [])

    from distrust.analyze import metadata  # after the popular lists exist

    for fn in (metadata._name_index, metadata._lookalike_config):
        fn.cache_clear()
    established_npm = sorted(
        name
        for name, downloads in npm[TOP:]
        if downloads >= NPM_ESTABLISHED_DOWNLOADS and metadata.find_lookalikes(name, Ecosystem.NPM)
    )
    established_pypi = sorted(
        name
        for name, rank in pypi[TOP:]
        if rank <= PYPI_ESTABLISHED_RANK and metadata.find_lookalikes(name, Ecosystem.PYPI)
    )
    _write(
        "established-npm.txt",
        f"npm packages with at least {NPM_ESTABLISHED_DOWNLOADS:,} downloads a month that resemble a\n"
        "popular or official name: established packages, never reported as lookalikes.",
        established_npm,
    )
    _write(
        "established-pypi.txt",
        f"PyPI packages ranked within the {PYPI_ESTABLISHED_RANK:,} most downloaded that resemble a\n"
        "popular or official name: established packages, never reported as lookalikes.",
        established_pypi,
    )
    return {
        "popular-npm": len(top_npm),
        "popular-pypi": len(top_pypi),
        "established-npm": len(established_npm),
        "established-pypi": len(established_pypi),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("npm_tsv", type=Path, help="npm.tsv: name, version, downloads_a_month, summary")
    parser.add_argument("pypi_tsv", type=Path, help="pypi.tsv: name, version, month, rank_among_…, summary")
    args = parser.parse_args(argv)
    for label, count in build(args.npm_tsv, args.pypi_tsv).items():
        print(f"{label}: {count} names")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
