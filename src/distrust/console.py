"""The ``distrust`` console script: hand the call to a resident analyser, else run it here.

Kept to a few lines and two light imports because it runs before anything else on every
command: when ``distrust resident start`` has left a warm analyser running, a plain
``inspect``/``diff`` is served by it in a fraction of the time this process would need just
to import the engine; otherwise :func:`distrust.entry.main` takes over unchanged.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Console entry point (``[project.scripts]``)."""
    from distrust.resident.client import run_resident

    try:
        status = run_resident(sys.argv[1:])
    except KeyboardInterrupt:  # Ctrl-C while handing the call over: exit as Typer would
        sys.exit(130)
    if status is not None:
        sys.exit(status)
    from distrust.entry import main as entry_main

    entry_main()
