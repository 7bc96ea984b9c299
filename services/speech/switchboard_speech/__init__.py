"""The speech service."""
