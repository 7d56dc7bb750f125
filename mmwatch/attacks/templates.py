"""`jailbreak`: the sample's question wrapped in a malicious-text template (survey §4.3).

The templates are versioned data (`data/jailbreak_templates_v{VERSION}.yaml`), written for
mmwatch after the failure modes of Wei et al. 2023 ("Jailbroken"): competing objectives (prefix
injection, refusal suppression, role play, persona, appeals, "ignore previous instructions") and
mismatched generalisation (hypotheticals, a harmless first hop). One template per attack
instance, named by the `template` parameter, so each is its own row in the matrix. A template
may also set a system prompt (the persona). The sample's own image, if any, is sent along:
the template only changes the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from mmwatch.plugins import AttackFn, attack
from mmwatch.types import Probe, Sample

VERSION = 1
DATA_DIR = Path(__file__).parent / "data"
PLACEHOLDER = "{question}"
TEMPLATE_NAMES = (
    "prefix-injection", "refusal-suppression", "hypothetical", "role-play", "appeal-to-emotion",
    "ignore-previous-instructions", "persona", "two-hop",
)
_FIELDS = {"family", "system", "user"}


@dataclass(frozen=True)
class Template:
    """One wrapping: `user` holds `{question}` once; `system` is optional."""

    name: str
    family: str
    user: str
    system: str | None = None

    def wrap(self, question: str) -> tuple[str | None, str]:
        """(system prompt, user text) for one question; replace, not format: questions hold braces."""
        return self.system, self.user.replace(PLACEHOLDER, question)


@lru_cache(maxsize=4)
def load_templates(version: int = VERSION) -> dict[str, Template]:
    """Read and check one version of the template file; errors name the file and the template."""
    path = DATA_DIR / f"jailbreak_templates_v{version}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data.get("version") != version:
        raise ValueError(f"{path}: field 'version' is {data.get('version')!r}, expected {version}")
    out: dict[str, Template] = {}
    for name, entry in (data.get("templates") or {}).items():
        where = f"{path} (template {name!r})"
        unknown = set(entry) - _FIELDS
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        user = entry.get("user") or ""
        if user.count(PLACEHOLDER) != 1:
            raise ValueError(f"{where}: 'user' must contain {PLACEHOLDER} exactly once")
        system = (entry.get("system") or "").strip() or None
        out[name] = Template(name, str(entry.get("family", "")), user.strip(), system)
    return out


@attack("jailbreak", version=VERSION)
def jailbreak(template: str = "prefix-injection") -> AttackFn:
    """Jailbreak prompt template around the question: prefix injection, role play, persona, ..."""
    templates = load_templates(VERSION)
    if template not in templates:
        raise ValueError(f"jailbreak: unknown template {template!r} (allowed: {', '.join(templates)})")
    chosen = templates[template]

    def run(sample: Sample) -> list[Probe]:
        question = " ".join(sample.text.split())
        system, text = chosen.wrap(question)
        image = sample.load_image()
        params = {
            "template": chosen.name,
            "family": chosen.family,
            "templates_version": VERSION,
            "system": system,
            "text": text,
        }
        return [Probe.for_sample(sample, system=system, text=text, images=(image,) if image is not None else (),
                                 attack_params=params)]

    return run
