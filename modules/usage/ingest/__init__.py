"""Recording calls: the GraphQL input (inputs) checked and authorised (validation, service: UsageService), priced
and stored with its hooks in one transaction (storing: EventWriter, StoredEventsHook), concurrent single calls
sharing one (group_commit), the payloads (types) and the mutations (resolvers). An event's cost is computed in
storing.py from providers' pricing."""
