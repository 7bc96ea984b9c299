"""Domain errors, and the one place where they become gRPC status codes.

Domain code raises these; servicers wrap their methods with
:func:`switchboard.grpc_edge.grpc_errors`, which maps them to status codes.
"""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base of every domain error. ``retryable`` says whether trying again may help."""

    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(SwitchboardError):
    """The caller sent something unusable; the message says what and how to fix it."""


class NotFound(SwitchboardError):
    """The named thing does not exist."""


class AlreadyExists(SwitchboardError):
    """A thing with that key exists already."""


class FailedPrecondition(SwitchboardError):
    """The request is valid but the system is not in a state to perform it."""


class Unavailable(SwitchboardError):
    """A dependency cannot be reached right now."""

    retryable = True


class DeadlineExceeded(SwitchboardError):
    """It took too long."""

    retryable = True
