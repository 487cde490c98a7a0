"""Observability and data care: structured logs, Prometheus metrics, retention."""
