from datetime import UTC, datetime

from switchboard import convert, domain


def test_a_call_survives_the_round_trip_through_the_wire_format() -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    call = domain.Call(
        call_id="7f1f0c2e-3a43-4c8e-9b7e-0d7c6b1d2a11",
        initiate=domain.CallRequest(
            bot_company="Contoso",
            bot_name="Joe",
            phone_number="+14155550100",
            agent_phone_number="+14155550199",
            task="File a claim",
            claim=(domain.ClaimField(name="when", type=domain.ClaimFieldType.DATETIME),),
        ),
        state=domain.CallState.IN_PROGRESS,
        created_at=now,
        claim={"when": "2026-11-16T00:00:00-08:00"},
        messages=[
            domain.Message(persona=domain.Persona.HUMAN, content="hi", seq=1, created_at=now),
            domain.Message(
                persona=domain.Persona.ASSISTANT, content="hello", seq=2, interrupted=True
            ),
        ],
        reminders=[domain.Reminder(title="Call back", due_at=now)],
        synthesis=domain.Synthesis(short="the claim", satisfaction="high"),
        next_action=domain.NextAction(action="case_closed", justification="done"),
    )
    assert convert.call_from_pb(convert.call_to_pb(call)) == call
