"""Sessions (conversations, agent runs): their summaries (repository), paging and completion (service), types
and resolvers."""
