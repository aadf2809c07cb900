"""The check contract: the registry of checks under stable ids, the facts a check declares,
and the context a check reads.

A check is a judge: a function of a context that returns (or yields)
:class:`~hyperpod_preflight.models.Outcome` objects, one per resource judged. It does no I/O.
Beside it, ``needs(spec, plan)`` returns the fact requests it will read: :class:`Need`
(a reader of the facts layer and its arguments, e.g. ``need("vpc", vpc_id)``) and
:class:`Then` (requests that depend on facts already gathered: the NAT gateways that the
route tables name). The run gathers every request of the selected checks at once, then calls
each judge with ``ctx.aws``, a read-only view that answers exactly what its check declared
and raises :class:`UndeclaredRead` on anything else. Host checks read ``ctx.host``.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .check_index import CHECK_INDEX
from .results import CheckInfo, Outcome, Severity

if TYPE_CHECKING:
    from .facts.aws import AwsFacts
    from .facts.local import LocalFacts
    from .facts.regions import RegionalFacts
    from .host.models import HostFacts
    from .planner import ClusterPlan
    from .runs.view import FactsView
    from .spec import ClusterSpec

    class FactsReaders(AwsFacts, LocalFacts, RegionalFacts):  # type: ignore[misc]  # (mixins: see facts.aws)
        """What a judge reads through ``ctx.aws`` (a view: only what it declared)."""


def _canon(value: Any) -> Any:
    """A hashable, order-free form of a reader argument: a list, tuple, set or generator of
    ids means the same batch in any order."""
    if isinstance(value, str | bytes | int | float | bool | type(None)):
        return value
    if isinstance(value, dict):
        return tuple(sorted((str(k), _canon(v)) for k, v in value.items()))
    if isinstance(value, Iterable):
        return ("*", tuple(sorted({repr(_canon(v)) for v in value})))
    return repr(value)


@dataclass(frozen=True)
class Need:
    """One read a check will make: ``reader`` (a method of the facts layer) with ``args``."""

    reader: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    @functools.cached_property
    def key(self) -> tuple[Any, ...]:
        """Identifies the read whatever the order of a batch's ids (two checks asking for the
        same subnets share one read); worked out once per need (the gathering asks often)."""
        return (self.reader, tuple(_canon(a) for a in self.args), _canon(dict(self.kwargs)))

    def __str__(self) -> str:
        shown = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        return f"{self.reader}({', '.join(shown)})"


def need(reader: str, *args: Any, **kwargs: Any) -> Need:
    """``Need(reader, args)``; batches of ids are frozen into tuples (a generator is read
    once)."""
    frozen = tuple(
        tuple(a) if isinstance(a, Iterable) and not isinstance(a, str | bytes | dict) else a
        for a in args
    )
    return Need(reader, frozen, tuple(sorted(kwargs.items())))


@dataclass(frozen=True)
class Then:
    """Requests that depend on facts gathered before them, or on the run's options:
    ``follow`` is called with the check's context, whose ``aws`` is a read-only view of what
    the check's earlier requests gathered (a read that failed raises there as it would in the
    judge; the requests it would have named are then not made). The judge's own helpers
    (which take a context) can so name what they will read."""

    follow: Callable[[Any], Iterable[Need | Then]]


Request = Need | Then
NeedsFn = Callable[["ClusterSpec", "ClusterPlan"], Iterable[Request]]


class UndeclaredRead(RuntimeError):
    """A judge read a fact its ``needs`` did not declare (a defect of the check)."""


class NeedsAwsError(RuntimeError):
    """A check that needs AWS was called without facts (the runner prevents this)."""


@dataclass(kw_only=True)
class RunContext:
    """What every check may read: the run's options. ``facts`` is None offline and on a
    host."""

    options: dict[str, Any] = field(default_factory=dict)
    facts: AwsFacts | RegionalFacts | FactsView | None = None

    @property
    def offline(self) -> bool:
        """No AWS access: no facts, or a view of a run without them."""
        return self.facts is None or getattr(self.facts, "offline", False) is True


@dataclass(kw_only=True)
class CheckContext(RunContext):
    """An account check's inputs: the validated config, its plan and the AWS facts."""

    spec: ClusterSpec
    plan: ClusterPlan

    @property
    def aws(self) -> FactsReaders:
        """The facts the check declared (a read-only view during a run)."""
        if self.facts is None:
            raise NeedsAwsError("this check needs AWS facts (run without --offline)")
        return cast("FactsReaders", self.facts)


