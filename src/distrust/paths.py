"""Where distrust keeps its own state: advisories, the package cache, audit logs.

Every location can be overridden by an environment variable so tests, CI and companies with
shared caches never touch a user's real directories.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "distrust"

# platformdirs is imported in each function: only the default locations need it, and a fresh
# ``distrust inspect`` should not pay for importing it when an override is set.


def data_dir() -> Path:
    """Durable state (advisory store, audit log, CA key): ``$DISTRUST_DATA_DIR`` or the OS default."""
    override = os.environ.get("DISTRUST_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP))


def cache_dir() -> Path:
    """Re-creatable state (downloaded artifacts): ``$DISTRUST_CACHE_DIR`` or the OS default."""
    override = os.environ.get("DISTRUST_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP))


def config_dir() -> Path:
    """What the user reviews and may commit (``distrust.lock``): ``$DISTRUST_CONFIG_DIR`` or default."""
    override = os.environ.get("DISTRUST_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP))
