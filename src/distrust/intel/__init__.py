"""intel stage."""
