"""The read-only view a judge gets as ``ctx.aws``: the facts its check declared, nothing else.

A judge calls readers as it always did (``ctx.aws.subnets(ids)``); the view answers a call
whose reader and arguments match a declared :class:`~hyperpod_preflight.registry.Need` from
what the run gathered, and raises :class:`~hyperpod_preflight.registry.UndeclaredRead` for
anything else, so a judge can never start I/O of its own. A declared read that failed raises
its :class:`~hyperpod_preflight.errors.FactUnavailable` again (the check says UNKNOWN).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import FactUnavailable
from ..registry import Need, UndeclaredRead, need

# Plain attributes of the facts layer a judge may read without declaring them (set before
# any check runs: the region, and the caller verified at the start of the run).
ATTRIBUTES = frozenset({"region", "account", "caller_arn"})
# Pure helpers on the facts layer (no I/O).
PURE = frozenset({"endpoint_service_name"})


def _implied(reader: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Need] | None:
    """Readers computed from other readers: the needs that answer them."""
    if reader == "caller_identity":
        return [need("identity_arn")]
    if reader == "cluster_vpc_id":
        subnet_ids = [s for s in dict.fromkeys(args[0] if args else ()) if s]
        given = args[1] if len(args) > 1 else kwargs.get("given")
        return [] if given or not subnet_ids else [need("subnets", subnet_ids)]
    return None


def covers(declared: tuple[Any, ...], asked: tuple[Any, ...]) -> bool:
    """``asked`` is ``declared``, or the same reader on a part of its batch of ids (a check
    that declared all the config's subnets may read one of them)."""
    if declared == asked:
        return True
    (d_reader, d_args, d_kwargs), (a_reader, a_args, a_kwargs) = declared, asked
    if d_reader != a_reader or d_kwargs != a_kwargs or len(d_args) != len(a_args):
        return False
    batch = False
    for d, a in zip(d_args, a_args, strict=True):
        if d == a:
            continue
        if not (_is_batch(d) and _is_batch(a) and set(a[1]) <= set(d[1])):
            return False
        batch = True
    return batch


def _is_batch(canon: Any) -> bool:
    return isinstance(canon, tuple) and len(canon) == 2 and canon[0] == "*"


class FactsView:
    """What one check may read: ``answer`` answers a declared need (gathered: it does not
    wait); ``offline`` is True when the run has no AWS access."""

    def __init__(
        self,
        answer: Callable[[Need], Any],
        allowed: Iterable[tuple[Any, ...]],
        *,
        owner: str,
        attributes: Mapping[str, Any],
        pure: dict[str, Callable[..., Any]],
        offline: bool = False,
    ) -> None:
        self._answer = answer
        self._allowed = frozenset(allowed)
        self._owner = owner
        self._attributes = attributes
        self._pure = pure
        self.offline = offline

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._attributes:
            return self._attributes[name]
        if name in self._pure:
            return self._pure[name]

        def read(*args: Any, **kwargs: Any) -> Any:
            asked = need(name, *args, **kwargs)
            implied = _implied(name, asked.args, kwargs)
            if implied is not None:
                for n in implied:
                    self._require(n)
                return self._answer(asked)
            self._require(asked)
            return self._answer(asked)

        return read

    def _require(self, asked: Need) -> None:
        key = asked.key
        if key not in self._allowed and not any(covers(d, key) for d in self._allowed):
            raise UndeclaredRead(
                f"{self._owner} read {asked} without declaring it in its needs(spec, plan)"
            )


def unavailable_offline(asked: Need) -> Any:
    raise FactUnavailable("-", "error", f"{asked.reader} needs AWS access (--offline)")
