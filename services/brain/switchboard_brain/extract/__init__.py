"""Pure extractors: turn a caller's words into claim values and intents.

Every function here is deterministic, allocation-light and free of I/O, so a
turn of the ``form`` policy costs well under a millisecond. Regexes are
compiled once, at import.
"""