@dataclass(kw_only=True)
class HostContext(RunContext):
    """A host check's inputs: the node's facts and the requirement profile (in options)."""

    host: HostFacts


CheckFn = Callable[[Any], Iterable[Outcome]]
F = TypeVar("F", bound=CheckFn)

AREAS = (
    "config",
    "quotas",
    "capacity",
    "network",
    "iam",
    "s3",
    "lifecycle",
    "eks",
    "slurm",
    "tools",
    "host",
    "cluster",
    "vpc",
)
DOCS_BASE = "docs/checks.md"
_ID_RE = re.compile(r"^[a-z][a-z0-9]*\.[a-z0-9]+(-[a-z0-9]+)*$")


def no_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """The needs of a check that reads no facts (config checks, host checks)."""
    return []


@dataclass(frozen=True)
class Check:
    """A registered check: what it is, its function and the facts it needs."""

    info: CheckInfo
    fn: CheckFn
    needs: NeedsFn = no_needs
    declares_needs: bool = False  # registered with ``needs=`` (the declared-facts test)
    kind: str = ""  # the kind of run it belongs to ("": its area's, see kind_of)

    @property
    def run_kind(self) -> str:
        """The kind of run that selects this check."""
        return self.kind or kind_of(self.info.area)

    @property
    def check_id(self) -> str:
        return self.info.check_id

    @property
    def summary(self) -> str:
        """The first line of the check function's docstring."""
        doc = (self.fn.__doc__ or "").strip()
        return doc.splitlines()[0].strip() if doc else ""


_REGISTRY: dict[str, Check] = {}


def check(
    check_id: str,
    title: str,
    severity: Severity,
    *,
    needs_aws: bool = True,
    needs: NeedsFn | None = None,
    docs_url: str = "",
    kind: str = "",
) -> Callable[[F], F]:
    """Register ``fn`` as check ``check_id`` (``area.kebab-name``); ``needs(spec, plan)``
    returns the fact requests it reads (gathered before any check is judged); ``kind``: the
    kind of run that selects it, when not its area's (``capacity``: the region scan)."""

    if not _ID_RE.match(check_id):
        raise ValueError(f"check id {check_id!r} is not of the form area.kebab-name")
    area = check_id.split(".", 1)[0]
    if area not in AREAS:
        raise ValueError(f"check id {check_id!r} has unknown area {area!r}")

    def register(fn: F) -> F:
        if check_id in _REGISTRY and _REGISTRY[check_id].fn is not fn:
            raise ValueError(f"check id {check_id!r} registered twice")
        anchor = check_id.replace(".", "")  # GitHub heading anchor of `area.name`
        info = CheckInfo(
            check_id=check_id,
            area=area,
            title=title,
            severity=severity,
            needs_aws=needs_aws,
            docs_url=docs_url or f"{DOCS_BASE}#{anchor}",
        )
        _REGISTRY[check_id] = Check(
            info=info,
            fn=fn,
            needs=needs or no_needs,
            declares_needs=needs is not None,
            kind=kind,
        )
        return fn

    return register


