"""Host requirement profiles: data files, loaded and overridden here.

A profile (``host/profiles/<name>.json``) lists requirement items, each with an ``id`` (the
key ``--require KEY=VALUE`` overrides), the ``check`` that judges it, a ``description``, a
``level`` (``required`` fails, ``optional`` warns) and a ``threshold``. Checks never hold
thresholds of their own: they read them from the profile, so a requirement changes by editing
data, not code.
"""

from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from ..errors import InputError

DEFAULT_PROFILE = "hyperpod-node"


@dataclass(kw_only=True)
class Requirement:
    id: str
    check: str
    description: str
    level: Literal["required", "optional"] = "required"
    threshold: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    overridden: bool = False

    @property
    def required(self) -> bool:
        return self.level == "required"


@dataclass(kw_only=True)
class Profile:
    name: str
    description: str
    requirements: list[Requirement]

    def get(self, key: str) -> Requirement | None:
        for item in self.requirements:
            if item.id == key:
                return item
        return None

    def for_check(self, check_id: str) -> list[Requirement]:
        return [r for r in self.requirements if r.check == check_id]


def _profile_files() -> dict[str, str]:
    folder = resources.files("hyperpod_preflight.host").joinpath("profiles")
    return {
        entry.name[: -len(".json")]: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


_LEVELS = ("required", "optional")


def _requirement(item: Any) -> Requirement:
    """One requirement item of a packaged file, checked as its pydantic model did (unknown
    keys ignored); anything else is a ValueError."""
    if not isinstance(item, dict):
        raise ValueError(f"a requirement is not an object: {item!r}")
    texts = [item.get(key) for key in ("id", "check", "description")]
    level = item.get("level", "required")
    params = item.get("params", {})
    overridden = item.get("overridden", False)
    if not all(isinstance(t, str) for t in texts) or level not in _LEVELS:
        raise ValueError(f"requirement {item.get('id')!r}: id, check, description or level")
    if not isinstance(params, dict) or not isinstance(overridden, bool):
        raise ValueError(f"requirement {item.get('id')!r}: params or overridden")
    return Requirement(
        id=item["id"],
        check=item["check"],
        description=item["description"],
        level=level,
        threshold=item.get("threshold"),
        params=params,
        overridden=overridden,
    )


def _profile(data: Any) -> Profile:
    """A packaged profile file's JSON as a :class:`Profile` (no pydantic on the host path)."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    name, description, items = data.get("name"), data.get("description"), data.get("requirements")
    if not isinstance(name, str) or not isinstance(description, str):
        raise ValueError("name and description must be text")
    if not isinstance(items, list):
        raise ValueError("requirements must be a list")
    return Profile(
        name=name, description=description, requirements=[_requirement(i) for i in items]
    )


@lru_cache(maxsize=1)
def _all_profiles() -> dict[str, Profile]:
    profiles = {}
    for name, text in _profile_files().items():
        try:
            profile = _profile(json.loads(text))
        except ValueError as exc:  # a broken packaged file is our bug
            raise RuntimeError(f"host profile {name}.json is invalid: {exc}") from exc
        profiles[name] = profile
    return profiles


@lru_cache(maxsize=1)
def deep_requirements() -> tuple[Requirement, ...]:
    """The items ``--deep`` adds to a profile (``host/deep/requirements.json``)."""
    folder = resources.files("hyperpod_preflight.host").joinpath("deep")
    data = json.loads(folder.joinpath("requirements.json").read_text(encoding="utf-8"))
    return tuple(_requirement(item) for item in data["requirements"])


def add_deep_requirements(profile: Profile) -> Profile:
    """``profile`` with the ``--deep`` items it does not define itself appended."""
    for item in deep_requirements():
        if profile.get(item.id) is None:
            profile.requirements.append(copy.deepcopy(item))
    return profile


def profile_names() -> list[str]:
    return sorted(_all_profiles())


def load_profile(name: str) -> Profile:
    """A fresh copy of profile ``name`` (overrides never leak between runs)."""
    profiles = _all_profiles()
    if name not in profiles:
        close = difflib.get_close_matches(name, list(profiles), n=2)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(
            f"--profile: unknown profile {name!r}{hint} (choose from {', '.join(sorted(profiles))})"
        )
    return copy.deepcopy(profiles[name])


def known_requirements() -> dict[str, Requirement]:
    """Every requirement id of every profile (the first profile defining it wins)."""
    known: dict[str, Requirement] = {}
    for name in sorted(_all_profiles(), key=lambda n: (n != DEFAULT_PROFILE, n)):
        for item in _all_profiles()[name].requirements:
            known.setdefault(item.id, item)
    for item in deep_requirements():
        known.setdefault(item.id, item)
    return known


def _coerce(value: str, like: Any, key: str) -> Any:
    text = value.strip()
    if isinstance(like, bool):
        low = text.lower()
        if low in ("true", "yes", "on", "1"):
            return True
        if low in ("false", "no", "off", "0"):
            return False
        raise InputError(f"--require {key}={value}: expected true or false")
    if isinstance(like, int) and not isinstance(like, bool):
        if key in ("gpu-count", "efa-count") and text == "instance-type":
            return text
        try:
            return int(text)
        except ValueError as exc:
            raise InputError(f"--require {key}={value}: expected a whole number") from exc
    if isinstance(like, float):
        try:
            return float(text)
        except ValueError as exc:
            raise InputError(f"--require {key}={value}: expected a number") from exc
    if isinstance(like, list):
        return [part.strip() for part in text.split(",") if part.strip()]
    if key in ("gpu-count", "efa-count") and text != "instance-type":
        try:
            return int(text)
        except ValueError as exc:
            raise InputError(
                f"--require {key}={value}: expected a whole number or instance-type"
            ) from exc
    return text


def parse_requires(values: list[str] | tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise InputError(
                f"--require {raw!r}: expected KEY=VALUE (see hp-preflight host list-profiles)"
            )
        out[key.strip()] = value
    return out


def apply_overrides(profile: Profile, overrides: dict[str, str]) -> Profile:
    """``--require KEY=VALUE``: change a threshold of the profile, or add a requirement that
    another profile defines (as required). Unknown keys are a usage error."""
    known = known_requirements()
    for key, value in overrides.items():
        item = profile.get(key)
        if item is None:
            template = known.get(key)
            if template is None:
                close = difflib.get_close_matches(key, list(known), n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise InputError(
                    f"--require: unknown requirement {key!r}{hint} "
                    "(see hp-preflight host list-profiles)"
                )
            item = replace(copy.deepcopy(template), level="required")
            profile.requirements.append(item)
        item.threshold = _coerce(value, item.threshold, key)
        item.overridden = True
    return profile
