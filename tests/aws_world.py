"""Builders for a moto account shaped like a HyperPod network, and botocore event handlers
that answer where moto cannot (denied calls, throttling, APIs moto lacks).

Builders take a boto3 EC2 client made inside ``moto_env()`` and return ids. Handlers are
registered on the *client the code under test uses* (``facts.client("ec2")``) with
``register_first`` so their answer wins over moto's; returning None lets moto answer.
Every canned success body is validated against botocore's output shape first.
"""

from __future__ import annotations

import functools
import io
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import botocore.awsrequest
import botocore.session
import botocore.validate

from hyperpod_preflight.sandbox.answers import wire_xml

REGION = "us-west-2"
ACCOUNT = "123456789012"


# -- network builders ---------------------------------------------------------------------
def make_vpc(ec2: Any, cidr: str = "10.0.0.0/16", *, dns: bool = True) -> str:
    """A VPC with ``enableDnsSupport`` and ``enableDnsHostnames`` both set to ``dns``."""
    vpc_id: str = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": dns})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": dns})
    return vpc_id


def make_subnet(
    ec2: Any,
    vpc_id: str,
    cidr: str,
    *,
    zone_id: str | None = None,
    zone_name: str | None = None,
    public_ip: bool = False,
) -> str:
    """A subnet in the zone named by id (preferred) or name."""
    where = {"AvailabilityZoneId": zone_id} if zone_id else {"AvailabilityZone": zone_name}
    subnet_id: str = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, **where)["Subnet"]["SubnetId"]
    if public_ip:
        ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    return subnet_id


def main_route_table(ec2: Any, vpc_id: str) -> str:
    tables = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    return str(tables[0]["RouteTableId"])


def make_route_table(ec2: Any, vpc_id: str, subnet_ids: Iterable[str] = ()) -> str:
    """A route table explicitly associated with ``subnet_ids``."""
    rtb: str = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    for subnet_id in subnet_ids:
        ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet_id)
    return rtb


def make_igw(ec2: Any, vpc_id: str) -> str:
    igw: str = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    return igw


def add_default_route(ec2: Any, rtb: str, **target: str) -> None:
    """``0.0.0.0/0`` → ``GatewayId=igw-…`` or ``NatGatewayId=nat-…`` etc."""
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", **target)


def make_nat_gateway(ec2: Any, public_subnet_id: str) -> str:
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat: str = ec2.create_nat_gateway(SubnetId=public_subnet_id, AllocationId=eip)["NatGateway"][
        "NatGatewayId"
    ]
    return nat


def make_s3_gateway_endpoint(ec2: Any, vpc_id: str, route_table_ids: Iterable[str]) -> str:
    ep: str = ec2.create_vpc_endpoint(
        VpcId=vpc_id,
        VpcEndpointType="Gateway",
        ServiceName=f"com.amazonaws.{REGION}.s3",
        RouteTableIds=list(route_table_ids),
    )["VpcEndpoint"]["VpcEndpointId"]
    return ep


def make_interface_endpoints(
    ec2: Any,
    vpc_id: str,
    subnet_ids: Iterable[str],
    services: Iterable[str],
    security_group_ids: Iterable[str] = (),
) -> list[str]:
    """Interface endpoints with private DNS on (moto leaves ``Groups`` empty unless
    ``security_group_ids`` are given; AWS would put the VPC's default group there)."""
    groups = {"SecurityGroupIds": list(security_group_ids)} if security_group_ids else {}
    ids = []
    for service in services:
        ids.append(
            ec2.create_vpc_endpoint(
                VpcId=vpc_id,
                VpcEndpointType="Interface",
                ServiceName=f"com.amazonaws.{REGION}.{service}",
                SubnetIds=list(subnet_ids),
                PrivateDnsEnabled=True,
                **groups,
            )["VpcEndpoint"]["VpcEndpointId"]
        )
    return ids


