"""The ``switchboard`` command: run the services locally, simulate and evaluate calls.

Kept apart from the ``switchboard`` runtime package every service imports: the
launcher, the simulated callee and the evaluation harness are developer tools,
not something a service needs at run time.
"""
