"""A Service Quotas fake for tests: a botocore ``before-send`` handler answering the
service-quotas operations hyperpod-preflight uses, since moto has no ``sagemaker`` quotas
and no quota request APIs.

Every success body is built from botocore's own model and validated against the
operation's output shape (``botocore.validate``) before it is serialised; errors use the
error codes the model declares for the operation. Attach it to the client the code under
test uses (``fake.attach(facts)``); it registers with ``register_first`` so it answers
instead of moto, and counts what it saw per operation.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import botocore.session
from aws_world import ACCOUNT, REGION, validated
from botocore.awsrequest import AWSResponse

SERVICE = "service-quotas"
JSON = {"Content-Type": "application/x-amz-json-1.1"}
_MODEL = botocore.session.get_session().get_service_model(SERVICE)
_STATUSES = frozenset(_MODEL.shape_for("RequestStatus").enum)
_SERVICE_NAMES = {
    "sagemaker": "Amazon SageMaker",
    "ec2": "Amazon Elastic Compute Cloud (Amazon EC2)",
    "vpc": "Amazon Virtual Private Cloud (Amazon VPC)",
}


def quota(
    name: str,
    code: str,
    value: float | None,
    *,
    service: str = "sagemaker",
    adjustable: bool = True,
    error: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """A ``ServiceQuota`` as AWS returns it (``error``: an ``ErrorReason`` instead of a value)."""
    item: dict[str, Any] = {
        "ServiceCode": service,
        "ServiceName": _SERVICE_NAMES.get(service, service),
        "QuotaArn": f"arn:aws:servicequotas:{REGION}:{ACCOUNT}:{service}/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Unit": "None",
        "Adjustable": adjustable,
        "GlobalQuota": False,
        "QuotaAppliedAtLevel": "ACCOUNT",
    }
    if value is not None:
        item["Value"] = float(value)
    if error is not None:
        item["ErrorReason"] = {"ErrorCode": error[0], "ErrorMessage": error[1]}
    return item


def filler_quotas(count: int, *, start: int = 0) -> list[dict[str, Any]]:
    """``count`` unrelated SageMaker quotas (training, endpoints …) to make listings long."""
    kinds = ("training job usage", "endpoint usage", "processing job usage", "transform job usage")
    return [
        quota(f"ml.filler{i}.xlarge for {kinds[i % len(kinds)]}", f"L-F{i:07X}", 4)
        for i in range(start, start + count)
    ]


def change(
    request_id: str,
    service: str,
    code: str,
    name: str,
    desired: float,
    status: str,
    *,
    case_id: str | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """A ``RequestedServiceQuotaChange``."""
    assert status in _STATUSES, status
    item: dict[str, Any] = {
        "Id": request_id,
        "ServiceCode": service,
        "ServiceName": _SERVICE_NAMES.get(service, service),
        "QuotaCode": code,
        "QuotaName": name,
        "DesiredValue": float(desired),
        "Status": status,
        "Created": created or datetime(2026, 1, 1, tzinfo=UTC),
        "LastUpdated": created or datetime(2026, 1, 1, tzinfo=UTC),
        "Requester": f"arn:aws:iam::{ACCOUNT}:user/ops",
        "QuotaArn": f"arn:aws:servicequotas:{REGION}:{ACCOUNT}:{service}/{code}",
        "GlobalQuota": False,
        "Unit": "None",
        "QuotaRequestedAtLevel": "ACCOUNT",
    }
    if case_id:
        item["CaseId"] = case_id
    return item


class _Raw:
    """The raw body botocore reads from an ``AWSResponse``."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(type(value).__name__)


def _ok(operation: str, body: dict[str, Any]) -> AWSResponse:
    validated(SERVICE, operation, body)
    data = json.dumps(body, default=_json_default).encode()
    return AWSResponse("https://servicequotas.invalid/", 200, dict(JSON), _Raw(data))


def error(code: str, message: str = "injected", status: int = 400) -> AWSResponse:
    """An awsjson error response (``__type`` carries the code, as AWS sends it)."""
    data = json.dumps({"__type": code, "Message": message}).encode()
    return AWSResponse("https://servicequotas.invalid/", status, dict(JSON), _Raw(data))


