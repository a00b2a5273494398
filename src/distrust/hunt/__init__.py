"""hunt stage."""
