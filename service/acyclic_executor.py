"""graphql-core's executor without its reference cycle, so that a request's objects are freed when it ends.

graphql-core 3.3's `Executor.__init__` keeps `self.async_helpers`, a tuple of two of its own bound methods: every
executor is a cycle, and with it everything it holds (the context with its services and DataLoaders, the
variables, the request) waited for the cyclic garbage collector. Under 8 concurrent trackUsage callers that
was ~150 objects a request and a young collection of ~45,000 of them every second, 40 to 80 ms long: the calls'
p99. The helpers here reach the executor through weak references: resolvers call them while it runs (the
executing coroutines hold it), and nothing calls them after."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfoHelpers
from graphql.execution import Executor


class AcyclicExecutor(Executor[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=weakly(self.gather_async_work), track=weakly(self.track_async_work)
        )


def weakly(method: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`method`, called through a weak reference to its executor."""
    reference = weakref.WeakMethod(method)

    def call(values: Any) -> Any:
        found = reference()
        if found is None:
            raise RuntimeError("the operation's execution has ended")
        return found(values)

    return call
