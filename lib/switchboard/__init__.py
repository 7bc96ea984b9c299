"""Switchboard's shared package: contracts, configuration, logging, serving and domain types."""

__version__ = "0.1.0"