# Packages (and modules) holding cluster (account) checks; importing every module under
# them registers their checks.
CLUSTER_CHECK_MODULES = (
    "hyperpod_preflight.checks.config",
    "hyperpod_preflight.checks.network",
    "hyperpod_preflight.checks.capacity",
    "hyperpod_preflight.checks.quotas",
    "hyperpod_preflight.checks.s3",
    "hyperpod_preflight.checks.lifecycle",
    "hyperpod_preflight.checks.iam",
    "hyperpod_preflight.checks.slurm",
    "hyperpod_preflight.checks.features",
    "hyperpod_preflight.checks.eks",
    "hyperpod_preflight.checks.tools",
    "hyperpod_preflight.checks.vpc",
)
HOST_CHECK_MODULES = ("hyperpod_preflight.host.checks",)
# The region scan (``hp-preflight capacity``): checks of area ``capacity``, kind ``capacity``.
CAPACITY_CHECK_MODULES = ("hyperpod_preflight.checks.capacity_regions",)
# Checks of a live cluster (area ``cluster``): only ``hp-preflight diagnose`` runs them,
# together with every cluster check.
LIVE_CLUSTER_CHECK_MODULES = ("hyperpod_preflight.checks.cluster",)
LIVE_AREA = "cluster"


def _load(modules: Iterable[str]) -> None:
    from .dynamic import import_module

    with _LOADING:
        for name in modules:
            import_module(name)


def _load_all(packages: Iterable[str]) -> None:
    """Every module of ``packages`` (their ``__init__`` imports none)."""
    from .dynamic import import_submodules

    with _LOADING:
        for name in packages:
            import_submodules(name)


# Check modules are imported in the main thread before a run's threads start (see
# :func:`load_for`); a judge's first call on a thread imports under this lock, so that two
# threads never import check modules at once (a concurrent circular import would hand one of
# them a half-initialized module).
_LOADING = threading.RLock()


def _indexed_info(check_id: str) -> CheckInfo:
    _module, title, severity, needs_aws, docs_url, _declares = CHECK_INDEX[check_id]
    return CheckInfo(
        check_id=check_id,
        area=check_id.split(".", 1)[0],
        title=title,
        severity=Severity(severity),
        needs_aws=needs_aws,
        docs_url=docs_url,
    )


class _Deferred:
    """The judge or ``needs`` of a check whose module is not imported yet (known from
    :data:`~hyperpod_preflight.check_index.CHECK_INDEX`): the first call imports it."""

    __slots__ = ("attr", "check_id")

    def __init__(self, check_id: str, attr: str) -> None:
        self.check_id = check_id
        self.attr = attr

    def _real(self) -> Any:
        check = _REGISTRY.get(self.check_id)
        if check is None:
            _load((CHECK_INDEX[self.check_id][0],))
            check = _REGISTRY.get(self.check_id)
        if check is None:  # the index is stale (tests/test_check_index.py catches this)
            raise LookupError(
                f"{self.check_id} is not registered by {CHECK_INDEX[self.check_id][0]}"
            )
        return getattr(check, self.attr)

    def __call__(self, *args: Any) -> Any:
        return self._real()(*args)

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        doc: str | None = self._real().__doc__
        return doc


def _indexed(check_id: str) -> Check:
    """The registered check, or one standing for it until its module is imported."""
    registered = _REGISTRY.get(check_id)
    if registered is not None:
        return registered
    return Check(
        info=_indexed_info(check_id),
        fn=_Deferred(check_id, "fn"),
        needs=_Deferred(check_id, "needs"),
        declares_needs=CHECK_INDEX[check_id][5],
    )


def _of_kind(checks: Iterable[Check], kind: str) -> list[Check]:
    if kind == "diagnose":
        chosen = [c for c in checks if c.run_kind == "cluster"]
    elif kind == "cluster":
        chosen = [c for c in checks if c.run_kind == "cluster" and c.info.area != LIVE_AREA]
    else:
        chosen = [c for c in checks if c.run_kind == kind]
    return sorted(chosen, key=lambda c: c.check_id)


def all_checks(kind: str = "cluster") -> list[Check]:
    """Every registered check of ``kind``, ordered by id: ``cluster`` (the pre-flight of a
    config), ``diagnose`` (those and the live-cluster checks), ``vpc`` (the VPC audit),
    ``capacity`` (the region scan) or ``host``. Imports every check module of the kind
    (:func:`known_checks` does not)."""

    if kind == "host":
        _load_all(HOST_CHECK_MODULES)
    elif kind == "capacity":
        _load(CAPACITY_CHECK_MODULES)
    else:
        _load_all(CLUSTER_CHECK_MODULES)
        if kind == "diagnose":
            _load_all(LIVE_CLUSTER_CHECK_MODULES)
    return _of_kind(_REGISTRY.values(), kind)


