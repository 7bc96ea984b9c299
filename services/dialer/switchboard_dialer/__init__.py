"""The dialer service."""
