"""The sandbox's own answers to the AWS APIs moto lacks: Service Quotas for ``sagemaker``,
``ec2`` and ``vpc``, IAM's policy simulator, SageMaker training plans, FSx file systems (moto
leaves out their state, interfaces and mount name) and EKS clusters.

:class:`SandboxAnswers` is a botocore ``before-send`` handler. It is registered on the
sandbox's own ``boto3.Session`` only (:meth:`SandboxAnswers.attach`), so every client of that
session, and no other, gets these answers; operations it does not own fall through to moto.
Every success body is checked against the operation's output shape in botocore's model, then
written in the service's wire protocol (JSON for Service Quotas and SageMaker, query XML for
IAM), so the code under test parses it exactly as it parses AWS. :meth:`SandboxAnswers.answer`
gives the same answer as plain bytes, for a test that serves it over HTTP.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import xml.sax.saxutils
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, unquote, urlparse

import botocore.awsrequest
import botocore.session
import botocore.validate

if TYPE_CHECKING:
    from boto3 import Session

JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}
XML_HEADERS = {"Content-Type": "text/xml"}
SERVICE_NAMES = {
    "sagemaker": "Amazon SageMaker",
    "ec2": "Amazon Elastic Compute Cloud (Amazon EC2)",
    "vpc": "Amazon Virtual Private Cloud (Amazon VPC)",
}
# Codes reported for these quotas (FACTS.md); others get a stable code made from the name.
KNOWN_CODES = {
    "Maximum number instances allowed per SageMaker HyperPod cluster": "L-2CE978FC",
    "Total number of instances allowed across SageMaker HyperPod clusters": "L-3308CCC7",
    "Maximum size of EBS volume in GB for a SageMaker HyperPod cluster instance": "L-E13DF72A",
}
Simulate = Callable[[str, str], str]


def quota_code(name: str) -> str:
    """The code of a quota: the reported one, else ``L-`` and 8 hex digits of its name."""
    return KNOWN_CODES.get(name) or "L-" + hashlib.sha256(name.encode()).hexdigest()[:8].upper()


@dataclass(frozen=True)
class Quota:
    """One quota of the sandbox account; ``applied`` False: still at its AWS default."""

    service: str
    name: str
    value: float
    code: str = ""
    applied: bool = True

    def item(self, region: str, account: str) -> dict[str, Any]:
        """The ``ServiceQuota`` structure AWS returns for it."""
        code = self.code or quota_code(self.name)
        return {
            "ServiceCode": self.service,
            "ServiceName": SERVICE_NAMES.get(self.service, self.service),
            "QuotaArn": f"arn:aws:servicequotas:{region}:{account}:{self.service}/{code}",
            "QuotaCode": code,
            "QuotaName": self.name,
            "Value": float(self.value),
            "Unit": "None",
            "Adjustable": True,
            "GlobalQuota": False,
            "QuotaAppliedAtLevel": "ACCOUNT",
        }


@functools.cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def checked(service: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body``, after checking it against ``operation``'s output shape (ValueError if not)."""
    shape = _model(service).operation_model(operation).output_shape
    report = botocore.validate.ParamValidator().validate(body, shape)
    if report.has_errors():
        raise ValueError(f"sandbox {operation} answer is off-shape: {report.generate_report()}")
    return body


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(type(value).__name__)


def wire_xml(value: Any, shape: Any, list_tag: str = "member") -> str:
    """``value`` as the query protocol writes ``shape``: lists as ``<member>`` items (the EC2
    protocol writes ``<item>``: pass ``list_tag="item"``)."""
    if shape.type_name == "structure":
        parts = []
        for key, item in value.items():
            member = shape.members[key]
            tag = member.serialization.get("name", key)
            parts.append(f"<{tag}>{wire_xml(item, member, list_tag)}</{tag}>")
        return "".join(parts)
    if shape.type_name == "list":
        tag = shape.member.serialization.get("name", list_tag)
        return "".join(f"<{tag}>{wire_xml(item, shape.member, list_tag)}</{tag}>" for item in value)
    if shape.type_name == "boolean":
        return "true" if value else "false"
    if shape.type_name == "timestamp" and isinstance(value, datetime):
        return value.isoformat()
    return xml.sax.saxutils.escape(str(value))


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def response(self) -> botocore.awsrequest.AWSResponse:
        return botocore.awsrequest.AWSResponse(
            "https://sandbox.invalid/", self.status, dict(self.headers), _Raw(self.body)
        )


