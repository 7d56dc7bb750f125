from __future__ import annotations

import pytest

from dataclasses import dataclass

from mmwatch.registry import PluginParamsError, Registry, UnknownPluginError


@dataclass(frozen=True)
class WidgetTraits:
    shiny: bool = False


def make_registry() -> Registry[object, WidgetTraits]:
    reg: Registry[object, WidgetTraits] = Registry("widget", WidgetTraits())

    @reg.register("figstep", version=3, traits=WidgetTraits(shiny=True))
    def figstep(font_size: int = 80, font: str = "mono") -> object:
        """Render the instruction as a list."""
        return ("figstep", font_size, font)

    @reg.register("typography")
    def typography() -> object:
        return "typo"

    return reg


def test_build_records_name_version_and_all_arguments() -> None:
    plugin = make_registry().build("figstep", {"font_size": 60})
    assert plugin.obj == ("figstep", 60, "mono")
    assert plugin.spec.name == "figstep" and plugin.spec.version == 3
    assert plugin.spec.params == {"font_size": 60, "font": "mono"}  # defaults recorded too
    assert plugin.traits.shiny is True and make_registry().info("typography").traits == WidgetTraits()
    assert plugin.info.description == "Render the instruction as a list."


def test_spec_without_building_is_what_build_records() -> None:
    reg = make_registry()
    assert reg.spec("figstep", {"font_size": 60}) == reg.build("figstep", {"font_size": 60}).spec
    with pytest.raises(PluginParamsError):
        reg.spec("figstep", {"size": 1})


def test_spec_hash_changes_with_params_and_version() -> None:
    reg = make_registry()
    a = reg.build("figstep").spec
    b = reg.build("figstep", {"font_size": 60}).spec
    assert a.hash != b.hash
    assert a.hash == reg.build("figstep", {"font_size": 80}).spec.hash  # explicit default = default
    assert b.label == "figstep(font_size=60)"
    assert a.label == "figstep"


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownPluginError, match=r"did you mean 'figstep'"):
        make_registry().info("figstep2")


def test_unknown_parameter_names_the_allowed_ones() -> None:
    with pytest.raises(PluginParamsError, match=r"font_sise.*allowed: font, font_size"):
        make_registry().build("figstep", {"font_sise": 3})


def test_registering_a_different_factory_under_a_taken_name_fails() -> None:
    reg = make_registry()
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("typography")(lambda: "other")


def test_builtin_registries_list_their_plugins() -> None:
    from mmwatch import plugins

    assert {"none", "typography", "figstep"} <= set(plugins.attacks.names())
    assert {"refusal-keywords", "exact-match", "target-string"} <= set(plugins.judges.names())
    assert {"reference", "hf"} <= set(plugins.adapters.names())
    assert "mmwatch-mini" in plugins.benchmarks.names()
    assert {"none", "system-prompt"} <= set(plugins.defenses.names())


def test_third_party_plugins_arrive_through_the_entry_point_group(monkeypatch: pytest.MonkeyPatch) -> None:
    import mmwatch.registry as registry_module

    reg: Registry[object, WidgetTraits] = Registry("widget", WidgetTraits())
    loaded: list[str] = []

    class EntryPoint:
        name = "my_widgets"

        def load(self) -> None:  # what importing the plugin package's module does
            loaded.append(self.name)
            reg.register("third-party", version=2)(lambda: "theirs")

    def entry_points(group: str) -> list[EntryPoint]:
        return [EntryPoint()] if group == registry_module.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry_module, "entry_points", entry_points)
    assert reg.names() == ["third-party"] and loaded == ["my_widgets"]
    assert reg.build("third-party").spec.version == 2
    reg.names()
    assert loaded == ["my_widgets"]  # loaded once
