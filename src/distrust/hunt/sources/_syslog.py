"""Timestamps and bounded bookkeeping for MTA logs.

Classic syslog lines (``Sep 17 10:00:01 host prog[pid]: …``) carry no year and no zone. The
year is the caller's ``--year`` or the log file's modification year; a line that would then lie
in the future of the file (December lines read in January) belongs to the year before. Zone-less
times are the machine's local time, which is what syslog wrote. RFC 3339 stamps
(``2025-09-17T10:00:01.123+02:00``, rsyslog's high-precision format) are used as they are.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

from distrust.model import Notice

_CLASSIC = re.compile(r"^(?P<mon>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<time>\d\d:\d\d:\d\d) ")
_RFC3339 = re.compile(r"^(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) ")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}


class SyslogClock:
    """Turns syslog time stamps into aware datetimes for one file."""

    def __init__(self, path: Path, year: int | None) -> None:
        self.forced_year = year
        try:
            self.mtime: datetime | None = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        except OSError:
            self.mtime = None
        self.year = year or (self.mtime.year if self.mtime else datetime.now().year)

    def parse(self, line: str) -> datetime | None:
        found = _RFC3339.match(line)
        if found:
            try:
                when = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", found["stamp"]))
            except ValueError:
                return None
            return when if when.tzinfo else when.astimezone()
        found = _CLASSIC.match(line)
        if not found or found["mon"] not in _MONTHS:
            return None
        try:
            hour, minute, second = (int(x) for x in found["time"].split(":"))
            when = datetime(self.year, _MONTHS[found["mon"]], int(found["day"]), hour, minute, second)
        except ValueError:
            return None
        aware = when.astimezone()
        if self.forced_year is None and self.mtime and aware > self.mtime + timedelta(days=1):
            try:
                aware = when.replace(year=self.year - 1).astimezone()
            except ValueError:  # 29 February
                return aware
        return aware


K = TypeVar("K")
V = TypeVar("V")


class BoundedTable(Generic[K, V]):
    """Per-queue-id state that cannot grow without bound on a log whose messages never finish.

    Entries are evicted oldest first beyond ``limit``; the evicted pairs are returned so the
    caller can still emit what it knew.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> list[tuple[K, V]]:
        self._items[key] = value
        self._items.move_to_end(key)
        evicted: list[tuple[K, V]] = []
        while len(self._items) > self.limit:
            evicted.append(self._items.popitem(last=False))
        return evicted

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def drain(self) -> list[tuple[K, V]]:
        items = list(self._items.items())
        self._items.clear()
        return items

    def __len__(self) -> int:
        return len(self._items)


def iter_log_lines(path: Path, limit: int = 16 * 1024) -> Iterator[tuple[int, str] | Notice]:
    """(line number, text) for each line; over-long lines are cut, bad bytes replaced, both noted."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield Notice(f"cannot open log: {exc.strerror or exc}", path)
        return
    with handle:
        for number, raw in enumerate(iter(lambda: handle.readline(limit), b""), start=1):
            if len(raw) >= limit and not raw.endswith(b"\n"):
                yield Notice(f"log line longer than {limit} bytes cut", path, number)
                rest = raw
                while rest and not rest.endswith(b"\n"):
                    rest = handle.readline(limit)
            text = raw.decode("utf-8", "replace")
            yield number, text.rstrip("\r\n")
