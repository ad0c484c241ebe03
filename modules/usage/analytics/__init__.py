"""Answers about stored usage: totals and breakdowns (service, aggregates), grouped usage (grouping,
dimensions), time series (series), per-user views (user_types), which table answers (sources: the smallest
rollup that answers exactly, else the events), and which sums a request selected (selection, metrics)."""
