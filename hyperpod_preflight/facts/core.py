"""The AWS access core: one session per run, shared clients, memoized single-flight reads,
and one mapping from AWS errors to what a check can say about them.

This package is the only place that imports boto3. It is imported lazily (never by
``hp-preflight --help``).
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import boto3
import botocore.config
import botocore.exceptions

from ..errors import CannotRunError, FactUnavailable, InputError, one_line
from . import data_cache, protocol

P = ParamSpec("P")
T = TypeVar("T")

DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthFailure",
        "NoSuchEntityException_Unauthorized",
    }
)
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
    }
)
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


# Operations that IAM authorizes under another action's name (``(service, Operation)`` →
# action); every other operation is authorized by ``<signing name>:<Operation>``. Each is the
# "Permissions" section of the operation's S3 API reference page:
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html (s3:GetObject),
# .../API_GetBucketEncryption.html (s3:GetEncryptionConfiguration),
# .../API_GetPublicAccessBlock.html (s3:GetBucketPublicAccessBlock),
# .../API_control_GetPublicAccessBlock.html (s3:GetAccountPublicAccessBlock).
# Services whose signing name is not their IAM action prefix (CloudWatch signs as
# ``monitoring``; its actions are ``cloudwatch:*``).
IAM_PREFIXES = {"monitoring": "cloudwatch"}

ACTION_OF_OPERATION: dict[tuple[str, str], str] = {
    ("s3", "HeadObject"): "s3:GetObject",
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}


def action_name(service: str, signing_name: str, operation: str) -> str:
    """The IAM action that authorizes ``operation`` of ``service`` (botocore's service name;
    ``signing_name`` is the service model's signing name or endpoint prefix)."""
    prefix = IAM_PREFIXES.get(signing_name, signing_name)
    return ACTION_OF_OPERATION.get((service, operation), f"{prefix}:{operation}")


def iam_action(client: Any, operation: str) -> str:
    """IAM action name of an API call, e.g. ``ec2:DescribeSubnets``; ``s3:GetObject`` for
    S3's ``HeadObject``."""
    model = client.meta.service_model
    return action_name(model.service_name, model.signing_name or model.endpoint_prefix, operation)


def classify(
    exc: BaseException, action: str, endpoint: str | None = None, attempts: int | None = None
) -> FactUnavailable:
    """Map any exception of a read to a :class:`FactUnavailable`; ``endpoint`` (the client's
    URL) is named where the answer says nothing itself (a 5xx, an error without a code);
    ``attempts`` (how many times the call was sent at most) is told of a throttled call."""
    if isinstance(exc, FactUnavailable):
        return exc
    if isinstance(exc, NotImplementedError):  # moto in-process: API not implemented
        return FactUnavailable(action, "absent", "not implemented by this endpoint")
    if isinstance(exc, protocol.NotAwsProtocol):
        return FactUnavailable(action, "protocol", str(exc))
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = one_line(str(err.get("Message", "")))
        if code in DENIED_CODES or status == 403:
            return FactUnavailable(action, "denied", code)
        if code in THROTTLE_CODES:
            return FactUnavailable(action, "throttled", code, attempts=attempts)
        if code in ("InvalidAction", "UnknownOperationException", "NotImplemented") or (
            status in (500, 501) and "not yet implemented" in message.lower()
        ):
            return FactUnavailable(action, "absent", code)
        return FactUnavailable(action, "error", error_detail(exc, endpoint))
    if isinstance(
        exc,
        botocore.exceptions.EndpointConnectionError
        | botocore.exceptions.ConnectTimeoutError
        | botocore.exceptions.ReadTimeoutError,
    ):
        return FactUnavailable(action, "unreachable", one_line(str(exc)))
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return FactUnavailable(action, "error", one_line(str(exc)))
    return FactUnavailable(action, "error", one_line(f"{type(exc).__name__}: {exc}"))


def error_detail(exc: botocore.exceptions.ClientError, endpoint: str | None = None) -> str:
    """One line for an error answer: its code and message; with the HTTP status and the
    endpoint's host when the server failed (5xx) or the answer carried no code of its own
    (botocore then reports the bare status, e.g. ``500``)."""
    err = exc.response.get("Error", {})
    code = str(err.get("Code", "") or "")
    message = one_line(str(err.get("Message", "") or ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    own = f"{code}: {message}" if code and message else code or message
    if isinstance(status, int) and (status >= 500 or not code or code == str(status)):
        if code == str(status):  # botocore's stand-in code; the message is the reason phrase
            own = message
        where = f" from {endpoint_host(endpoint)}" if endpoint else ""
        return f"HTTP {status}{where}" + (f": {own}" if own else "")
    return own


def endpoint_host(endpoint: str) -> str:
    """``https://iam.amazonaws.com`` → ``iam.amazonaws.com``."""
    return urlsplit(endpoint).netloc or endpoint


class RunClosed(botocore.exceptions.BotoCoreError):  # type: ignore[misc]
    """A request after the run ended (its deadline passed, or it was interrupted)."""

    fmt = "the run ended before this request was sent"


def error_code(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def memoized(method: Callable[P, T]) -> Callable[P, T]:
    """Cache a reader's result per run and arguments, single-flight across threads.

    Two checks that need the same subnet cause one call, even when they ask at once. A read
    that raised is cached too: the same denied call is not repeated.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        self = args[0]
        assert isinstance(self, FactsCore)
        key = (method.__name__, args[1:], tuple(sorted(kwargs.items())))
        with self._memo_lock:
            fut = self._memo.get(key)
            owner = fut is None
            if fut is None:
                fut = Future()
                self._memo[key] = fut
        if owner:
            try:
                fut.set_result(method(*args, **kwargs))
            except BaseException as exc:
                fut.set_exception(exc)
        return fut.result()  # type: ignore[no-any-return]

    return wrapper


class FactsCore:
    """Session, clients and call plumbing shared by every reader mixin."""

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        profile: str | None = None,
        region: str | None = None,
        max_attempts: int = 10,
        retry_mode: str = "standard",
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_pool_connections: int = 32,
        quota_code_cache: bool = False,
    ) -> None:
        self.session = session if session is not None else make_session(profile, region)
        # ``region`` wins over the session's own: one session can serve several regions.
        self.region: str = region or _session_region(self.session)
        if not self.region:
            raise CannotRunError(
                "no AWS region: pass --region, or set AWS_DEFAULT_REGION or a region in your "
                "profile (botocore does not read AWS_REGION for the default region)"
            )
        check_known_region(self.session, self.region)
        self._config = botocore.config.Config(
            region_name=self.region,
            # botocore's client-config ``max_attempts`` counts *retries* (it adds one, in
            # every mode); ``total_max_attempts`` counts attempts, first one included, which
            # is what --max-attempts promises.
            retries={"mode": retry_mode, "total_max_attempts": max_attempts},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
        )
        self._clients: dict[str, Any] = {}
        self._client_lock = threading.Lock()
        self._memo: dict[Any, Future[Any]] = {}
        self._memo_lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        self.account: str | None = None
        self.caller_arn: str | None = None  # GetCallerIdentity's Arn, set by verify_identity
        # Read and learn Service Quotas codes through the per-user cache (facts/quotas.py).
        self.quota_code_cache = quota_code_cache
        self._closed = threading.Event()  # set by close(): no request leaves after it

    # -- clients ---------------------------------------------------------------------------
    def client(self, service: str, *, attempts: int | None = None) -> Any:
        """The run's shared client of ``service``; ``attempts`` gives a separate one making
        at most that many attempts per call (1: a call that must never be resent)."""
        key = service if attempts is None else f"{service}#{attempts}"
        with self._client_lock:
            if key not in self._clients:
                config = self._config
                if attempts is not None:
                    config = config.merge(
                        botocore.config.Config(
                            retries={
                                "mode": (self._config.retries or {}).get("mode", "standard"),
                                "total_max_attempts": attempts,
                            }
                        )
                    )
                client = protocol.install(self.session.client(service, config=config))
                client.meta.events.register("before-call", self._count_call)
                client.meta.events.register("before-send", self._refuse_when_closed)
                self._clients[key] = client
            return self._clients[key]

    def close(self) -> None:
        """End the run's I/O: every request not yet sent (a read still queued on a thread, a
        retry) fails instead of leaving the process. The threads of a run that ended at its
        deadline, or was interrupted, can so never reach an endpoint afterwards (a sandbox's
        in-process account is gone by then: they would reach the real AWS)."""
        self._closed.set()

    def _refuse_when_closed(self, **_: Any) -> None:
        if self._closed.is_set():
            raise RunClosed()

    def _count_call(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}:{model.name}"
        with self._calls_lock:
            self.calls[name] += 1

    @property
    def call_count(self) -> int:
        return sum(self.calls.values())

    # -- calls -----------------------------------------------------------------------------
    def call(
        self,
        service: str,
        operation: str,
        *,
        none_on: tuple[str, ...] = (),
        attempts: int | None = None,
        **params: Any,
    ) -> Any:
        """Call ``operation`` (PascalCase) and return its response.

        Error codes in ``none_on`` (e.g. ``InvalidSubnetID.NotFound``) return None; every
        other failure raises :class:`FactUnavailable` (from the botocore exception).
        ``attempts`` caps the attempts of this call (1: never resent; see :meth:`client`).
        """
        client = self.client(service, attempts=attempts)
        method = getattr(client, _snake(operation))
        try:
            return method(**params)
        except Exception as exc:
            if none_on and error_code(exc) in none_on:
                return None
            raise classify(
                exc,
                iam_action(client, operation),
                client.meta.endpoint_url,
                attempts or self._attempts(),
            ) from exc

    def _attempts(self) -> int | None:
        """The run's attempts per call (first one included), as the clients are configured."""
        total = (self._config.retries or {}).get("total_max_attempts")
        return int(total) if total else None

    def paginate(self, service: str, operation: str, key: str, **params: Any) -> list[Any]:
        """Every item under ``key`` across all pages of ``operation``."""
        client = self.client(service)
        items: list[Any] = []
        try:
            for page in client.get_paginator(_snake(operation)).paginate(**params):
                items.extend(page.get(key, []))
        except Exception as exc:
            raise classify(
                exc, iam_action(client, operation), client.meta.endpoint_url, self._attempts()
            ) from exc
        return items

    def _caller_identity(self) -> dict[str, Any]:
        short = botocore.config.Config(connect_timeout=3, read_timeout=5)
        total = int((self._config.retries or {}).get("total_max_attempts") or 3)
        first = min(2, total)
        quick = self._config.merge(short).merge(
            botocore.config.Config(retries={"mode": "standard", "total_max_attempts": first})
        )
        with self._client_lock:  # a botocore session makes one client at a time
            client = protocol.install(self.session.client("sts", config=quick))
        try:
            answer: dict[str, Any] = client.get_caller_identity()
            return answer
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) not in THROTTLE_CODES or total <= first:
                raise
        # Throttled: the rest of the run's own attempts, as every other call gets.
        retries = dict(self._config.retries or {})
        retries["total_max_attempts"] = total - first
        rest = self._config.merge(short).merge(botocore.config.Config(retries=retries))
        with self._client_lock:
            patient = protocol.install(self.session.client("sts", config=rest))
        again: dict[str, Any] = patient.get_caller_identity()
        return again

    def verify_identity(self) -> dict[str, Any]:
        """``sts:GetCallerIdentity``, the first call of a run: fails fast with exit 3.

        Throttling is retried like every other call (the run's retry mode and attempts: it is
        not a credentials problem); an endpoint that does not answer is given up after two
        attempts with short timeouts (3 s connect, 5 s read: about 11 s, the documented
        figure), and each way it can fail gets its own one-line message.
        """
        try:
            ident: dict[str, Any] = self._caller_identity()
        except botocore.exceptions.NoCredentialsError as exc:
            raise CannotRunError(
                "no AWS credentials found: configure a profile (--profile), set AWS_* "
                "variables, or run with --offline for the checks that need no AWS access"
            ) from exc
        except (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectTimeoutError,
            botocore.exceptions.ReadTimeoutError,
        ) as exc:
            raise CannotRunError(
                f"cannot reach the AWS STS endpoint for region {self.region}: {one_line(str(exc))}"
            ) from exc
        except protocol.NotAwsProtocol as exc:
            raise CannotRunError(
                f"{exc} (a proxy or captive portal answered instead of AWS: check "
                "HTTPS_PROXY, NO_PROXY and AWS_ENDPOINT_URL*)"
            ) from exc
        except botocore.exceptions.ClientError as exc:
            code = error_code(exc)
            attempts = (self._config.retries or {}).get("total_max_attempts")
            if code in THROTTLE_CODES:
                raise CannotRunError(
                    f"AWS STS throttled sts:GetCallerIdentity ({code}) on every one of "
                    f"{attempts} attempts: run again later, or with --retry-mode adaptive "
                    "--max-attempts 20"
                ) from exc
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if (
                code in DENIED_CODES
                or status in (401, 403)
                or "Token" in code
                or code in ("SignatureDoesNotMatch", "UnrecognizedClientException")
            ):
                raise CannotRunError(
                    f"AWS rejected the credentials ({code}): refresh them or pick another --profile"
                ) from exc
            detail = error_detail(exc, self._sts_endpoint())
            raise CannotRunError(
                "sts:GetCallerIdentity failed" + (f": {detail}" if detail else "")
            ) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise CannotRunError(f"cannot use AWS: {one_line(str(exc))}") from exc
        with self._calls_lock:
            self.calls["sts:GetCallerIdentity"] += 1
        self.account = ident.get("Account")
        self.caller_arn = ident.get("Arn")
        return ident

    def _sts_endpoint(self) -> str | None:
        try:
            return str(self.client("sts").meta.endpoint_url)
        except Exception:  # naming the endpoint is a courtesy: never a second failure
            return None


def make_session(profile: str | None, region: str | None) -> Any:
    """One boto3 session for the run; ``AWS_ENDPOINT_URL*`` variables apply as botocore
    defines them. Its data loader keeps decoded copies of botocore's JSON
    (:mod:`.data_cache`)."""
    if region is not None and not _REGION_RE.match(region):
        raise InputError(f"--region {region!r} is not a region name (e.g. us-west-2)")
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        # botocore's JSON decoded once per version; the clients know the facts' operations
        data_cache.install(session, keep=data_cache.OPERATIONS)
        return session
    except botocore.exceptions.ProfileNotFound as exc:
        raise InputError(f"{_profile_origin(profile)}: {exc}") from exc
    except botocore.exceptions.ConfigParseError as exc:
        raise InputError(_config_file_problem(exc)) from exc


def _profile_origin(profile: str | None) -> str:
    if profile is not None:
        return "--profile"
    return "AWS_PROFILE" if os.environ.get("AWS_PROFILE") else "AWS_DEFAULT_PROFILE"


def _config_file_problem(exc: Exception) -> str:
    return (
        f"the AWS config or credentials file cannot be read ({exc}): fix it, or point "
        "AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE elsewhere"
    )


def _session_region(session: boto3.Session) -> str:
    """The session's region; a missing profile or a broken config file is bad input (exit 2)."""
    try:
        return str(session.region_name or "")
    except botocore.exceptions.ProfileNotFound as exc:
        raise InputError(f"{_profile_origin(None)}: {exc}") from exc
    except botocore.exceptions.ConfigParseError as exc:
        raise InputError(_config_file_problem(exc)) from exc


def check_known_region(session: boto3.Session, region: str) -> None:
    """A region botocore does not know is a typo (exit 2). With a custom endpoint
    (``AWS_ENDPOINT_URL``, e.g. moto_server or LocalStack) that endpoint decides what regions
    mean, so only a near miss of a known region (``us-west-9``) is refused there."""
    custom = bool(os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_STS"))
    known: set[str] = set()
    for partition in session.get_available_partitions():
        known.update(session.get_available_regions("ec2", partition_name=partition))
    if known and region not in known:
        close = difflib.get_close_matches(region, sorted(known), n=2)
        if custom and not close:
            return
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise InputError(
            f"region {region!r} is not one botocore {botocore.__version__} knows{hint} "
            "(if it is a new region, upgrade botocore)"
        )


def _snake(operation: str) -> str:
    return str(botocore.xform_name(operation))


def chunks(items: list[T] | tuple[T, ...], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
