"""Channels: verify, parse and send. Nothing else lives here."""