def make_sg(
    ec2: Any,
    vpc_id: str,
    name: str,
    *,
    self_ingress: bool = True,
    self_egress: bool = True,
    open_egress: bool = True,
    other_pairs: Iterable[str] = (),
) -> str:
    """A security group; ``self_*`` add the all-traffic rules to/from itself (with the
    ``other_pairs`` groups in the same rule, as AWS merges them), ``open_egress`` keeps the
    default ``0.0.0.0/0`` outbound rule."""
    sg: str = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"]
    pairs = [{"GroupId": g} for g in other_pairs]
    if self_ingress:
        ec2.authorize_security_group_ingress(
            GroupId=sg,
            IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [*pairs, {"GroupId": sg}]}],
        )
    if self_egress:
        ec2.authorize_security_group_egress(
            GroupId=sg,
            IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [*pairs, {"GroupId": sg}]}],
        )
    if not open_egress:
        ec2.revoke_security_group_egress(
            GroupId=sg,
            IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
    return sg


def allow(ec2: Any, sg: str, direction: str, permission: dict[str, Any]) -> None:
    """Add one permission (``direction`` is ``ingress`` or ``egress``)."""
    fn = (
        ec2.authorize_security_group_ingress
        if direction == "ingress"
        else ec2.authorize_security_group_egress
    )
    fn(GroupId=sg, IpPermissions=[permission])


@dataclass
class Network:
    """A complete, healthy HyperPod network plus the ids the tests need."""

    vpc: str
    subnets: dict[str, str] = field(default_factory=dict)
    route_tables: dict[str, str] = field(default_factory=dict)
    sgs: dict[str, str] = field(default_factory=dict)
    nat: str = ""
    igw: str = ""
    s3_endpoint: str = ""


def healthy_network(ec2: Any, cidr: str = "10.0.0.0/16") -> Network:
    """VPC with DNS on; a public subnet holding a NAT gateway; a private subnet (``a``,
    zone id usw2-az1) on its own route table via the NAT; the S3 gateway endpoint on that
    table; one EFA-ready security group (``efa``)."""
    prefix = cidr.split(".")[0] + "." + cidr.split(".")[1]
    net = Network(vpc=make_vpc(ec2, cidr))
    net.subnets["public"] = make_subnet(ec2, net.vpc, f"{prefix}.0.0/24", zone_id="usw2-az1")
    net.igw = make_igw(ec2, net.vpc)
    net.route_tables["public"] = make_route_table(ec2, net.vpc, [net.subnets["public"]])
    add_default_route(ec2, net.route_tables["public"], GatewayId=net.igw)
    net.nat = make_nat_gateway(ec2, net.subnets["public"])
    net.subnets["a"] = make_subnet(ec2, net.vpc, f"{prefix}.16.0/20", zone_id="usw2-az1")
    net.route_tables["private"] = make_route_table(ec2, net.vpc, [net.subnets["a"]])
    add_default_route(ec2, net.route_tables["private"], NatGatewayId=net.nat)
    net.s3_endpoint = make_s3_gateway_endpoint(ec2, net.vpc, [net.route_tables["private"]])
    net.sgs["efa"] = make_sg(ec2, net.vpc, f"efa-{net.vpc}")
    return net


# -- botocore event handlers --------------------------------------------------------------
class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = io.BytesIO(body)

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body.read()


def _response(status: int, body: bytes, headers: dict[str, str]) -> Any:
    return botocore.awsrequest.AWSResponse("https://example.invalid/", status, headers, _Raw(body))


def ec2_error(code: str, status: int = 400, message: str = "injected") -> Any:
    """An EC2 (``ec2`` protocol) error response."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
        f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
    ).encode()
    return _response(status, body, {"Content-Type": "text/xml;charset=UTF-8"})


@functools.cache
def _shape(service: str, operation: str) -> Any:
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(operation).output_shape


def validated(service: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` unchanged, after checking it against botocore's output shape."""
    report = botocore.validate.ParamValidator().validate(body, _shape(service, operation))
    if report.has_errors():
        raise AssertionError(
            f"canned {operation} response is off-shape: {report.generate_report()}"
        )
    return body


def ec2_response(operation: str, body: dict[str, Any]) -> Any:
    """A successful EC2 response to ``operation`` carrying ``body`` (validated against
    botocore's output shape, then written as the EC2 protocol's XML), for an
    :class:`Injector` to answer a call with a state moto cannot produce."""
    shape = _shape("ec2", operation)
    inner = wire_xml(validated("ec2", operation, body), shape, list_tag="item")
    xml_body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{operation}Response '
        f'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        f"<requestId>00000000-0000-0000-0000-000000000000</requestId>{inner}"
        f"</{operation}Response>"
    ).encode()
    return _response(200, xml_body, {"Content-Type": "text/xml;charset=UTF-8"})


