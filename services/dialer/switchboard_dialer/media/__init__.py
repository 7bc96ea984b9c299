"""The per-call media session of a voice line.

``playout``: bot frames paced to the line on absolute deadlines. ``voice_turns``:
which sentences of which turn were synthesised and played (heard text).
``barge_in``: when the caller's speech interrupts the bot; ``barge_in_state``:
the state machine that applies that rule to a call. ``speech_links``: the Listen
and Speak streams, reopened when the speech service restarts. ``events``: what
the media side reports to its session. ``voice``: the pipeline that ties them
together, a :class:`switchboard_dialer.output.CallOutput`.
"""
