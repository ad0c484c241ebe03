"""The filter every usage query takes: its GraphQL input (inputs), checked against the caller's access
(resolve), and as SQL conditions on the events and rollups (conditions)."""
