"""Readiness and Prometheus metrics of every nightdesk process (lowest layer: no bot imports)."""
