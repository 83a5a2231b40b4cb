"""Calls counted, not timed: the tests that guard a cost assert how often a mechanism ran (speed is
the benchmarks' job, bench/)."""

from collections import Counter


class CallCounter(Counter):
    def wrap(self, name, function):
        """`function`, counting each call under `name`."""
        def counted(*args, **kwargs):
            self[name] += 1
            return function(*args, **kwargs)
        return counted
