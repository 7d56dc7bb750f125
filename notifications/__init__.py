"""Alert sinks: where mmwatch tells people that a model revision got less safe.

Each module registers one sink with `@sink(name)` (see mmwatch.alerts.sinks for the contract):
`webhook` (JSON to any URL), `slack` (an incoming webhook, Block Kit), `email` (SMTP with
STARTTLS) and `prefect-event` (one Prefect event per alert, for automations). A sink makes one
attempt per `send` and raises SinkError when the receiver did not take the alerts; retrying is the
caller's job. Secrets (URLs, tokens, passwords) are read from the environment at send time, by the
variable name the config gives, and never appear in an error.
"""
