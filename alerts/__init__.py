"""Alerts: detectors over the store, sensitive periods, channels, the delivery outbox and the
service's alert check. See README, "alerts.yaml" and "Run as a service"."""
