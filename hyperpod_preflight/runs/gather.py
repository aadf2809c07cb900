"""Gather the facts the selected checks declared: every request at once, reads queued per
service, each check's follow-up requests (:class:`~hyperpod_preflight.registry.Then`) as soon
as what they depend on is in.

Reads run on :class:`~hyperpod_preflight.workers.DaemonPool` threads, one pool per service: a
silent EC2 endpoint fills EC2's queue and no other (IAM, S3 and Service Quotas reads go on),
and nothing here ever keeps the process alive past the run's deadline. Two checks asking for
the same read share it (the readers' memo is single-flight too).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any

from ..errors import FactUnavailable
from ..registry import Check, Need, Request, Then, UndeclaredRead
from ..workers import DaemonPool
from .view import ATTRIBUTES, PURE, FactsView, _implied, covers

# The service whose endpoint a reader mixin of the facts layer calls (its queue).
SERVICE_OF_MIXIN = {
    "Ec2Facts": "ec2",
    "CapacityFacts": "ec2",
    "FsxFacts": "fsx",
    "FeatureFacts": "ec2",
    "EksFacts": "eks",
    "IamFacts": "iam",
    "KmsFacts": "kms",
    "QuotaFacts": "service-quotas",
    "SageMakerFacts": "sagemaker",
    "S3Facts": "s3",
    "LocalFacts": "local",
}
# Readers that call another service than their mixin's.
SERVICE_OF_READER = {
    "alarms": "cloudwatch",
    "training_plan": "sagemaker",
    "elastic_ip_count": "ec2",
    "network_interface_count": "ec2",
    "identity_arn": "sts",
    "hyperpod_usage": "sagemaker",
    "account_public_access_block": "s3control",
}


# The services whose readers never use the caller's account or ARN (S3 sends
# ExpectedBucketOwner, S3 Control the account id, STS is the identity itself): their first
# reads may go out while the identity is being verified (``Gatherer.get_ready``).
BEFORE_IDENTITY = frozenset(
    {"ec2", "iam", "service-quotas", "sagemaker", "fsx", "eks", "kms", "cloudwatch"}
)

# Readers whose answer sets the facts' plain attributes (``account``, ``caller_arn``).
_SETS_ATTRIBUTES = frozenset({"identity_arn"})

# Queues whose clients are not made ahead: readers that use no AWS client of that name,
# and STS (``identity_arn`` answers from what ``verify_identity`` read on a client of its
# own; a run without it makes the client when it reads).
_NOT_MADE_AHEAD = frozenset({"local", "aws", "sts"})


def _batch(arg: Any) -> bool:
    return isinstance(arg, tuple | list | set | frozenset)


@dataclass
class FactSources:
    """Where readers live: ``aws`` (an ``AwsFacts``; None offline) and ``local`` (this
    machine's tools and Kubernetes context)."""

    aws: Any | None
    local: Any | None = None
    per_service: int = 16

    def reader(self, name: str) -> tuple[Any, str]:
        """The bound reader ``name`` and the queue it runs on."""
        for source in (self.local, self.aws):
            if source is None:
                continue
            for cls in type(source).__mro__:
                if name in cls.__dict__:
                    service = SERVICE_OF_READER.get(name, SERVICE_OF_MIXIN.get(cls.__name__, "aws"))
                    return getattr(source, name), service
        if self.aws is None:
            raise FactUnavailable(
                name, "error", "needs AWS access: this run is offline (--offline)"
            )
        raise UndeclaredRead(f"no reader {name!r} in the facts layer")

    def attributes(self) -> dict[str, Any]:
        if self.aws is None:
            return {"region": None, "account": None, "caller_arn": None}
        return {a: getattr(self.aws, a, None) for a in ATTRIBUTES}

    def pure(self) -> dict[str, Any]:
        found = {p: getattr(self.aws, p, None) for p in PURE}
        return {p: f for p, f in found.items() if f is not None}


@dataclass
class Gatherer:
    """One run's reads: started at once, queued per service, each made once."""

    sources: FactSources
    _reads: dict[tuple[Any, ...], Future[Any]] = field(default_factory=dict)
    _pools: dict[str, DaemonPool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False
    _primer: DaemonPool | None = None
    # get_ready's work: (checks, ctx, the checks with follow-ups, the checks' first reads)
    _ready: tuple[list[Check], Any, list[Check], list[Need]] | None = None

    def read(self, asked: Need) -> Future[Any]:
        """The read ``asked``, started (or joined) now."""
        with self._lock:
            fut = self._reads.get(asked.key)
            if fut is not None:
                return fut
            try:
                method, service = self.sources.reader(asked.reader)
            except Exception as exc:
                fut = Future()
                fut.set_exception(exc)
                self._reads[asked.key] = fut
                return fut
            pool = self._pools.get(service)
            if pool is None:
                pool = DaemonPool(self.sources.per_service, name=f"read-{service}")
                self._pools[service] = pool
            if self._closed:
                fut = Future()
                fut.cancel()
            else:
                fut = pool.submit(method, *asked.args, **dict(asked.kwargs))
            self._reads[asked.key] = fut
            return fut

    def answer(self, asked: Need) -> Any:
        """What the gathered read ``asked`` gave (or raised); readers computed from other
        readers (:func:`~hyperpod_preflight.runs.view._implied`) are computed here."""
        if _implied(asked.reader, asked.args, dict(asked.kwargs)) is not None:
            method, _ = self.sources.reader(asked.reader)
            return method(*asked.args, **dict(asked.kwargs))
        fut = self._reads.get(asked.key)
        if fut is not None:
            return self._result(asked, fut)
        batches = [a for a in asked.args if _batch(a)]
        if batches and not any(batches):  # an empty batch of ids: nothing to read
            return {}
        for key, held in list(self._reads.items()):  # a part of a gathered batch
            if covers(key, asked.key):
                whole = self._result(asked, held)
                if isinstance(whole, dict):
                    wanted = {str(i) for a in asked.args if _batch(a) for i in a}
                    return {k: v for k, v in whole.items() if k in wanted}
        raise UndeclaredRead(f"{asked} was not gathered")

    @staticmethod
    def _result(asked: Need, fut: Future[Any]) -> Any:
        if not fut.done():  # only after the deadline: a judge waits for its reads
            raise FactUnavailable(asked.reader, "unreachable", "no answer before the run deadline")
        if fut.cancelled():
            raise FactUnavailable(asked.reader, "error", "not read: the run ended first")
        return fut.result()

    def answer_when_in(self, asked: Need) -> Any:
        """:meth:`answer`, after waiting for the read (or the batch) that holds ``asked``."""
        key = asked.key
        fut = self._reads.get(key)
        if fut is None:
            fut = next((f for k, f in list(self._reads.items()) if covers(k, key)), None)
        if fut is not None:
            wait([fut])
        return self.answer(asked)

    def gathered(self) -> frozenset[tuple[Any, ...]]:
        """Every read made so far (done or not)."""
        with self._lock:
            return frozenset(self._reads)

    def view(self, owner: str, allowed: Iterable[tuple[Any, ...]]) -> FactsView:
        return FactsView(
            self.answer,
            allowed,
            owner=owner,
            attributes=self.sources.attributes(),
            pure=self.sources.pure(),
            offline=self.sources.aws is None,
        )

    def gather_for(self, check: Check, ctx: Any) -> frozenset[tuple[Any, ...]]:
        """Gather what ``check`` declares for ``ctx`` (its spec, plan and options); returns
        what it may read. Blocks the calling (daemon) thread until its reads are in.

        The reads of each list of requests start at once; each follow-up (``Then``) of the
        list then runs as soon as the reads it reads are in (its view waits for a declared
        read still on its way), not when every read of the list is: the follow-ups of one
        check are chains of their own (a lifecycle prefix's files do not wait for the
        subnets' route tables), each on its own thread. A follow-up that reads what another
        chain of the check has not declared yet is run again once every other chain is done,
        with everything they declared (what a check declares never depends on timing)."""
        spec, plan = getattr(ctx, "spec", None), getattr(ctx, "plan", None)
        pending: list[Request] = (
            list(check.needs(spec, plan)) if spec is not None and plan is not None else []
        )
        walk = _Walk(self, check.check_id, ctx)
        walk.follow(pending)
        for last in (False, False, True):  # the last time, an undeclared read raises
            again = walk.undeclared()
            if not again:
                break
            walk.strict = last
            for then in again:  # one at a time: each sees what the others declared
                walk.follow_all([then])
        return frozenset(walk.allowed)

    def prime(self, checks: list[Check], ctx: Any, *, deadline: float | None = None) -> None:
        """Start gathering for ``checks`` now, follow-ups included, before the run's live
        plan is ready: ``ctx`` holds the catalog plan; only counts and sizes decide which
        reads a check names, so both plans name the same reads, and the real gathering
        (:meth:`gather_for`) then joins what this started. The round trips of a run are so
        the depth of its read graph: a role's policies, a subnet's route tables and NAT
        gateways do not wait for ``DescribeInstanceTypes``. Never blocks; a check whose needs
        raise here is judged (and reported) by the real gathering.

        The first reads of every check go out from here, after the clients of their
        services are made (one after the other, before any read: creating a client is CPU
        work that would otherwise hold back reads already due); the follow-ups are walked
        on a thread per check that has any. Nothing starts once ``deadline``
        (``time.monotonic()``) has passed: the checks then time out as they would have
        without it."""
        if deadline is not None and time.monotonic() >= deadline:
            return
        ready = self._ready
        if ready is None or ready[0] is not checks or ready[1] is not ctx:
            self.get_ready(checks, ctx)
            ready = self._ready
        if ready is None:
            return
        followed, first = ready[2], ready[3]
        with self._lock:
            if self._closed:
                return
            pool = DaemonPool(len(followed), name="prime")
            self._primer = pool
        for n in first:
            self.read(n)
        for check in followed:
            pool.submit(self._prime_one, check, ctx)

    def get_ready(self, checks: list[Check], ctx: Any, *, early: bool = False) -> None:
        """What :meth:`prime` does before its first read: work out the first reads of
        ``checks`` and make the AWS clients they use, so that a run does it while its
        identity is being verified (``sts:GetCallerIdentity``); ``prime`` with the same
        ``checks`` and ``ctx`` then starts from it. ``early``: the first reads that do not
        depend on the caller's account (:data:`BEFORE_IDENTITY`) start now too, one round
        trip sooner; their follow-ups wait for ``prime``."""
        self._ready = None
        spec, plan = getattr(ctx, "spec", None), getattr(ctx, "plan", None)
        if spec is None or plan is None or self.sources.aws is None:
            return
        chosen = [c for c in checks if c.info.needs_aws or c.declares_needs]
        if not chosen:
            return
        first: list[Need] = []
        followed: list[Check] = []  # those with follow-ups: walked by prime
        for check in chosen:
            try:
                requests = list(check.needs(spec, plan))
            except Exception:
                continue
            for n in requests:
                if isinstance(n, Then):
                    followed += [check] if followed[-1:] != [check] else []
                    continue
                implied = _implied(n.reader, n.args, dict(n.kwargs))
                first += [n] if implied is None else implied
        self._make_clients(first)
        self._ready = (checks, ctx, followed, first)
        if early:
            for n in first:
                try:
                    service = self.sources.reader(n.reader)[1]
                except Exception:
                    continue
                if service in BEFORE_IDENTITY:
                    self.read(n)

    def _make_clients(self, reads: Iterable[Need]) -> None:
        """The AWS clients ``reads`` will use, made now (facts without ``client``: none)."""
        make = getattr(self.sources.aws, "client", None)
        if make is None:
            return
        services: dict[str, None] = {}
        for n in reads:
            try:
                services[self.sources.reader(n.reader)[1]] = None
            except Exception:
                continue
        for service in services:
            if service in _NOT_MADE_AHEAD:
                continue
            try:
                make(service)
            except Exception:  # the read itself meets (and reports) the same failure
                continue

    def _prime_one(self, check: Check, ctx: Any) -> None:
        try:
            self.gather_for(check, ctx)
        except Exception:  # judged (and reported) by the real gathering
            return

    def close(self) -> None:
        """Start nothing more; cancel what has not started (never waits)."""
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
            if self._primer is not None:
                pools.append(self._primer)
        for pool in pools:
            pool.shutdown(cancel_pending=True)


class _Walk:
    """One check's follow-ups, each chain on its own thread (see :meth:`Gatherer.gather_for`)."""

    def __init__(self, gatherer: Gatherer, owner: str, ctx: Any) -> None:
        self.gatherer = gatherer
        self.owner = owner
        self.ctx = ctx
        self.allowed: set[tuple[Any, ...]] = set()
        self._lock = threading.Lock()
        self._undeclared: list[Then] = []  # read what a sibling chain had not declared yet
        self.strict = False  # an undeclared read raises (the check's defect)

    def follow(self, pending: list[Request]) -> None:
        """Start the reads of ``pending``, then walk each of its follow-ups."""
        needs = [r for r in pending if isinstance(r, Need)]
        thens = [r for r in pending if isinstance(r, Then)]
        reads: list[Need] = []
        for n in needs:  # a computed reader (cluster_vpc_id) is answered by what it uses
            implied = _implied(n.reader, n.args, dict(n.kwargs))
            reads += [n] if implied is None else implied
        with self._lock:
            self.allowed.update(n.key for n in (*needs, *reads))
        started = [self.gatherer.read(n) for n in reads]
        if thens:
            self.follow_all(thens)
        wait(started)  # the check's reads are in when this returns

    def follow_all(self, thens: list[Then]) -> None:
        """Walk each follow-up (the first on this thread, the others on threads of their
        own); the first failure that is not a ``FactUnavailable`` is raised."""
        futures: list[Future[None]] = []
        for then in thens[1:]:
            fut: Future[None] = Future()
            worker = threading.Thread(
                target=self._walk_into, args=(then, fut), name="gather-then", daemon=True
            )
            worker.start()
            futures.append(fut)
        self._walk(thens[0])
        for fut in futures:
            fut.result()

    def _walk_into(self, then: Then, fut: Future[None]) -> None:
        try:
            self._walk(then)
        except BaseException as exc:  # raised by follow_all, on the check's thread
            fut.set_exception(exc)
        else:
            fut.set_result(None)

    def _walk(self, then: Then) -> None:
        with self._lock:
            allowed = frozenset(self.allowed)
        view = FactsView(
            self.gatherer.answer_when_in,
            allowed,
            owner=self.owner,
            attributes=_Attributes(self.gatherer),
            pure=self.gatherer.sources.pure(),
            offline=self.gatherer.sources.aws is None,
        )
        try:
            more = list(then.follow(dataclasses.replace(self.ctx, facts=view)))
        except FactUnavailable:
            return  # the judge meets the same failure and says UNKNOWN
        except UndeclaredRead:
            if self.strict:
                raise
            with self._lock:
                self._undeclared.append(then)
            return
        self.follow(more)

    def undeclared(self) -> list[Then]:
        """The follow-ups that read what was not declared when they ran (taken)."""
        with self._lock:
            again, self._undeclared = self._undeclared, []
        return again


class _Attributes(Mapping[str, Any]):
    """The facts' plain attributes (region, account, caller ARN) as a follow-up reads them:
    when it reads them, not when its view was made, and after any identity read on its way
    (``identity_arn`` of facts whose identity was not verified sets the account), as when
    every read of a stage was in before its follow-ups ran."""

    def __init__(self, gatherer: Gatherer) -> None:
        self._gatherer = gatherer

    def __getitem__(self, name: str) -> Any:
        if name not in ATTRIBUTES:
            raise KeyError(name)
        gatherer = self._gatherer
        with gatherer._lock:
            pending = [f for k, f in gatherer._reads.items() if k[0] in _SETS_ATTRIBUTES]
        wait(pending)
        return gatherer.sources.attributes()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(ATTRIBUTES)

    def __len__(self) -> int:
        return len(ATTRIBUTES)
