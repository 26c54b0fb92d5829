"""Prometheus metrics of the live processor, on a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

__all__ = ["ProcessorMetrics"]

_LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class ProcessorMetrics:
    """Counters and histograms of cycles, streams, caches, rebuilds and signals.

    Examples
    --------
    >>> m = ProcessorMetrics()
    >>> m.cache.labels(result="hit").inc()
    >>> m.registry.get_sample_value("parity_cache_total", {"result": "hit"})
    1.0
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.cycle_seconds = Histogram(
            "parity_cycle_seconds",
            "Duration of one processor cycle.",
            buckets=_LATENCY_BUCKETS_S,
            registry=r,
        )
        self.stream_seconds = Histogram(
            "parity_stream_update_seconds",
            "Incremental update time of one stream in a cycle.",
            buckets=_LATENCY_BUCKETS_S,
            registry=r,
        )
        self.candles = Counter(
            "parity_candles_fetched", "Candles fetched from the source.", registry=r
        )
        self.queries = Counter(
            "parity_source_queries", "Queries sent to the candle source.", registry=r
        )
        self.cache = Counter(
            "parity_cache", "State loads by result (hit, miss).", ["result"], registry=r
        )
        self.rebuilds = Counter(
            "parity_rebuilds", "Streams rebuilt through the full path.", ["reason"], registry=r
        )
        self.fallbacks = Counter(
            "parity_fallbacks",
            "Stream cycles computed through the full path with Redis down.",
            registry=r,
        )
        self.audit_mismatches = Counter(
            "parity_audit_mismatches",
            "Audited streams whose state differed from the full path.",
            registry=r,
        )
        self.signals = Counter(
            "parity_signals", "Signals published, by side.", ["side"], registry=r
        )
        self.errors = Counter("parity_errors", "Errors by kind.", ["kind"], registry=r)

    def serve(self, port: int, address: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` over HTTP on ``address:port`` (loopback by default)."""
        start_http_server(port, addr=address, registry=self.registry)
