"""Numbered SQL migrations of the SQLite store, applied in order at startup.

A file is named ``NNNN_what.sql``; once released, a file is never edited: a change
to the schema is a new file with the next number.
"""
