"""The rollups (daily, hourly, per-user daily) kept in step with the events in the insert transaction."""
