"""intel stage: what the world already knows about a package version (OSV advisories).

``AdvisoryStore.load()`` merges the bundled snapshot with imported records;
``store.match(ecosystem, name, version)`` answers with :class:`distrust.model.Advisory` records.
``npm_semver`` is npm's exact version ordering and range matching, for the resolver and the
registry gateway too.
"""

from distrust.intel.osv import IntelError, Ioc
from distrust.intel.store import AdvisoryStore, MatchResult

# ``distrust.intel.update`` (the importer) is not imported here: it pulls in the HTTP client,
# which a scan never needs. Import it from its module.
__all__ = ["AdvisoryStore", "IntelError", "Ioc", "MatchResult"]
