"""Deleting events older than the retention, in chunks; the rollups keep their sums."""
