"""Recording calls: the GraphQL input (inputs) checked (validation), priced and stored with its hooks in one
transaction (service: UsageService, StoredEventsHook), the payloads (types) and the mutations (resolvers).
An event's cost is computed in service.py from providers' pricing."""
