"""Alerts: alerts.toml, rendering for each channel, the outbox that delivers each alert once."""
