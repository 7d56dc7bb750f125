"""Safety regressions, told to people: what is watched, the alert's life, and where it is sent.

`watch` finds the comparisons that got worse; `lifecycle` raises each alert once and keeps its
state; `delivery` sends new alerts to the configured sinks (plugins, see `sinks`), keeping the
ones a sink could not take for the next cycle.
"""