class _Raw:
    """The raw stream botocore reads a response body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def json_ok(service: str, operation: str, body: dict[str, Any]) -> Answer:
    data = json.dumps(checked(service, operation, body), default=_json_value).encode()
    return Answer(200, dict(JSON_HEADERS), data)


def json_error(code: str, message: str, status: int = 400) -> Answer:
    data = json.dumps({"__type": code, "Message": message}).encode()
    return Answer(status, dict(JSON_HEADERS), data)


def query_ok(service: str, operation: str, body: dict[str, Any]) -> Answer:
    shape = _model(service).operation_model(operation).output_shape
    inner = wire_xml(checked(service, operation, body), shape)
    data = (
        f'<{operation}Response xmlns="https://{service}.amazonaws.com/doc/2010-05-08/">'
        f"<{operation}Result>{inner}</{operation}Result>"
        f"<ResponseMetadata><RequestId>sandbox</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
    ).encode()
    return Answer(200, dict(XML_HEADERS), data)


def _members(form: dict[str, list[str]], name: str) -> list[str]:
    keys = [k for k in form if k.startswith(f"{name}.member.") and k.count(".") == 2]
    return [form[k][0] for k in sorted(keys, key=lambda k: int(k.rsplit(".", 1)[1]))]


def _allow_everything(_action: str, _resource: str) -> str:
    return "allowed"


class SandboxAnswers:
    """Answers for one sandbox account (``region``, ``account``).

    ``quotas``: the account's Service Quotas; ``simulate(action, resource)``: the simulator's
    decision for the caller (``allowed`` by default: the sandbox's caller is an administrator);
    ``training_plans``: ``DescribeTrainingPlan`` bodies by plan name; ``file_systems``: FSx
    ``FileSystem`` structures by id; ``eks_clusters``: ``DescribeCluster`` bodies by name.
    """

    OWNED: ClassVar[dict[str, tuple[str, ...]]] = {
        "service-quotas": (
            "ListServiceQuotas",
            "ListAWSDefaultServiceQuotas",
            "GetServiceQuota",
            "GetAWSDefaultServiceQuota",
            "ListRequestedServiceQuotaChangeHistoryByQuota",
            "RequestServiceQuotaIncrease",
            "GetRequestedServiceQuotaChange",
        ),
        "iam": ("SimulatePrincipalPolicy",),
        "sagemaker": ("DescribeTrainingPlan",),
        "fsx": ("DescribeFileSystems",),
        "eks": (
            "DescribeCluster",
            "DescribeAddon",
            "ListAccessEntries",
            "DescribeAccessEntry",
            "ListAssociatedAccessPolicies",
        ),
    }

    def __init__(
        self,
        *,
        region: str,
        account: str,
        quotas: Iterable[Quota] = (),
        simulate: Simulate = _allow_everything,
        training_plans: dict[str, dict[str, Any]] | None = None,
        eks_clusters: dict[str, dict[str, Any]] | None = None,
        file_systems: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.region = region
        self.account = account
        self.quotas = list(quotas)
        self.simulate = simulate
        self.training_plans = {
            name: checked("sagemaker", "DescribeTrainingPlan", body)
            for name, body in (training_plans or {}).items()
        }
        self.eks_clusters = dict(eks_clusters or {})
        self.file_systems = {
            fs_id: checked("fsx", "DescribeFileSystems", {"FileSystems": [body]})["FileSystems"][0]
            for fs_id, body in (file_systems or {}).items()
        }
        self.seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def attach(
        self, session: Session, *, replacing: Callable[..., Any] | None = None
    ) -> SandboxAnswers:
        """Answer on every client ``session`` (a ``boto3.Session``) makes from now on.

        botocore calls *every* ``before-send`` handler and keeps the first answer, so a handler
        that raises for what it lacks (moto's) would still fail the call: ``replacing`` names
        such a handler, taken off this session and asked only for what these answers leave.
        """
        if replacing is None:
            for service in self.OWNED:
                session.events.register_first(f"before-send.{service}", self)
            return self

        def dispatch(request: Any, **kwargs: Any) -> Any:
            answer = self(request=request, **kwargs)
            return answer if answer is not None else replacing(request=request, **kwargs)

        session.events.unregister("before-send", replacing)
        session.events.register("before-send", dispatch)
        return self

    # -- botocore's event -----------------------------------------------------------------
    def __call__(self, request: Any, **kwargs: Any) -> botocore.awsrequest.AWSResponse | None:
        parts = str(kwargs.get("event_name", "")).split(".")
        if len(parts) < 3:
            return None
        service, operation = parts[1], parts[2]
        body = request.body or b""
        if service == "eks":
            answer = self.eks_answer(operation, str(getattr(request, "url", "")))
            return answer.response() if answer is not None else None
        answer = self.answer(service, operation, body if isinstance(body, bytes) else body.encode())
        return answer.response() if answer is not None else None

    def answer(self, service: str, operation: str, body: bytes) -> Answer | None:
        """The answer to one request (its raw body), or None where moto answers it."""
        if operation not in self.OWNED.get(service, ()):
            return None
        with self._lock:
            self.seen[operation] = self.seen.get(operation, 0) + 1
        if service == "iam":
            return self._simulate(parse_qs(body.decode()))
        params = json.loads(body or b"{}")
        if service == "sagemaker":
            return self._training_plan(params)
        if service == "fsx":
            return self._file_systems(params)
        handler: Callable[[dict[str, Any]], Answer] = getattr(self, f"_{operation}", None) or (
            lambda _p: json_error(
                "AccessDeniedException",
                f"the sandbox account does not allow servicequotas:{operation}",
            )
        )
        return handler(params)

    # -- Service Quotas -------------------------------------------------------------------
    def _items(self, service: str, applied: bool) -> list[dict[str, Any]]:
        return [
            q.item(self.region, self.account)
            for q in self.quotas
            if q.service == service and (q.applied or not applied)
        ]

    def _page(self, operation: str, items: list[dict[str, Any]], params: dict[str, Any]) -> Answer:
        size = max(1, min(int(params.get("MaxResults") or 100), 100))
        start = int(params.get("NextToken") or 0)
        body: dict[str, Any] = {"Quotas": items[start : start + size]}
        if start + size < len(items):
            body["NextToken"] = str(start + size)
        return json_ok("service-quotas", operation, body)

    def _get(self, operation: str, items: list[dict[str, Any]], params: dict[str, Any]) -> Answer:
        for item in items:
            if item["QuotaCode"] == params.get("QuotaCode"):
                return json_ok("service-quotas", operation, {"Quota": item})
        return json_error(
            "NoSuchResourceException", "The request failed because the quota does not exist."
        )

    def _ListServiceQuotas(self, params: dict[str, Any]) -> Answer:
        items = self._items(str(params.get("ServiceCode")), applied=True)
        return self._page("ListServiceQuotas", items, params)

    def _ListAWSDefaultServiceQuotas(self, params: dict[str, Any]) -> Answer:
        items = self._items(str(params.get("ServiceCode")), applied=False)
        return self._page("ListAWSDefaultServiceQuotas", items, params)

    def _GetServiceQuota(self, params: dict[str, Any]) -> Answer:
        items = self._items(str(params.get("ServiceCode")), applied=True)
        return self._get("GetServiceQuota", items, params)

    def _GetAWSDefaultServiceQuota(self, params: dict[str, Any]) -> Answer:
        items = self._items(str(params.get("ServiceCode")), applied=False)
        return self._get("GetAWSDefaultServiceQuota", items, params)

    def _ListRequestedServiceQuotaChangeHistoryByQuota(self, _params: dict[str, Any]) -> Answer:
        return json_ok(
            "service-quotas",
            "ListRequestedServiceQuotaChangeHistoryByQuota",
            {"RequestedQuotas": []},
        )

    # -- IAM's policy simulator ------------------------------------------------------------
    def _simulate(self, form: dict[str, list[str]]) -> Answer:
        actions = _members(form, "ActionNames")
        resources = _members(form, "ResourceArns") or ["*"]
        results = [
            {
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": self.simulate(action, resource),
            }
            for action in actions
            for resource in resources
        ]
        body = {"EvaluationResults": results, "IsTruncated": False}
        return query_ok("iam", "SimulatePrincipalPolicy", body)

    # -- SageMaker training plans -----------------------------------------------------------
    def _training_plan(self, params: dict[str, Any]) -> Answer:
        name = str(params.get("TrainingPlanName", "")).rsplit("/", 1)[-1]
        plan = self.training_plans.get(name)
        if plan is None:
            return json_error("ResourceNotFound", f"Training plan {name} does not exist.")
        return json_ok("sagemaker", "DescribeTrainingPlan", plan)

    # -- FSx file systems -------------------------------------------------------------------
    def _file_systems(self, params: dict[str, Any]) -> Answer:
        """FSx fails the whole call when one id is unknown (``FileSystemNotFound``)."""
        ids = [str(i) for i in params.get("FileSystemIds") or ()]
        if not ids:
            ids = sorted(self.file_systems)
        missing = [i for i in ids if i not in self.file_systems]
        if missing:
            return json_error("FileSystemNotFound", f"File system '{missing[0]}' does not exist.")
        body = {"FileSystems": [self.file_systems[i] for i in ids]}
        return json_ok("fsx", "DescribeFileSystems", body)

    # -- EKS (moto drops what the eks checks read) ------------------------------------------
    def eks_answer(self, operation: str, url: str) -> Answer | None:
        """EKS's REST answers from the built clusters (the path names cluster and principal)."""
        if operation not in self.OWNED["eks"]:
            return None
        with self._lock:
            self.seen[operation] = self.seen.get(operation, 0) + 1
        parts = [unquote(p) for p in urlparse(url).path.strip("/").split("/")]
        cluster = self.eks_clusters.get(parts[1]) if len(parts) > 1 else None
        if cluster is None:
            return json_error("ResourceNotFoundException", "No cluster found", 404)
        entries: dict[str, str] = cluster.get("access_entries", {})
        name = str(cluster.get("name", parts[1]))
        if operation == "DescribeCluster":
            body = {k: v for k, v in cluster.items() if k != "access_entries"}
            return json_ok("eks", operation, {"cluster": body})
        if operation == "DescribeAddon":
            addon = parts[3] if len(parts) > 3 else ""
            if addon != "vpc-cni":
                return json_error("ResourceNotFoundException", f"No addon: {addon}", 404)
            return json_ok(
                "eks",
                operation,
                {
                    "addon": {
                        "addonName": "vpc-cni",
                        "clusterName": name,
                        "status": "ACTIVE",
                        "addonVersion": "v1.19.0-eksbuild.1",
                    }
                },
            )
        if operation == "ListAccessEntries":
            return json_ok("eks", operation, {"accessEntries": sorted(entries)})
        principal = parts[3] if len(parts) > 3 else ""
        if principal not in entries:
            return json_error("ResourceNotFoundException", "No access entry", 404)
        if operation == "DescribeAccessEntry":
            entry = {
                "clusterName": name,
                "principalArn": principal,
                "type": "STANDARD",
                "kubernetesGroups": [],
            }
            return json_ok("eks", operation, {"accessEntry": entry})
        policy = {"policyArn": entries[principal], "accessScope": {"type": "cluster"}}
        return json_ok(
            "eks",
            operation,
            {"clusterName": name, "principalArn": principal, "associatedAccessPolicies": [policy]},
        )