class ServiceQuotasFake:
    """Service Quotas of one account and region, answering in botocore's shapes.

    ``applied``: quotas with an applied value (``ListServiceQuotas``/``GetServiceQuota``);
    ``defaults``: AWS defaults (``ListAWSDefaultServiceQuotas``/``GetAWSDefaultServiceQuota``);
    ``history``: existing ``RequestedServiceQuotaChange`` items. Submitted requests start
    PENDING with a case id; each ``GetRequestedServiceQuotaChange`` moves one along
    ``progression`` (default PENDING → CASE_OPENED → APPROVED). ``throttle(op, n)`` answers
    the next ``n`` calls of ``op`` with TooManyRequestsException; ``deny(op)`` answers every
    call with AccessDeniedException.
    """

    def __init__(
        self,
        applied: Iterable[dict[str, Any]] = (),
        defaults: Iterable[dict[str, Any]] = (),
        history: Iterable[dict[str, Any]] = (),
        *,
        progression: tuple[str, ...] = ("PENDING", "CASE_OPENED", "APPROVED"),
        reject_duplicates: bool = True,
    ) -> None:
        self.applied = list(applied)
        self.defaults = list(defaults)
        self.history = list(history)
        self.progression = progression
        self.reject_duplicates = reject_duplicates
        self.exists_on_request = False  # answer every request ResourceAlreadyExistsException
        self.seen: dict[str, int] = {}
        self.submitted: list[dict[str, Any]] = []
        self.page_sizes: list[int] = []
        self._throttle: dict[str, int] = {}
        self._denied: set[str] = set()
        self._polls: dict[str, int] = {}
        self.hooks: dict[str, Callable[[], None]] = {}  # run before answering, unlocked
        self._lock = threading.Lock()

    # -- set-up ------------------------------------------------------------------------------
    def attach(self, facts: Any) -> ServiceQuotasFake:
        """Answer every service-quotas call of ``facts``. botocore calls *every* before-send
        handler (the first answer wins), and moto's raises NotImplementedError for the
        operations it lacks, so moto is taken off this one client."""
        from moto.core.models import botocore_stubber

        # The shared client, and the one that submits requests with retries off.
        for client in (facts.client(SERVICE), facts.client(SERVICE, attempts=1)):
            client.meta.events.unregister("before-send", botocore_stubber)
            client.meta.events.register_first(f"before-send.{SERVICE}", self)
        return self

    def throttle(self, operation: str, times: int) -> ServiceQuotasFake:
        self._throttle[operation] = self._throttle.get(operation, 0) + times
        return self

    def deny(self, *operations: str) -> ServiceQuotasFake:
        self._denied.update(operations)
        return self

    def calls(self, operation: str) -> int:
        return self.seen.get(operation, 0)

    # -- the handler -------------------------------------------------------------------------
    def __call__(self, request: Any, **kwargs: Any) -> AWSResponse:
        operation = str(kwargs.get("event_name", "")).rsplit(".", 1)[-1]
        params = json.loads(request.body or b"{}")
        hook = self.hooks.get(operation)
        if hook is not None:
            hook()
        with self._lock:
            self.seen[operation] = self.seen.get(operation, 0) + 1
            if self._throttle.get(operation, 0) > 0:
                self._throttle[operation] -= 1
                return error("TooManyRequestsException", "Rate exceeded")
            if operation in self._denied:
                return error(
                    "AccessDeniedException",
                    f"User is not authorized to perform: servicequotas:{operation}",
                )
            handler = getattr(self, f"_op_{operation}", None)
            if handler is None:
                raise AssertionError(f"ServiceQuotasFake: {operation} not faked")
            result: AWSResponse = handler(params)
            return result

    # -- operations --------------------------------------------------------------------------
    def _page(self, operation: str, items: list[dict[str, Any]], params: dict[str, Any]) -> Any:
        size = min(int(params.get("MaxResults") or 100), 100)
        self.page_sizes.append(size)
        start = int(params.get("NextToken") or 0)
        body: dict[str, Any] = {"Quotas": items[start : start + size]}
        if start + size < len(items):
            body["NextToken"] = str(start + size)
        return _ok(operation, body)

    def _of(self, items: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
        return [q for q in items if q["ServiceCode"] == service]

    def _op_ListServiceQuotas(self, params: dict[str, Any]) -> AWSResponse:
        items = self._of(self.applied, params["ServiceCode"])
        return self._page("ListServiceQuotas", items, params)

    def _op_ListAWSDefaultServiceQuotas(self, params: dict[str, Any]) -> AWSResponse:
        items = self._of(self.defaults, params["ServiceCode"])
        return self._page("ListAWSDefaultServiceQuotas", items, params)

    def _get(self, operation: str, items: list[dict[str, Any]], params: dict[str, Any]) -> Any:
        for q in self._of(items, params["ServiceCode"]):
            if q["QuotaCode"] == params["QuotaCode"]:
                return _ok(operation, {"Quota": q})
        return error(
            "NoSuchResourceException", "The request failed because the quota does not exist."
        )

    def _op_GetServiceQuota(self, params: dict[str, Any]) -> AWSResponse:
        return self._get("GetServiceQuota", self.applied, params)

    def _op_GetAWSDefaultServiceQuota(self, params: dict[str, Any]) -> AWSResponse:
        return self._get("GetAWSDefaultServiceQuota", self.defaults, params)

    def _op_ListRequestedServiceQuotaChangeHistoryByQuota(
        self, params: dict[str, Any]
    ) -> AWSResponse:
        items = [
            c
            for c in self.history
            if c["ServiceCode"] == params["ServiceCode"]
            and c["QuotaCode"] == params["QuotaCode"]
            and ("Status" not in params or c["Status"] == params["Status"])
        ]
        return _ok("ListRequestedServiceQuotaChangeHistoryByQuota", {"RequestedQuotas": items})

    def _op_RequestServiceQuotaIncrease(self, params: dict[str, Any]) -> AWSResponse:
        service, code = params["ServiceCode"], params["QuotaCode"]
        open_ones = [
            c
            for c in self.history
            if c["ServiceCode"] == service
            and c["QuotaCode"] == code
            and c["Status"] in ("PENDING", "CASE_OPENED")
        ]
        if (open_ones and self.reject_duplicates) or self.exists_on_request:
            return error(
                "ResourceAlreadyExistsException",
                "The specified resource already exists.",
            )
        known = [q for q in self.applied + self.defaults if q["QuotaCode"] == code]
        name = known[0]["QuotaName"] if known else code
        n = len(self.submitted) + 1
        item = change(
            f"req-{n:04d}",
            service,
            code,
            name,
            params["DesiredValue"],
            "PENDING",
            case_id=f"case-{n:04d}",
            created=datetime.now(UTC),
        )
        self.submitted.append(item)
        self.history.append(item)
        return _ok("RequestServiceQuotaIncrease", {"RequestedQuota": item})

    def _op_GetRequestedServiceQuotaChange(self, params: dict[str, Any]) -> AWSResponse:
        request_id = params["RequestId"]
        for i, item in enumerate(self.history):
            if item["Id"] == request_id:
                polls = self._polls.get(request_id, 0) + 1
                self._polls[request_id] = polls
                status = self.progression[min(polls, len(self.progression) - 1)]
                self.history[i] = {**item, "Status": status}
                return _ok("GetRequestedServiceQuotaChange", {"RequestedQuota": self.history[i]})
        return error("NoSuchResourceException", f"no request {request_id}")


def fresh_facts() -> Any:
    """A fresh :class:`AwsFacts` (empty memo and call counter); see ``aws_world.new_facts``.
    Call where ``AWS_ENDPOINT_URL`` is lifted."""
    from aws_world import new_facts

    return new_facts()


# -- a standard account for quota tests ----------------------------------------------------
P5 = "ml.p5.48xlarge"
P5_CODE = "L-8762A75F"  # as reported by a third-party inventory; the code reads it by name
CLUSTER_QUOTAS = {
    "per_cluster": (
        "Maximum number instances allowed per SageMaker HyperPod cluster",
        "L-2CE978FC",
    ),
    "total": ("Total number of instances allowed across SageMaker HyperPod clusters", "L-3308CCC7"),
    "ebs": (
        "Maximum size of EBS volume in GB for a SageMaker HyperPod cluster instance",
        "L-E13DF72A",
    ),
}
TYPE_CODES = {
    "ml.m5.2xlarge": "L-AA000001",
    "ml.m5.4xlarge": "L-AA000002",
    P5: P5_CODE,
    "ml.c5.2xlarge": "L-AA000003",
}


def sagemaker_quotas(
    *,
    applied: dict[str, float] | None = None,
    defaults: dict[str, float] | None = None,
    filler: int = 250,
    position: int = 230,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(applied, defaults) SageMaker listings: ``filler`` unrelated quotas with the named
    ones (by quota name → value) inserted from ``position`` on, so with the default
    figures they sit on page 3 of 100."""
    codes = {name: code for name, code in CLUSTER_QUOTAS.values()}
    codes.update({f"{t} for cluster usage": c for t, c in TYPE_CODES.items()})
    codes[f"{P5} for cluster spot instance usage"] = "L-F742E2D7"
    codes["Total number of Spot instances allowed across SageMaker HyperPod clusters"] = (
        "L-97A2C724"
    )

    def listing(values: dict[str, float], start: int) -> list[dict[str, Any]]:
        items = filler_quotas(filler, start=start)
        wanted = [
            quota(name, codes.get(name, f"L-EE{abs(hash(name)) % 10**6:06d}"), value)
            for name, value in values.items()
        ]
        return items[:position] + wanted + items[position:]

    return listing(applied or {}, 0), listing(defaults or {}, 0)


def default_account(changes: dict[str, float | None] | None = None) -> dict[str, float]:
    """Applied SageMaker values (by quota name) under which the standard 3-group config
    passes with the existing clusters; ``changes`` sets values (None removes a quota)."""
    values: dict[str, float] = {
        f"{P5} for cluster usage": 8,
        "ml.m5.2xlarge for cluster usage": 2,
        "ml.m5.4xlarge for cluster usage": 2,
        CLUSTER_QUOTAS["per_cluster"][0]: 20,
        CLUSTER_QUOTAS["total"][0]: 30,
        CLUSTER_QUOTAS["ebs"][0]: 1024,
    }
    for name, value in (changes or {}).items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values


EC2_VPC_QUOTAS = [
    quota("Network interfaces per Region", "L-DF5E4CA3", 5000, service="vpc"),
    quota("EC2-VPC Elastic IPs", "L-0263D0A3", 5, service="ec2"),
    quota("Running On-Demand P instances", "L-417A185B", 384, service="ec2"),
    quota(
        "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
        "L-1216C47A",
        1152,
        service="ec2",
    ),
]


SLURM_CONFIG: dict[str, Any] = {
    "ClusterName": "ml-cluster",
    "Orchestrator": {"Slurm": {"SlurmConfigStrategy": "Managed"}},
    "InstanceGroups": [
        {
            "InstanceGroupName": "controller",
            "InstanceType": "ml.m5.2xlarge",
            "InstanceCount": 1,
            "LifeCycleConfig": {
                "SourceS3Uri": "s3://sagemaker-lcs/base/",
                "OnCreate": "on_create.sh",
            },
            "ExecutionRole": f"arn:aws:iam::{ACCOUNT}:role/HyperPodExec",
            "ThreadsPerCore": 2,
        },
        {
            "InstanceGroupName": "login",
            "InstanceType": "ml.m5.4xlarge",
            "InstanceCount": 1,
            "LifeCycleConfig": {
                "SourceS3Uri": "s3://sagemaker-lcs/base/",
                "OnCreate": "on_create.sh",
            },
            "ExecutionRole": f"arn:aws:iam::{ACCOUNT}:role/HyperPodExec",
            "ThreadsPerCore": 2,
        },
        {
            "InstanceGroupName": "workers",
            "InstanceType": P5,
            "InstanceCount": 4,
            "LifeCycleConfig": {
                "SourceS3Uri": "s3://sagemaker-lcs/base/",
                "OnCreate": "on_create.sh",
            },
            "ExecutionRole": f"arn:aws:iam::{ACCOUNT}:role/HyperPodExec",
            "ThreadsPerCore": 1,
            "InstanceStorageConfigs": [{"EbsVolumeConfig": {"VolumeSizeInGB": 500}}],
        },
    ],
}


def slurm_config(subnets: list[str], sgs: list[str], **changes: Any) -> dict[str, Any]:
    """The standard 3-group Slurm config on ``subnets``/``sgs`` (no VpcConfig without
    subnets); ``workers_count``,
    ``workers_spot``, ``ebs_gb`` and ``name`` adjust it."""
    import copy

    cfg = copy.deepcopy(SLURM_CONFIG)
    if subnets:
        cfg["VpcConfig"] = {"Subnets": list(subnets), "SecurityGroupIds": list(sgs)}
    workers = cfg["InstanceGroups"][2]
    if "workers_count" in changes:
        workers["InstanceCount"] = changes["workers_count"]
    if changes.get("workers_spot"):
        workers["CapacityRequirements"] = {"Spot": {}}
    if "ebs_gb" in changes:
        workers["InstanceStorageConfigs"][0]["EbsVolumeConfig"]["VolumeSizeInGB"] = changes[
            "ebs_gb"
        ]
    if "name" in changes:
        cfg["ClusterName"] = changes["name"]
    return cfg


def create_existing_clusters(sagemaker: Any) -> None:
    """Two HyperPod clusters in moto: ``team-a`` holds 2 x p5 and 1 x c5.2xlarge,
    ``team-b`` holds 1 x p5 (3 p5 and 4 instances in all)."""

    def group(name: str, itype: str, count: int) -> dict[str, Any]:
        return {
            "InstanceGroupName": name,
            "InstanceType": itype,
            "InstanceCount": count,
            "LifeCycleConfig": {
                "SourceS3Uri": "s3://sagemaker-lcs/base/",
                "OnCreate": "on_create.sh",
            },
            "ExecutionRole": f"arn:aws:iam::{ACCOUNT}:role/HyperPodExec",
            "ThreadsPerCore": 1,
        }

    sagemaker.create_cluster(
        ClusterName="team-a",
        InstanceGroups=[group("gpu", P5, 2), group("ctl", "ml.c5.2xlarge", 1)],
    )
    sagemaker.create_cluster(ClusterName="team-b", InstanceGroups=[group("gpu", P5, 1)])
