"""``switchboard eval``: scenario suites that score every call, in code and with a judge.

``spec`` is the scenario format, ``record`` what one call produced, ``checks`` the
code-checked expectations, ``judge`` the natural-language criteria, ``runner`` the
concurrent driver and ``report`` the table and ``results.jsonl``.
"""
