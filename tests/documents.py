"""GraphQL documents many tests send, in one place (a change of the API is made here once)."""

from __future__ import annotations

TRACK_BATCH = "mutation($inputs: [TrackUsageInput!]!) { trackUsageBatch(inputs: $inputs) { insertedCount } }"
