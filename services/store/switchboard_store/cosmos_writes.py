"""Changes to a call on Cosmos DB: the rules of :mod:`switchboard_store.write_rules`
applied to a :class:`~switchboard_store.cosmos_calls.CallChange`.

Each function reads the call document as the change found it and records what to
write; the repository commits the change (or retries it on a fresh read when another
writer got there first). A function may run more than once for one call to the
repository: it must only decide, never write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from switchboard import domain
from switchboard.call_leases import CallLease
from switchboard.jobs import POST_CALL
from switchboard_store import cosmos_control, cosmos_jobs, rows, write_rules
from switchboard_store.cosmos_calls import CallChange, turn_key
from switchboard_store.repository import ClaimUpdateResult

MessageReader = Callable[[int], Awaitable[domain.Message]]


def set_call_state(
    change: CallChange, state: domain.CallState, reason: str, lease: CallLease | None = None
) -> None:
    call = change.call
    decided = write_rules.state_change(change.call_id, call, state, reason, lease, change.now)
    change.set(
        state=state.value,
        state_reason=decided.reason,
        attempt=int(call["attempt"]) + decided.added_attempts,
    )
    if decided.lease is not None:
        write_lease(change, decided.lease)
    change.touch(interaction=True)
    if not decided.changed:
        return
    change.add_event(state)
    if decided.line is not None:
        change.add_message(decided.line)
    if decided.post_call_job_id is not None:
        # The outbox: the job is kept in the call document, committed with the ending,
        # and copied to ``jobs`` after the commit (or by the sweep after a crash).
        cosmos_jobs.queue(change, POST_CALL, decided.post_call_job_id)
        change.set(post_call_job=decided.post_call_job_id)
    elif state.is_terminal:
        # Never connected: its report is complete now, so its webhook is due.
        cosmos_control.queue_webhook(change)


def write_lease(change: CallChange, lease: write_rules.LeaseWrite) -> None:
    change.set(
        lease_owner=lease.owner,
        lease_expires_at=rows.stamp_or_none(lease.expires_at),
        lease_address=lease.address,
    )


def set_call_language(change: CallChange, lang: str) -> None:
    change.set(lang=lang)
    change.touch()


async def append_messages(
    change: CallChange,
    messages: Sequence[domain.Message],
    policy_state: str | None,
    read_message: MessageReader,
) -> list[domain.Message]:
    stored = [await _store_message(change, m, read_message) for m in messages]
    if policy_state is not None:
        change.set(policy_state=policy_state)
    change.touch(interaction=bool(messages))
    return stored


async def _store_message(
    change: CallChange, msg: domain.Message, read_message: MessageReader
) -> domain.Message:
    """Appends ``msg``, or replaces content and ``interrupted`` of its turn's stored message."""
    seq = change.call["turns"].get(turn_key(msg.persona, msg.turn_id)) if msg.turn_id else None
    if seq is None:
        return change.add_message(msg)
    existing = change.pending.get(seq) or await read_message(int(seq))
    replaced = write_rules.replacement(existing, msg)
    if replaced is None:
        return existing
    change.replace_message(replaced)
    return replaced


async def update_claim(
    change: CallChange,
    updates: Sequence[tuple[str, str]],
    messages: Sequence[domain.Message],
    read_message: MessageReader,
) -> ClaimUpdateResult:
    applied = write_rules.claim_changes(change.call["initiate_json"], updates)
    if messages:  # the words first, so a watcher hears them before the claim changes
        await append_messages(change, messages, None, read_message)
    result, writes = write_rules.merge_claim(dict(change.call["claim"]), applied)
    for claim_change in writes:
        change.call["claim"][claim_change.field] = claim_change.value
        change.add_event(claim_change)
    if writes:
        change.touch()
    return result


def upsert_reminder(change: CallChange, reminder: domain.Reminder) -> domain.Reminder:
    kept = {r["title"]: r for r in change.call["reminders"]}
    created = kept[reminder.title]["created_at"] if reminder.title in kept else None
    stamp = rows.stamp(change.now)
    kept[reminder.title] = {
        "title": reminder.title,
        "description": reminder.description,
        "due_at": rows.stamp_or_none(reminder.due_at),
        "owner": reminder.owner,
        "created_at": created or stamp,
        "updated_at": stamp,
    }
    change.set(reminders=sorted(kept.values(), key=lambda r: (r["created_at"], r["title"])))
    stored = rows.reminder_from_row(kept[reminder.title])
    change.add_event(stored)
    change.touch()
    return stored


def save_synthesis(
    change: CallChange,
    synthesis: domain.Synthesis,
    next_action: domain.NextAction,
    sms_summary: str,
    job_id: str,
) -> None:
    if write_rules.synthesis_stored_by(change.call, job_id):
        return
    change.set(
        synthesis_json=synthesis.model_dump_json(),
        next_action_json=next_action.model_dump_json(),
        sms_summary=sms_summary,
        synthesis_job=job_id,
    )
    change.add_event(synthesis)
    change.touch()
    cosmos_control.queue_webhook(change)  # the report is complete
