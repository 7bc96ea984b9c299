"""The per-call media session of a voice line.

``playout``: bot frames paced to the line on absolute deadlines. ``voice_turns``:
which sentences of which turn were synthesised and played (heard text).
``barge_in``: when the caller's speech interrupts the bot. ``speech_links``:
the Listen and Speak streams, reopened when the speech service restarts.
``voice``: the pipeline that ties them to a call session.
"""
