"""Per-call tokens in carrier URLs."""

from __future__ import annotations

import pytest

from switchboard.carrier_tokens import TOKEN_CHARS, call_token, check_call_token


def test_a_calls_token_matches_only_that_call_under_that_key() -> None:
    token = call_token("key", "call-1")
    assert len(token) == TOKEN_CHARS
    assert check_call_token("key", "call-1", token)
    assert not check_call_token("key", "call-2", token)
    assert not check_call_token("other", "call-1", token)
    assert not check_call_token("key", "call-1", "")


def test_without_a_key_no_token_is_made_and_none_matches() -> None:
    with pytest.raises(ValueError, match="signing key"):
        call_token("", "call-1")
    assert not check_call_token("", "call-1", "0" * TOKEN_CHARS)