class TrainingPlans:
    """A ``before-call`` handler answering ``sagemaker:DescribeTrainingPlan`` (moto lacks
    it) from ``plans`` (name → response body, validated; a name in ``errors`` → that error
    code; any other name → the modelled ``ResourceNotFound`` error). Registered after the
    facts' own call counter, so calls are still counted."""

    def __init__(
        self, plans: dict[str, dict[str, Any]], errors: dict[str, str] | None = None
    ) -> None:
        self.errors = dict(errors or {})
        self.plans = {
            n: validated("sagemaker", "DescribeTrainingPlan", b) for n, b in plans.items()
        }
        self.asked: list[str] = []

    def attach(self, client: Any) -> TrainingPlans:
        # On the generic event, after the facts' counter: botocore calls handlers of a
        # more specific event name first and stops at the first answer.
        client.meta.events.register("before-call", self)
        return self

    def __call__(
        self, params: dict[str, Any], model: Any, **_: Any
    ) -> tuple[Any, dict[str, Any]] | None:
        if model.name != "DescribeTrainingPlan":
            return None
        # ``params`` is the serialized request; the JSON protocol puts the input in the body.
        name = json.loads(params["body"])["TrainingPlanName"]
        self.asked.append(name)
        if name in self.plans and name not in self.errors:
            meta = {"HTTPStatusCode": 200, "RequestId": "stub", "HTTPHeaders": {}}
            body = {**self.plans[name], "ResponseMetadata": meta}
            return _response(200, b"", {}), body
        code = self.errors.get(name, "ResourceNotFound")
        error = {
            "Error": {"Code": code, "Message": f"{code}: training plan {name}"},
            "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "stub", "HTTPHeaders": {}},
        }
        return _response(400, b"", {}), error


class Injector:
    """A ``before-send`` handler: for each ``service.Operation`` a queue of responses
    (or one answer for every call); counts the attempts it saw. Unlisted operations and
    exhausted queues fall through to moto."""

    def __init__(self) -> None:
        self._queues: dict[str, list[Any]] = {}
        self._always: dict[str, Callable[[Any], Any]] = {}
        self.seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def queue(self, operation: str, *responses: Any) -> Injector:
        self._queues.setdefault(operation, []).extend(responses)
        return self

    def always(self, operation: str, answer: Callable[[Any], Any]) -> Injector:
        """``answer(request)`` for every call of ``operation`` (None lets moto answer)."""
        self._always[operation] = answer
        return self

    def attach(self, client: Any) -> Injector:
        client.meta.events.register_first(
            f"before-send.{client.meta.service_model.service_name}", self
        )
        return self

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        event = kwargs.get("event_name", "")
        operation = event.rsplit(".", 1)[-1]
        with self._lock:
            self.seen[operation] = self.seen.get(operation, 0) + 1
            queue = self._queues.get(operation)
            if queue:
                return queue.pop(0)
        answer = self._always.get(operation)
        return answer(request) if answer else None


def denied(operation: str) -> Injector:
    """Every ``operation`` call answered with a 403 ``UnauthorizedOperation``."""
    return Injector().always(operation, lambda _r: ec2_error("UnauthorizedOperation", 403))


