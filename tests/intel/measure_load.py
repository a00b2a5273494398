"""Print how long the advisory store takes to load and answer; run by hand, never by CI.

.venv/bin/python tests/intel/measure_load.py [N]   # N imported records, default 20000
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from distrust.intel import AdvisoryStore
from distrust.intel.update import import_advisories


def _timed(label: str, action):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    print(f"{label:<44} {1000 * (time.perf_counter() - start):9.1f} ms")
    return result


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        store = _timed("load, bundled snapshot only", lambda: AdvisoryStore.load(data_dir))
        _timed("match postmark-mcp 1.0.16 (bundled)", lambda: store.match("npm", "postmark-mcp", "1.0.16"))
        feed = Path(tmp) / "feed"
        for n in range(count):
            record = {
                "id": f"MAL-2099-{n}",
                "modified": "2025-01-01T00:00:00Z",
                "summary": f"Malicious code in pkg-{n} (npm)",
                "affected": [
                    {
                        "package": {"ecosystem": "npm", "name": f"pkg-{n}"},
                        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
                    }
                ],
                "database_specific": {"iocs": {"domains": [f"evil-{n}.test"]}},
            }
            path = feed / f"pkg-{n % 100}" / f"MAL-2099-{n}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record), encoding="utf-8")
        label = f"import {count} records (directory tree)"
        report = _timed(label, lambda: import_advisories(str(feed), data_dir))
        print(f"  added={report.added} skipped={report.skipped}")
        store = _timed(f"load, snapshot + {count} imported", lambda: AdvisoryStore.load(data_dir))
        _timed("len()", lambda: len(store))
        _timed("first match (opens the database)", lambda: store.match("npm", f"pkg-{count - 1}", "1.0.0"))
        _timed("match postmark-mcp 1.0.16", lambda: store.match("npm", "postmark-mcp", "1.0.16"))
        unknown = [f"x-{i}" for i in range(100)]
        _timed("100 matches of unknown packages", lambda: [store.match("npm", n, "1.0.0") for n in unknown])
        _timed("iocs()", lambda: store.iocs())
        store.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
