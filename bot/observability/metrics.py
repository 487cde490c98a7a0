"""Prometheus metrics of the conversation core and the channels (exported at /metrics).

With several worker processes set PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TURNS = Counter("mc_turns_total", "Inbound messages answered", ["channel"])
TURN_LATENCY = Histogram(
    "mc_turn_latency_seconds", "Time from an inbound message to its replies", ["channel"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DUPLICATES = Counter("mc_duplicate_deliveries_total", "Redelivered messages answered from storage", ["channel"])
FALLBACKS = Counter("mc_fallbacks_total", "Turns the bot did not understand", ["channel"])
HANDOFFS = Counter("mc_handoffs_total", "Cases opened for a human coordinator", ["channel"])
EMERGENCIES = Counter("mc_emergencies_total", "Emergency replies", ["channel"])
ENGINE_ERRORS = Counter("mc_engine_unavailable_total", "Turns kept for later because Rasa did not answer", ["channel"])
RATE_LIMITED = Counter("mc_rate_limited_total", "Messages answered with the slow-down reply", ["channel"])
OUTBOX_DEPTH = Gauge("mc_outbox_pending", "Outbound messages waiting for delivery", multiprocess_mode="max")
OUTBOX_RETRIES = Counter("mc_outbox_retries_total", "Outbound delivery attempts that will be retried", ["channel"])
OUTBOX_SENT = Counter("mc_outbox_sent_total", "Outbound messages delivered", ["channel"])


def observe_replies(channel: str, customs: list[dict[str, object]]) -> None:
    """Count the markers of one turn's replies (fallback, handoff, emergency)."""
    if any(c.get("fallback") for c in customs):
        FALLBACKS.labels(channel).inc()
    if any(c.get("handoff") == "case_opened" for c in customs):
        HANDOFFS.labels(channel).inc()
    if any(c.get("emergency") for c in customs):
        EMERGENCIES.labels(channel).inc()
