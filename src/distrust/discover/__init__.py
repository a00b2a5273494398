"""discover: find the MCP servers that client configs declare.

``discover(home, projects=..., extra_configs=..., env=...)`` checks every location of every
supported client (listed as data in ``clients.toml``) and returns a :class:`Discovery`: one
:class:`~distrust.model.ServerSpec` per server entry, a :class:`~distrust.model.Notice` per
file or entry that could not be read, and the config files that were read.
"""

from distrust.discover.engine import Discovery, discover

__all__ = ["Discovery", "discover"]
