"""Numbered schema migrations: `NNN_name.sql`, or `NNN_name.py` with `migrate(con)` when rows must be
rewritten by code the core owns (a hash). storage.schema applies what a store is missing, in order."""
