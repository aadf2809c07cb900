"""Service Quotas readers, region usage counters for quota maths, and the project's only
mutating AWS calls (mixin of :class:`~hyperpod_preflight.facts.AwsFacts`).

Reading
    SageMaker quotas are looked up by **name** (their codes are not documented). Service
    Quotas lists only quotas that have an *applied* value (``ListServiceQuotas``); a quota
    still at its default appears only in ``ListAWSDefaultServiceQuotas``. Both listings of a
    service are paged once per run (SageMaker has 1,000+ quotas, 10+ pages of 100), read
    concurrently and shared by every check; the applied value wins. A name found in neither
    is ``None`` (the check says UNKNOWN), never 0.

    Quota codes do not change, so with the per-user code cache on (``quota_code_cache``;
    ``--no-cache`` turns it off) a paged run learns every code of the listings into
    ``$XDG_CACHE_HOME/hyperpod-preflight/quota-codes.json`` (:mod:`hyperpod_preflight.cache`),
    and a later run reads each name with a cached code directly: ``GetServiceQuota``, then
    ``GetAWSDefaultServiceQuota`` only when it has no value (no paging; an applied value needs
    no default read, and the quota reads are not the run's deepest chain). The answer is used
    only when it names the quota asked for (compared after normalization); a code that answers
    ``NoSuchResourceException`` on both, names another quota, or cannot be read sends that
    name back to the listings (and the cache is corrected). Values are never cached.

    VPC and EC2 quotas have stable codes: ``GetServiceQuota``, falling back to
    ``GetAWSDefaultServiceQuota`` on ``NoSuchResourceException``.

Usage counters
    Elastic IPs (``DescribeAddresses``: one call) and network interfaces. Counting the
    region's network interfaces costs one ``DescribeNetworkInterfaces`` page per 1,000
    interfaces, so :meth:`QuotaFacts.network_interface_count` stops as soon as the answer
    is decided (``stop_after``): its cost is bounded by the quota, not the account size.

Mutating (the ONLY write calls in hyperpod-preflight)
    :meth:`QuotaFacts.request_quota_increase` (``RequestServiceQuotaIncrease``) and the poll
    :meth:`QuotaFacts.requested_quota_change`. Only :mod:`hyperpod_preflight.quota_requests`
    calls them, and only when the user asked to submit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import botocore.exceptions
import botocore.parsers

from .. import cache
from ..errors import FactUnavailable
from ..workers import DaemonPool
from . import protocol
from .core import THROTTLE_CODES, FactsCore, classify, error_code, iam_action, memoized

SAGEMAKER = "sagemaker"
PAGE_SIZE = 100  # the most ListServiceQuotas / ListAWSDefaultServiceQuotas return per page
NOT_FOUND = "NoSuchResourceException"
ALREADY_REQUESTED = "ResourceAlreadyExistsException"

# RequestedServiceQuotaChange.Status (botocore's RequestStatus enum). A status this module
# does not know (a newer botocore/AWS value) counts as still open: never re-submit on a guess.
RESOLVED_STATUSES = frozenset(
    {"APPROVED", "DENIED", "CASE_CLOSED", "NOT_APPROVED", "INVALID_REQUEST"}
)
OPEN_STATUSES = frozenset({"PENDING", "CASE_OPENED"})

# Well-known codes (stable for EC2/VPC; AWS documents them in the Service Quotas console).
ENI_QUOTA = ("vpc", "L-DF5E4CA3")  # Network interfaces per Region
EIP_QUOTA = ("ec2", "L-0263D0A3")  # EC2-VPC Elastic IPs (service code ec2, not vpc)

_SPACES = re.compile(r"\s+")


def normalize_quota_name(name: str) -> str:
    """Names compare case- and whitespace-insensitively (AWS's are stable but not tidy)."""
    return _SPACES.sub(" ", name.strip()).lower()


@dataclass(frozen=True, kw_only=True)
class QuotaValue:
    """One quota as Service Quotas reports it."""

    service_code: str
    quota_code: str
    name: str
    value: float | None = None
    source: Literal["applied", "default"]
    adjustable: bool = True
    unit: str = ""
    error: str = ""  # ErrorReason "CODE: message" when AWS could not give the value
    default_value: float | None = None  # AWS default, when known alongside an applied value

    @property
    def limit(self) -> int | None:
        """The value as a whole count (quotas of counts are integral), None if unknown."""
        return None if self.value is None else int(self.value)

    @property
    def described(self) -> str:
        """``12 (applied)`` / ``0 (AWS default; no applied value)``."""
        if self.value is None:
            return f"unavailable ({self.error or 'no value'})"
        shown = _fmt(self.value)
        if self.source == "applied":
            return f"{shown} (applied)"
        return f"{shown} (AWS default; no applied value)"


@dataclass(frozen=True, kw_only=True)
class QuotaChangeRequest:
    """One quota increase request (``RequestedServiceQuotaChange``)."""

    request_id: str
    case_id: str | None = None
    service_code: str
    quota_code: str
    quota_name: str = ""
    desired_value: float | None = None
    status: str
    created: datetime | None = None
    last_updated: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Still pending (PENDING, CASE_OPENED, or a status newer than this code)."""
        return self.status not in RESOLVED_STATUSES


@dataclass(frozen=True, kw_only=True)
class CountResult:
    """A count that may have stopped early once the answer was decided."""

    count: int
    complete: bool  # False: stopped after reaching ``count`` (there may be more)
    pages: int = 0


class QuotaFacts(FactsCore):
    """Service Quotas readers: one shared listing per service, lookups by name or code."""

    # -- listings (paged once per run, shared) --------------------------------------------
    @memoized
    def applied_quotas(self, service_code: str) -> dict[str, QuotaValue]:
        """Every quota of ``service_code`` with an applied value, by normalized name."""
        items = self.paginate(
            "service-quotas",
            "ListServiceQuotas",
            "Quotas",
            ServiceCode=service_code,
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
        return _index(_quota(item, "applied") for item in items)

    @memoized
    def default_quotas(self, service_code: str) -> dict[str, QuotaValue]:
        """Every quota of ``service_code`` with its AWS default value, by normalized name."""
        items = self.paginate(
            "service-quotas",
            "ListAWSDefaultServiceQuotas",
            "Quotas",
            ServiceCode=service_code,
            PaginationConfig={"PageSize": PAGE_SIZE},
        )
        return _index(_quota(item, "default") for item in items)

    def quota_listings(
        self, service_code: str
    ) -> tuple[dict[str, QuotaValue] | FactUnavailable, dict[str, QuotaValue] | FactUnavailable]:
        """Both listings of ``service_code``, read concurrently; a failed one is returned as
        its :class:`FactUnavailable` so a lookup can still use the other. With the code
        cache on, the codes they hold are written to it (once per run)."""
        with DaemonPool(1, name="quota-defaults") as pool:
            defaults_future = pool.submit(self.default_quotas, service_code)
            applied: dict[str, QuotaValue] | FactUnavailable
            try:
                applied = self.applied_quotas(service_code)
            except FactUnavailable as exc:
                applied = exc
            defaults: dict[str, QuotaValue] | FactUnavailable
            try:
                defaults = defaults_future.result()
            except FactUnavailable as exc:
                defaults = exc
        if self.quota_code_cache:
            self._learn_quota_codes(service_code)
        return applied, defaults

    # -- the quota-code cache --------------------------------------------------------------
    @memoized
    def cached_quota_codes(self, service_code: str) -> dict[str, str]:
        """Normalized quota name → code from the per-user cache (read once per run; empty
        with the cache off or when the file is missing or unreadable)."""
        if not self.quota_code_cache:
            return {}
        return cache.load_quota_codes(service_code)

    def cached_quota_code(self, service_code: str, *names: str) -> str | None:
        """The cached code of the first of ``names`` that has one."""
        codes = self.cached_quota_codes(service_code)
        for name in names:
            code = codes.get(normalize_quota_name(name))
            if code:
                return code
        return None

    @memoized
    def _learn_quota_codes(self, service_code: str) -> None:
        """Write every code the listings read this run hold (applied over default)."""
        learned: dict[str, str] = {}
        for listing in (self.default_quotas, self.applied_quotas):
            try:
                learned.update({k: q.quota_code for k, q in listing(service_code).items()})
            except FactUnavailable:
                continue
        learned = {k: c for k, c in learned.items() if c}
        if learned:
            cache.save_quota_codes(service_code, learned)

    @memoized
    def _quota_pair_by_code(
        self, service_code: str, quota_code: str
    ) -> tuple[QuotaValue | None, QuotaValue | None] | None:
        """``GetServiceQuota`` of one code, then ``GetAWSDefaultServiceQuota`` when that has
        no value to give (``NoSuchResourceException``: still at its default, or no value:
        the default is reported beside it): (applied, default), each None when not read or
        not there; None as a whole when the applied read failed or neither exists (the
        caller goes back to the listings). An applied value needs no default read."""
        params: dict[str, Any] = {"ServiceCode": service_code, "QuotaCode": quota_code}
        try:
            applied = self.call("service-quotas", "GetServiceQuota", none_on=(NOT_FOUND,), **params)
        except FactUnavailable:
            return None
        applied_q = (
            _quota(applied["Quota"], "applied") if applied and applied.get("Quota") else None
        )
        if applied_q is not None and applied_q.value is not None:
            return applied_q, None
        try:
            default = self.call(
                "service-quotas", "GetAWSDefaultServiceQuota", none_on=(NOT_FOUND,), **params
            )
        except FactUnavailable:
            default = None
        default_q = (
            _quota(default["Quota"], "default") if default and default.get("Quota") else None
        )
        if applied_q is None and default_q is None:
            return None
        return applied_q, default_q

    def _quota_by_cached_code(self, service_code: str, keys: list[str]) -> QuotaValue | None:
        """The quota through the cached code of ``keys`` (normalized names), or None when
        there is none or it is not (any more) an answer for them."""
        code = self.cached_quota_code(service_code, *keys)
        if code is None:
            return None
        pair = self._quota_pair_by_code(service_code, code)
        if pair is None or any(
            q is not None and normalize_quota_name(q.name) not in keys for q in pair
        ):
            return None
        applied, default = pair
        if applied is not None:
            if default is not None and default.value is not None:
                return replace(applied, default_value=default.value)
            return applied
        assert default is not None
        return replace(default, default_value=default.value)

    @memoized
    def quota_by_name(self, service_code: str, *names: str) -> QuotaValue | None:
        """The quota named ``names[0]`` (or an alternative spelling after it): its applied
        value, else its AWS default; None when no listing holds any of the names.

        With a cached code for one of the names, the quota is read by that code (see the
        module docstring) and the listings are not paged unless the code is stale.

        Raises FactUnavailable when the answer depends on a listing that could not be read
        (the applied listing always does: a default alone may understate an increase).
        """
        keys = [normalize_quota_name(n) for n in names]
        direct = self._quota_by_cached_code(service_code, keys)
        if direct is not None:
            return direct
        found = self._quota_from_listings(service_code, keys)
        if self.cached_quota_code(service_code, *keys) is not None:
            self._forget_unlisted(service_code, keys)
        return found

    def _forget_unlisted(self, service_code: str, keys: list[str]) -> None:
        """After a stale code: the listings' codes are already in the cache; names that
        neither listing holds any more are dropped, so no later run tries them again."""
        applied, defaults = self.quota_listings(service_code)
        if isinstance(applied, FactUnavailable) or isinstance(defaults, FactUnavailable):
            return
        gone = [k for k in keys if k not in applied and k not in defaults]
        if gone:
            cache.save_quota_codes(service_code, {}, forget=gone)

    def _quota_from_listings(self, service_code: str, keys: list[str]) -> QuotaValue | None:
        applied, defaults = self.quota_listings(service_code)
        if isinstance(applied, FactUnavailable):
            raise applied
        default_of = (lambda key: None) if isinstance(defaults, FactUnavailable) else defaults.get
        for key in keys:
            found = applied.get(key)
            if found is not None:
                default = default_of(key)
                if default is not None and default.value is not None:
                    found = replace(found, default_value=default.value)
                return found
        if isinstance(defaults, FactUnavailable):
            raise defaults
        for key in keys:
            found = defaults.get(key)
            if found is not None:
                return replace(found, default_value=found.value)
        return None

    def sagemaker_quota(self, name: str, *aliases: str) -> QuotaValue | None:
        """A SageMaker quota by name, e.g. ``ml.p5.48xlarge for cluster usage``."""
        return self.quota_by_name(SAGEMAKER, name, *aliases)

    @memoized
    def quota_by_code(self, service_code: str, quota_code: str) -> QuotaValue | None:
        """``GetServiceQuota``, else ``GetAWSDefaultServiceQuota``; None when neither has it."""
        got = self.call(
            "service-quotas",
            "GetServiceQuota",
            none_on=(NOT_FOUND,),
            ServiceCode=service_code,
            QuotaCode=quota_code,
        )
        if got is not None and got.get("Quota"):
            return _quota(got["Quota"], "applied")
        got = self.call(
            "service-quotas",
            "GetAWSDefaultServiceQuota",
            none_on=(NOT_FOUND,),
            ServiceCode=service_code,
            QuotaCode=quota_code,
        )
        if got is not None and got.get("Quota"):
            default = _quota(got["Quota"], "default")
            return replace(default, default_value=default.value)
        return None

    # -- request history --------------------------------------------------------------------
    @memoized
    def quota_change_history(self, service_code: str, quota_code: str) -> list[QuotaChangeRequest]:
        """Every increase request of one quota (newest first), read once per run."""
        return self.read_quota_change_history(service_code, quota_code)

    def read_quota_change_history(
        self, service_code: str, quota_code: str
    ) -> list[QuotaChangeRequest]:
        """The same, always read fresh (used right before submitting)."""
        items = self.paginate(
            "service-quotas",
            "ListRequestedServiceQuotaChangeHistoryByQuota",
            "RequestedQuotas",
            ServiceCode=service_code,
            QuotaCode=quota_code,
        )
        changes = [_change(item) for item in items]
        return sorted(changes, key=lambda c: c.created or datetime.min, reverse=True)

    def open_quota_requests(self, service_code: str, quota_code: str) -> list[QuotaChangeRequest]:
        return [c for c in self.quota_change_history(service_code, quota_code) if c.is_open]

    # -- usage counters for quota maths ------------------------------------------------------
    @memoized
    def elastic_ip_count(self) -> int:
        """Elastic IP addresses allocated in the region (``DescribeAddresses``: one call)."""
        resp = self.call("ec2", "DescribeAddresses")
        return len(resp.get("Addresses", []))

    @memoized
    def network_interface_count(self, stop_after: int | None = None) -> CountResult:
        """Network interfaces in the region, 1,000 per page, stopping once more than
        ``stop_after`` have been seen (the caller only needs to know it is exceeded)."""
        client = self.client("ec2")
        count = pages = 0
        try:
            paginator = client.get_paginator("describe_network_interfaces")
            for page in paginator.paginate(PaginationConfig={"PageSize": 1000}):
                pages += 1
                count += len(page.get("NetworkInterfaces", []))
                if stop_after is not None and count > stop_after:
                    return CountResult(count=count, complete=False, pages=pages)
        except Exception as exc:
            raise classify(exc, iam_action(client, "DescribeNetworkInterfaces")) from exc
        return CountResult(count=count, complete=True, pages=pages)

    # -- MUTATING: the only calls in hyperpod-preflight that change anything -----------------
    def request_quota_increase(
        self, service_code: str, quota_code: str, desired_value: float
    ) -> QuotaChangeRequest | None:
        """Submit one quota increase (``servicequotas:RequestServiceQuotaIncrease``).

        The request is not idempotent, so it is sent once: on its own client with retries
        off. Returns None when AWS answers ``ResourceAlreadyExistsException`` (a request for
        this quota is already open). A failure after which the request may still have
        reached the service (a timeout, a lost connection, a 5xx, throttling) raises
        :class:`SubmissionUncertain`; the caller must read the history before anything else.
        """
        try:
            resp = self.call(
                "service-quotas",
                "RequestServiceQuotaIncrease",
                none_on=(ALREADY_REQUESTED,),
                attempts=1,
                ServiceCode=service_code,
                QuotaCode=quota_code,
                DesiredValue=float(desired_value),
            )
        except FactUnavailable as fact:
            cause = fact.__cause__
            if cause is not None and _ambiguous(cause):
                raise SubmissionUncertain(
                    fact.action, fact.reason, fact.detail, attempts=fact.attempts
                ) from cause
            raise
        if resp is None:
            return None
        return _change(resp["RequestedQuota"])

    def requested_quota_change(self, request_id: str) -> QuotaChangeRequest:
        """The current state of one request (``GetRequestedServiceQuotaChange``; a poll)."""
        resp = self.call("service-quotas", "GetRequestedServiceQuotaChange", RequestId=request_id)
        return _change(resp["RequestedQuota"])


class SubmissionUncertain(FactUnavailable):
    """A submission that failed in a way that does not prove it was not received."""


def _ambiguous(exc: BaseException) -> bool:
    """Could the request have reached Service Quotas although the call failed?"""
    if isinstance(
        exc,
        botocore.exceptions.ReadTimeoutError
        | botocore.exceptions.ConnectionClosedError
        | botocore.parsers.ResponseParserError
        | protocol.NotAwsProtocol,
    ):
        return True
    if isinstance(exc, botocore.exceptions.ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return status >= 500 or error_code(exc) in THROTTLE_CODES
    return False


def _quota(item: dict[str, Any], source: Literal["applied", "default"]) -> QuotaValue:
    reason = item.get("ErrorReason") or {}
    error = ""
    if reason:
        error = f"{reason.get('ErrorCode', '')}: {reason.get('ErrorMessage', '')}".strip(": ")
    value = item.get("Value")
    return QuotaValue(
        service_code=str(item.get("ServiceCode", "")),
        quota_code=str(item.get("QuotaCode", "")),
        name=str(item.get("QuotaName", "")),
        value=float(value) if value is not None else None,
        source=source,
        adjustable=bool(item.get("Adjustable", True)),
        unit=str(item.get("Unit", "")),
        error=error,
    )


def _index(quotas: Iterable[QuotaValue]) -> dict[str, QuotaValue]:
    """By normalized name; the first entry of a name wins (account level comes first)."""
    out: dict[str, QuotaValue] = {}
    for q in quotas:
        out.setdefault(normalize_quota_name(q.name), q)
    return out


def _change(item: dict[str, Any]) -> QuotaChangeRequest:
    desired = item.get("DesiredValue")
    return QuotaChangeRequest(
        request_id=str(item.get("Id", "")),
        case_id=item.get("CaseId") or None,
        service_code=str(item.get("ServiceCode", "")),
        quota_code=str(item.get("QuotaCode", "")),
        quota_name=str(item.get("QuotaName", "")),
        desired_value=float(desired) if desired is not None else None,
        status=str(item.get("Status", "")),
        created=item.get("Created"),
        last_updated=item.get("LastUpdated"),
    )


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
