"""Dossier builders: turn a :class:`~webapp.dossier.builders.types.Dossier` into files.

Nothing here imports Flask, the database or the app: a builder takes plain dataclasses
(and, for the ZIP, a callable that yields an evidence file's bytes) and returns bytes or
an iterator of bytes, so each one is tested by opening what it produced.
"""