def known_checks(kind: str = "cluster") -> list[Check]:
    """Every check of ``kind`` as :func:`all_checks` lists them, without importing a check
    module: a check not imported yet stands in from the index (its info is exact; its judge
    and needs import their module when first called, or by :func:`load_for`). The region
    scan's two checks are not indexed: ``capacity`` imports their module."""
    if kind == "capacity":
        return all_checks(kind)
    ids = dict.fromkeys([*CHECK_INDEX, *_REGISTRY])
    return _of_kind((_indexed(i) for i in ids), kind)


def load_for(checks: Iterable[Check]) -> list[Check]:
    """``checks`` with the modules of those standing in from the index imported (in this
    thread), each replaced by the check its module registered."""
    given = list(checks)
    lazy = [c.check_id for c in given if isinstance(c.fn, _Deferred)]
    _load(dict.fromkeys(CHECK_INDEX[i][0] for i in lazy if i not in _REGISTRY))
    return [_REGISTRY.get(c.check_id, c) if isinstance(c.fn, _Deferred) else c for c in given]


def kind_of(area: str) -> str:
    """The kind of run whose checks are of ``area``: ``host``, ``vpc`` (the VPC audit), else
    ``cluster``."""
    return area if area in ("host", "vpc") else "cluster"


def get(check_id: str) -> Check:
    """The check ``check_id``; its module is imported first if nothing has yet."""
    if check_id not in _REGISTRY:
        if check_id in CHECK_INDEX:
            _load((CHECK_INDEX[check_id][0],))
        elif check_id.startswith("host."):
            _load_all(HOST_CHECK_MODULES)
        elif check_id.startswith(LIVE_AREA + "."):
            _load_all(LIVE_CLUSTER_CHECK_MODULES)
        else:
            _load_all(CLUSTER_CHECK_MODULES)
        if check_id not in _REGISTRY:
            _load(CAPACITY_CHECK_MODULES)
    return _REGISTRY[check_id]


def describe(kind: str = "cluster") -> list[CheckInfo]:
    return [c.info for c in all_checks(kind)]


def index_entries() -> dict[str, tuple[str, str, str, bool, str, bool]]:
    """What ``check_index.py`` must hold: every check the package registers (all its check
    modules imported first), as ``CHECK_INDEX`` rows."""
    _load_all((*CLUSTER_CHECK_MODULES, *LIVE_CLUSTER_CHECK_MODULES, *HOST_CHECK_MODULES))
    rows = {}
    for check_id in sorted(_REGISTRY):
        c = _REGISTRY[check_id]
        module = str(getattr(c.fn, "__module__", ""))
        # Not one a test registered, nor one of a run kind of its own (the region scan's,
        # imported by ``capacity`` only).
        if module.startswith("hyperpod_preflight.") and not c.kind:
            i = c.info
            rows[check_id] = (
                module,
                i.title,
                i.severity.value,
                i.needs_aws,
                i.docs_url,
                c.declares_needs,
            )
    return rows


def write_index() -> None:
    """Rewrite ``check_index.py`` from the registry (then run ``ruff format`` on it)."""
    from pathlib import Path

    head = (
        '"""Every check: id → (module, title, severity, needs_aws, docs_url, declares needs).\n\n'
        "Generated from the registry: ``python -c 'import hyperpod_preflight.registry as r;\n"
        "r.write_index()'`` then ``ruff format``; tests/test_check_index.py fails when it\n"
        "differs. Runs read it to select and list checks without importing every check\n"
        'module (``registry.known_checks``).\n"""\n\n# ruff: noqa: E501\n\n'
    )
    body = "".join(f"    {k!r}: {v!r},\n" for k, v in index_entries().items())
    text = (
        f"{head}# fmt: off\n"
        f"CHECK_INDEX: dict[str, tuple[str, str, str, bool, str, bool]] = {{\n{body}}}\n"
        "# fmt: on\n"
    )
    Path(__file__).with_name("check_index.py").write_text(text, encoding="utf-8")