def reserved_capacity(
    name: str,
    *,
    instance_type: str = "ml.p5.48xlarge",
    total: int = 4,
    status: str = "Active",
    zone: str | None = "us-west-2b",
    zone_id: str | None = None,
) -> dict[str, Any]:
    """One ``ReservedCapacitySummaries`` entry (``zone``/``zone_id`` None: field absent)."""
    summary: dict[str, Any] = {
        "ReservedCapacityArn": (
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:reserved-capacity/{name}-{instance_type}"
        ),
        "InstanceType": instance_type,
        "TotalInstanceCount": total,
        "Status": status,
        "StartTime": datetime(2030, 1, 1),
    }
    if zone is not None:
        summary["AvailabilityZone"] = zone
    if zone_id is not None:
        summary["AvailabilityZoneId"] = zone_id
    return summary


def training_plan_body(
    name: str,
    *,
    status: str = "Active",
    instance_type: str = "ml.p5.48xlarge",
    total: int = 4,
    available: int = 4,
    zone: str = "us-west-2b",
    targets: tuple[str, ...] = ("hyperpod-cluster",),
    summaries: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A ``DescribeTrainingPlan`` response body (validated by :class:`TrainingPlans`);
    ``summaries`` replaces the one reserved capacity of ``instance_type`` in ``zone``."""
    start = datetime(2030, 1, 1)
    if summaries is None:
        summaries = [
            reserved_capacity(
                name, instance_type=instance_type, total=total, status=status, zone=zone
            )
        ]
    return {
        "TrainingPlanArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-plan/{name}",
        "TrainingPlanName": name,
        "Status": status,
        "StartTime": start,
        "TotalInstanceCount": total,
        "AvailableInstanceCount": available,
        "InUseInstanceCount": total - available,
        "TargetResources": list(targets),
        "ReservedCapacitySummaries": summaries,
    }


# -- running checks -----------------------------------------------------------------------
_LOADER: list[Any] = []


def new_facts() -> Any:
    """A fresh :class:`AwsFacts` (new session, empty memo and call counter) on moto. Call
    inside a test whose ``AWS_ENDPOINT_URL`` is lifted (see the ``facts`` fixtures).

    Sessions share one botocore data loader, so the large service models (SageMaker's is
    megabytes of JSON) are parsed once per test run rather than once per test."""
    import boto3

    from hyperpod_preflight.facts import AwsFacts

    core = botocore.session.Session()
    if not _LOADER:
        _LOADER.append(core.get_component("data_loader"))
    core.register_component("data_loader", _LOADER[0])
    return AwsFacts(boto3.Session(botocore_session=core, region_name=REGION))


def run(check_id: str, spec: Any, facts: Any, plan: Any = None, **options: Any) -> list[Any]:
    """Run one registered check through the engine (errors become UNKNOWN as in a real run)
    and return its findings. The plan defaults to ``build_plan(spec)``."""
    import hyperpod_preflight.checks.capacity
    import hyperpod_preflight.checks.network  # noqa: F401  (registers the checks)
    from hyperpod_preflight.planner import build_plan
    from hyperpod_preflight.registry import get
    from hyperpod_preflight.runner import CheckContext, gather_and_judge, gatherer_for

    ctx = CheckContext(
        spec=spec, plan=plan if plan is not None else build_plan(spec), facts=facts, options=options
    )
    # As in a run: the check's declared facts gathered, then its judge with only those.
    return gather_and_judge(get(check_id), ctx, gatherer_for(ctx))


def by_resource(findings: Iterable[Any]) -> dict[str, Any]:
    """Findings keyed by resource (one per resource is the contract: assert it)."""
    out: dict[str, Any] = {}
    for f in findings:
        assert f.resource not in out, f"two findings for {f.resource}"
        out[f.resource] = f
    return out


def statuses(findings: Iterable[Any]) -> dict[str, str]:
    return {r: f.status.value for r, f in by_resource(findings).items()}
