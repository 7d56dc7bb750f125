"""A plugin's parameters checked against its factory's signature, before anything is built.

`concurrency: eight` in a config, or `-p tiny=false` on the command line, must fail (or be read)
when the config is loaded, naming the parameter and the type it wants, not deep inside a run as
"'<' not supported between 'str' and 'int'". A string given for a parameter of another type (the
command line gives only strings) is converted: "false" for a bool, "3" for an int, and "a,b" for a
list (its items split at commas, then converted); any other value is checked but kept as given, so
the specs, and the hashes of stored results, stay what they were.
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

_LAX = ConfigDict(arbitrary_types_allowed=True)
_QUALIFIED = re.compile(r"\b(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*)")  # mmwatch.x.Variant -> Variant
_SEQUENCES = (list, tuple, set, frozenset)


class ParamTypeError(ValueError):
    """A parameter's value does not have the type its factory declares."""


@functools.cache
def _adapters(factory: Callable[..., Any]) -> dict[str, tuple[Any, TypeAdapter[Any]]]:
    """Type adapters for the factory's annotated parameters (those that can be resolved and checked)."""
    try:
        hints = typing.get_type_hints(factory)
    except Exception:  # noqa: BLE001 - a hint that only resolves under TYPE_CHECKING: not checked
        return {}
    out: dict[str, tuple[Any, TypeAdapter[Any]]] = {}
    for name in inspect.signature(factory).parameters:
        hint = hints.get(name)
        if hint is None or hint is Any:
            continue
        try:
            out[name] = (hint, TypeAdapter(hint, config=_LAX))
        except Exception:  # noqa: BLE001 - a type pydantic cannot check (a callable, a custom class)
            try:
                out[name] = (hint, TypeAdapter(hint))
            except Exception:  # noqa: BLE001
                continue
    return out


def type_name(hint: Any) -> str:
    text = getattr(hint, "__name__", None) if not typing.get_args(hint) else None
    return text or _QUALIFIED.sub(r"\1", str(hint))


def _takes_sequence(hint: Any) -> bool:
    """Whether the hint accepts a list (`list[str]`, `list[X] | None`): a string may then be split."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_takes_sequence(arg) for arg in typing.get_args(hint))
    return origin in _SEQUENCES or hint in _SEQUENCES


def _validate(adapter: TypeAdapter[Any], hint: Any, value: Any) -> Any:
    """The value as the declared type; a string for a list parameter is read as comma-separated items."""
    try:
        return adapter.validate_python(value)
    except ValidationError:
        if not (isinstance(value, str) and _takes_sequence(hint)):
            raise
    return adapter.validate_python([item.strip() for item in value.split(",") if item.strip()])


def checked_params(factory: Callable[..., Any], params: dict[str, Any], where: str) -> dict[str, Any]:
    """`params` with strings converted to their declared types; ParamTypeError names the first bad one."""
    adapters = _adapters(factory)
    out = dict(params)
    for name, value in params.items():
        if name not in adapters:
            continue
        hint, adapter = adapters[name]
        try:
            converted = _validate(adapter, hint, value)
        except ValidationError as exc:
            why = exc.errors()[0]["msg"] if exc.errors() else str(exc)
            raise ParamTypeError(f"{where} parameter {name}: expected {type_name(hint)}, got {value!r} ({why})") from None
        if isinstance(value, str) and not isinstance(converted, str):
            out[name] = converted
    return out
