"""The call-control and lease rules the backends share, checked without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard import domain
from switchboard.jobs import post_call_job_id
from switchboard_store.control_records import record, webhook_due
from switchboard_store.sql_leases import orphan_candidates_query, orphans, renewals

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
CALL = "00000000-0000-4000-8000-000000000001"


def _call(state: domain.CallState, synthesis_job: str = "") -> dict[str, object]:
    return {"call_id": CALL, "state": state.value, "attempt": 2, "synthesis_job": synthesis_job}


def test_a_webhook_is_not_due_while_the_call_is_live() -> None:
    assert not webhook_due(_call(domain.CallState.IN_PROGRESS), post_call_queued=False)


def test_a_webhook_is_due_at_once_for_an_ended_call_that_was_never_connected() -> None:
    assert webhook_due(_call(domain.CallState.FAILED), post_call_queued=False)


def test_a_webhook_waits_for_the_synthesis_of_this_attempt() -> None:
    ended = domain.CallState.ENDED
    assert not webhook_due(_call(ended), post_call_queued=True)
    stale = post_call_job_id(CALL, 1)
    assert not webhook_due(_call(ended, synthesis_job=stale), post_call_queued=True)
    assert webhook_due(_call(ended, synthesis_job=post_call_job_id(CALL, 2)), True)


def test_a_stored_key_reads_back_the_same_from_text_or_datetime() -> None:
    stored = {"client": "c", "key": "k", "request_hash": "h", "call_id": ""}
    as_text = record({**stored, "created_at": NOW.isoformat()}, fresh=True)
    as_datetime = record({**stored, "created_at": NOW}, fresh=True)
    assert as_text == as_datetime
    assert as_text.created_at == NOW and as_text.fresh


def test_the_orphan_query_names_the_dialect_placeholders_and_lock() -> None:
    by_owner = orphan_candidates_query("dialer-1", ("$1", "$2"), " FOR UPDATE SKIP LOCKED")
    assert "lease_owner = $1" in by_owner
    assert by_owner.endswith("LIMIT $2 FOR UPDATE SKIP LOCKED")
    expired = orphan_candidates_query("", ("?", "?"))
    assert "lease_expires_at <= ?" in expired and expired.endswith("LIMIT ?")


def _leased(call_id: str, owner: str, expires_in_sec: float, state: domain.CallState) -> dict:
    return {
        "call_id": call_id,
        "state": state.value,
        "lease_owner": owner,
        "lease_expires_at": NOW + timedelta(seconds=expires_in_sec),
        "lease_address": "10.0.0.1:50051",
    }


def test_a_renewal_keeps_only_the_calls_its_owner_still_runs() -> None:
    live = domain.CallState.IN_PROGRESS
    found = [
        _leased("mine", "dialer-1", 5, live),
        _leased("taken", "dialer-2", 5, live),
        _leased("over", "dialer-1", 5, domain.CallState.ENDED),
    ]
    renewed = renewals(found, "dialer-1", 30, NOW)
    assert [call_id for call_id, _ in renewed] == ["mine"]
    assert renewed[0][1].expires_at == NOW + timedelta(seconds=30)
    assert renewed[0][1].address == "10.0.0.1:50051"


def test_a_sweep_ends_only_expired_leases_or_a_restarted_owners_calls() -> None:
    live = domain.CallState.IN_PROGRESS
    expired, held = _leased("expired", "dialer-2", -1, live), _leased("held", "dialer-2", 5, live)
    assert orphans([expired, held], "", NOW) == [expired]
    assert orphans([expired, held], "dialer-2", NOW) == [expired, held]
    assert orphans([expired, held], "dialer-1", NOW) == []
