"""Numbered SQL migrations of the PostgreSQL store, applied by ``switchboard migrate``.

A file is named ``NNNN_what.sql``; once released, a file is never edited: a change
to the schema is a new file with the next number. They mirror the SQLite ones
(``switchboard_store/migrations``) version for version.
"""
