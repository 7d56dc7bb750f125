"""One generic registry per plugin kind, filled by decorators on small factories.

The decorator records name, version, the factory's arguments and the kind's typed traits (what
the engine needs to know about a plugin before it runs it: needs gradients, sample kinds, ...),
so that every stored result can say exactly what produced it (`Plugin.spec`). Built-in plugins are
imported lazily by module name, so the core never imports adapters or storage; third-party plugins
arrive through the `mmwatch.plugins` entry point group.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from mmwatch.params import ParamTypeError, checked_params
from mmwatch.types import stable_hash

T = TypeVar("T")
TraitsT = TypeVar("TraitsT")

ENTRY_POINT_GROUP = "mmwatch.plugins"


class UnknownPluginError(KeyError):
    """Raised for a name no plugin of that kind has; the message suggests the closest names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class PluginParamsError(ValueError):
    """A plugin was given arguments its factory does not take."""


class PluginSpec(BaseModel):
    """The exact, hashable description of a plugin instance: stored with every result."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: int
    params: dict[str, Any] = Field(default_factory=dict)
    changed: tuple[str, ...] = ()  # the params set away from their defaults (for the label only)

    def key(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "params": self.params}

    @cached_property
    def hash(self) -> str:
        return stable_hash(self.key())

    @property
    def label(self) -> str:
        """Short human name: `figstep`, or `pgd(eps=16)` when a default was changed."""
        if not self.changed:
            return self.name
        args = ",".join(f"{k}={self.params[k]}" for k in sorted(self.changed))
        return f"{self.name}({args})"


@dataclass(frozen=True)
class PluginInfo(Generic[TraitsT]):
    """A registered factory and what is known about it without calling it."""

    kind: str
    name: str
    version: int
    factory: Callable[..., Any]
    description: str
    traits: TraitsT

    def parameters(self) -> dict[str, Any]:
        """The factory's keyword arguments and their defaults (what a config may set)."""
        sig = inspect.signature(self.factory)
        return {
            p.name: (None if p.default is inspect.Parameter.empty else p.default)
            for p in sig.parameters.values()
            if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        }


@dataclass(frozen=True)
class Plugin(Generic[T, TraitsT]):
    """A built plugin: the object the factory returned plus the spec that recreates it."""

    spec: PluginSpec
    info: PluginInfo[TraitsT]
    obj: T

    @property
    def traits(self) -> TraitsT:
        return self.info.traits


class Registry(Generic[T, TraitsT]):
    """Name -> factory for one kind of plugin; `default_traits` is what an undeclared plugin gets."""

    def __init__(self, kind: str, default_traits: TraitsT, builtin_modules: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.default_traits = default_traits
        self._builtin_modules = builtin_modules
        self._entries: dict[str, PluginInfo[TraitsT]] = {}
        self._loaded = False

    def register(self, name: str, version: int = 1,
                 traits: TraitsT | None = None) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            existing = self._entries.get(name)
            if existing is not None and existing.factory.__qualname__ != factory.__qualname__:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            doc = inspect.getdoc(factory) or ""
            chosen = self.default_traits if traits is None else traits
            self._entries[name] = PluginInfo(self.kind, name, version, factory, doc.split("\n")[0], chosen)
            return factory

        return decorate

    def _load(self) -> None:
        if self._loaded:
            return
        for module in self._builtin_modules:
            importlib.import_module(module)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            ep.load()
        self._loaded = True

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def info(self, name: str) -> PluginInfo[TraitsT]:
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            known = ", ".join(sorted(self._entries)) or "none"
            raise UnknownPluginError(f"unknown {self.kind} {name!r}{hint} (known: {known})") from None

    def check(self, name: str, params: dict[str, Any] | None = None) -> PluginInfo[TraitsT]:
        """The plugin's info, once its parameter names are known and their values have the declared types."""
        info = self.info(name)
        self._given(info, params)
        return info

    def _given(self, info: PluginInfo[TraitsT], params: dict[str, Any] | None) -> dict[str, Any]:
        """The given parameters, checked against the factory's signature (strings converted)."""
        allowed = info.parameters()
        unknown = sorted(set(params or {}) - set(allowed))
        if unknown:
            raise PluginParamsError(
                f"{self.kind} {info.name!r} takes no parameter {', '.join(unknown)} "
                f"(allowed: {', '.join(sorted(allowed)) or 'none'})"
            )
        try:
            return checked_params(info.factory, dict(params or {}), f"{self.kind} {info.name!r}")
        except ParamTypeError as exc:
            raise PluginParamsError(str(exc)) from None

    def spec(self, name: str, params: dict[str, Any] | None = None) -> PluginSpec:
        """What `build` would record, without calling the factory (nothing is loaded or opened)."""
        info = self.info(name)
        given = self._given(info, params)
        allowed = info.parameters()
        full = _jsonable({**allowed, **given})
        defaults = _jsonable(allowed)
        changed = tuple(sorted(k for k in given if full[k] != defaults[k]))
        return PluginSpec(name=name, version=info.version, params=full, changed=changed)

    def build(self, name: str, params: dict[str, Any] | None = None) -> Plugin[T, TraitsT]:
        info = self.info(name)
        given = self._given(info, params)
        return Plugin(self.spec(name, params), info, info.factory(**given))


def _jsonable(value: Any) -> Any:
    """Keep what can be stored and hashed (dicts with their keys sorted); anything else becomes a string."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)
