"""Well-known names and organisations for the metadata rules (data; see README.md)."""
