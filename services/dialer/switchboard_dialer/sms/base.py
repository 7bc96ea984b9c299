"""The SMS seam: one base class, one vendor per module."""

from __future__ import annotations

from abc import ABC, abstractmethod


class SmsProvider(ABC):
    """Sends a text message on behalf of a call."""

    name: str = ""
    # Whether a message leaves the building; ``log`` only records it.
    delivers: bool = False

    @abstractmethod
    async def send(self, call_id: str, to: str, text: str) -> str:
        """Sends ``text`` to ``to`` (E.164); returns the provider's message id."""

    async def close(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Releases the provider's resources at shutdown."""
