"""Imports into an org's vault: formats in, the encrypted upload, the job, the worker.

`formats/` turns a file into `ParsedItem`s (pure Python, no database, no keys); the
pipeline stores the upload encrypted, and a Celery task seals the items under a
fresh data key sealed to the org's authenticated public key: write-only.
"""
