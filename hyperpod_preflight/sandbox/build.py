"""Build, with plain boto3 calls, the account a careful user prepares for a cluster config.

Works against any endpoint a ``boto3.Session`` reaches: moto in-process (the sandbox) or
``moto_server`` over HTTP (the end-to-end tests). Each area of the account is one step in
:data:`STEPS`, a function of the :class:`Build` in progress; a new area is one more function
and one more line there. Every step reads the :class:`~.blueprint.Blueprint` for what to do
differently when a defect is planted.

What the config names (subnet and security-group ids, role and EKS cluster ARNs) is replaced
in the returned config by what was created, so the pre-flight checks the real thing.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..planner import ClusterPlan
from ..spec import ClusterSpec, load_spec
from .blueprint import Blueprint
from .iam import build_cluster_role, build_execution_roles
from .services import build_file_systems, build_training_plans

if TYPE_CHECKING:
    from boto3 import Session

VPC_CIDR = "10.0.0.0/16"
PUBLIC_CIDR = "10.0.0.0/24"


def bundled(*parts: str) -> bytes:
    """A file shipped with the package (examples, lifecycle scripts, policies)."""
    node = resources.files("hyperpod_preflight.sandbox").joinpath("bundled")
    for part in parts:
        node = node.joinpath(part)
    return node.read_bytes()


def bundled_json(*parts: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(bundled(*parts))
    return data


@dataclass
class Build:
    """One account build in progress: what to build and what was built."""

    session: Session
    config: dict[str, Any]
    spec: ClusterSpec
    plan: ClusterPlan
    blueprint: Blueprint
    account: str = ""
    # the user's lifecycle scripts (path under the prefix → content); None: the bundled ones
    lifecycle_files: dict[str, bytes] | None = None
    renamed: dict[str, str] = field(default_factory=dict)  # config value → created value
    vpc_id: str = ""
    subnet_ids: list[str] = field(default_factory=list)
    security_group_ids: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # one line per resource, for the user
    # EKS clusters as DescribeCluster describes them (moto drops accessConfig, the VPC id,
    # endpoint access, add-ons and access entries: the sandbox's answers serve these).
    eks_clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    # what moto lacks, as the APIs describe it (answered by .answers): FSx file systems by
    # id, training plans by name
    file_systems: dict[str, dict[str, Any]] = field(default_factory=dict)
    training_plans: dict[str, dict[str, Any]] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        return self.session.client(service, region_name=region or self.blueprint.region)

    def note(self, line: str) -> None:
        self.created.append(line)


# -- network ----------------------------------------------------------------------------------
def live_plan(session: Session, spec: ClusterSpec, region: str) -> ClusterPlan:
    """The planner's answer for ``spec`` with the endpoint's own instance-type figures (as
    the pre-flight run plans), the built-in catalog for a type it does not describe."""
    from ..catalog import from_ec2_description
    from ..planner import build_plan

    names = sorted({t.removeprefix("ml.") for g in spec.instance_groups for t in g.types})
    live = {}
    if names:
        ec2 = session.client("ec2", region_name=region)
        for description in ec2.describe_instance_types(InstanceTypes=names)["InstanceTypes"]:
            try:
                info = from_ec2_description(description)
            except ValueError:
                continue
            live[info.name] = info
    return build_plan(spec, instance_types=live)


def _subnet_prefixes(build: Build) -> dict[str, int]:
    """Prefix length of each config subnet: the planner's smallest fit (at most /24), or /28
    with the ``small-subnet`` defect."""
    wanted = {need.subnet_id: need.min_prefix for need in build.plan.subnets}
    return {
        subnet: 28 if build.blueprint.small_subnets else min(wanted.get(subnet, 24), 24)
        for subnet in build.spec.all_subnets
    }


def _blocks(prefixes: list[int]) -> Iterator[str]:
    """CIDR blocks of the VPC for subnets of these prefix lengths, after the public /24."""
    vpc = ipaddress.ip_network(VPC_CIDR)
    cursor = int(ipaddress.ip_network(PUBLIC_CIDR).broadcast_address) + 1
    for prefix in prefixes:
        size = 2 ** (32 - prefix)
        cursor = -(-cursor // size) * size  # aligned to its own size
        block = ipaddress.ip_network(f"{ipaddress.ip_address(cursor)}/{prefix}")
        if not block.subnet_of(vpc):  # type: ignore[arg-type]
            raise InputError(f"the sandbox cannot fit the config's subnets into {VPC_CIDR}")
        cursor += size
        yield str(block)


def build_network(build: Build) -> None:
    """VPC with DNS on, a public subnet with the NAT gateway, one private subnet per config
    subnet on a route table through the NAT, the S3 gateway endpoint on that table, and one
    EFA-ready security group per config security group."""
    if not build.spec.all_subnets and not build.spec.all_security_groups:
        return
    bp, ec2 = build.blueprint, build.client("ec2")
    zone = f"{bp.region}a"
    vpc = build.vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        ec2.modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": bp.vpc_dns}})
    build.note(f"VPC {vpc} {VPC_CIDR} (DNS {'on' if bp.vpc_dns else 'off'})")

    public = ec2.create_subnet(VpcId=vpc, CidrBlock=PUBLIC_CIDR, AvailabilityZone=zone)
    public_id = public["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=public_rtb, SubnetId=public_id)
    ec2.create_route(RouteTableId=public_rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    build.note(f"public subnet {public_id} {PUBLIC_CIDR} → internet gateway {igw}")

    private_rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    if bp.public_subnets:
        ec2.create_route(RouteTableId=private_rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    elif bp.nat_gateway:
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=public_id, AllocationId=eip)["NatGateway"]
        ec2.create_route(
            RouteTableId=private_rtb,
            DestinationCidrBlock="0.0.0.0/0",
            NatGatewayId=nat["NatGatewayId"],
        )
        build.note(f"NAT gateway {nat['NatGatewayId']} in {public_id}")
    prefixes = _subnet_prefixes(build)
    for old, cidr in zip(prefixes, _blocks(list(prefixes.values())), strict=True):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]
        new = subnet["SubnetId"]
        ec2.associate_route_table(RouteTableId=private_rtb, SubnetId=new)
        build.renamed[old] = new
        build.subnet_ids.append(new)
        build.note(f"private subnet {new} {cidr} in {zone} (for {old})")
    if bp.s3_gateway_endpoint:
        endpoint = ec2.create_vpc_endpoint(
            VpcId=vpc,
            VpcEndpointType="Gateway",
            ServiceName=f"com.amazonaws.{bp.region}.s3",
            RouteTableIds=[private_rtb],
        )["VpcEndpoint"]["VpcEndpointId"]
        build.note(f"S3 gateway endpoint {endpoint} on route table {private_rtb}")

    for i, old in enumerate(build.spec.all_security_groups):
        name = f"hyperpod-efa-{i}"
        sg = ec2.create_security_group(GroupName=name, Description="HyperPod EFA", VpcId=vpc)
        sg_id = sg["GroupId"]
        everything = [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg_id}]}]
        if bp.sg_self_ingress:
            ec2.authorize_security_group_ingress(GroupId=sg_id, IpPermissions=everything)
        if bp.sg_self_egress:
            ec2.authorize_security_group_egress(GroupId=sg_id, IpPermissions=everything)
        build.renamed[old] = sg_id
        build.security_group_ids.append(sg_id)
        build.note(f"security group {sg_id} {name} (for {old})")


# -- the lifecycle bucket ---------------------------------------------------------------------
def provisioning_parameters(spec: ClusterSpec, *, wrong_partition: bool = False) -> bytes:
    """``provisioning_parameters.json`` for a Slurm config: its controller, login and worker
    groups (partition: the group's first PartitionNames, else ``dev``)."""
    by_type: dict[str, list[Any]] = {}
    for group in spec.instance_groups:
        by_type.setdefault((group.slurm_node_type or "").lower(), []).append(group)
    controller = (by_type.get("controller") or list(spec.instance_groups[:1]))[0]
    login = (by_type.get("login") or [None])[0]
    workers = [
        g for g in spec.instance_groups if g is not controller and g is not login and g.count
    ]
    params: dict[str, Any] = {
        "version": "1.0.0",
        "workload_manager": "slurm",
        "controller_group": controller.name,
    }
    if login is not None:
        params["login_group"] = login.name
    params["worker_groups"] = [
        {
            "instance_group_name": f"{g.name}-old" if wrong_partition else g.name,
            "partition_name": (g.partition_names or ("dev",))[0],
        }
        for g in workers
    ]
    return (json.dumps(params, indent=2) + "\n").encode()


def _bundled_files(build: Build) -> dict[str, bytes]:
    """The project's reference scripts for the config's orchestrator (Slurm: with a
    ``provisioning_parameters.json`` naming the config's groups)."""
    if build.spec.orchestrator == "eks":
        return {"on_create.sh": bundled("lifecycle", "eks", "on_create.sh")}
    return {
        "on_create.sh": bundled("lifecycle", "slurm", "on_create.sh"),
        "lifecycle_script.py": bundled("lifecycle", "slurm", "lifecycle_script.py"),
        "provisioning_parameters.json": provisioning_parameters(
            build.spec, wrong_partition=build.blueprint.wrong_partition
        ),
    }


def _lifecycle_files(build: Build, entries: set[str]) -> dict[str, bytes]:
    """File name → content the careful user uploads under each lifecycle prefix: the user's
    own scripts when given, else the bundled ones with each entry script the config names."""
    if build.lifecycle_files is not None:
        files = dict(build.lifecycle_files)
    else:
        files = _bundled_files(build)
        files.update(dict.fromkeys(entries, files["on_create.sh"]))
    missing = {n for m in build.blueprint.missing_files for n in (entries if m == "ENTRY" else {m})}
    if build.blueprint.crlf_scripts:
        files = {n: c.replace(b"\n", b"\r\n") if n.endswith(".sh") else c for n, c in files.items()}
    return {name: content for name, content in files.items() if name not in missing}


def build_lifecycle_bucket(build: Build) -> None:
    """Each lifecycle bucket (private, encrypted, in the cluster's region) holding the
    project's reference scripts under the config's prefix."""
    bp = build.blueprint
    region = bp.bucket_region or bp.region
    s3 = build.client("s3", region)
    prefixes: dict[tuple[str, str], set[str]] = {}
    for group in build.spec.instance_groups:
        uri = group.lifecycle_source_s3_uri or ""
        if not uri.startswith("s3://"):
            continue
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        entries = prefixes.setdefault((bucket, prefix), set())
        entries.update(
            e for e in (group.lifecycle_on_create, group.lifecycle_on_init_complete) if e
        )
    made: set[str] = set()
    for (bucket, prefix), entries in prefixes.items():
        if bucket not in made:
            where = {} if region == "us-east-1" else {"LocationConstraint": region}
            s3.create_bucket(
                Bucket=bucket, **({"CreateBucketConfiguration": where} if where else {})
            )
            s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
            _set_public(s3, bucket, public=bp.bucket_public)
            made.add(bucket)
            build.note(f"bucket s3://{bucket} in {region}{' (public)' if bp.bucket_public else ''}")
        key_prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        for name, content in sorted(_lifecycle_files(build, entries).items()):
            s3.put_object(Bucket=bucket, Key=key_prefix + name, Body=content)
            build.note(f"  s3://{bucket}/{key_prefix}{name} ({len(content)} bytes)")


def _set_public(s3: Any, bucket: str, *, public: bool) -> None:
    block = not public
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": block,
            "IgnorePublicAcls": block,
            "BlockPublicPolicy": block,
            "RestrictPublicBuckets": block,
        },
    )
    if public:
        anyone_reads = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(anyone_reads))


# -- EKS --------------------------------------------------------------------------------------
def build_eks_cluster(build: Build) -> None:
    """The EKS cluster an EKS config names, in the cluster's VPC (API authentication)."""
    arn = build.spec.eks_cluster_arn
    if build.spec.orchestrator != "eks" or not arn:
        return
    name = arn.rsplit("/", 1)[-1]
    iam = build.client("iam")
    eks_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "eks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(
        RoleName=f"{name}-eks-cluster-role", AssumeRolePolicyDocument=json.dumps(eks_trust)
    )["Role"]["Arn"]
    cluster = build.client("eks").create_cluster(
        name=name,
        version="1.31",
        roleArn=role,
        resourcesVpcConfig={
            "subnetIds": build.subnet_ids,
            "securityGroupIds": build.security_group_ids,
        },
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"},
    )["cluster"]
    # The cluster security group admits the HyperPod groups (all traffic), as EKS's own
    # cluster security group admits its nodes.
    ec2 = build.client("ec2")
    cluster_sg = ec2.create_security_group(
        GroupName=f"eks-cluster-sg-{name}", Description="EKS cluster", VpcId=build.vpc_id
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=cluster_sg,
        IpPermissions=[
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": g}]}
            for g in build.security_group_ids
        ],
    )
    caller = build.client("sts").get_caller_identity()["Arn"]
    described = dict(cluster)
    described["resourcesVpcConfig"] = {
        **dict(cluster.get("resourcesVpcConfig") or {}),
        "subnetIds": build.subnet_ids,
        "securityGroupIds": build.security_group_ids,
        "clusterSecurityGroupId": cluster_sg,
        "vpcId": build.vpc_id,
        "endpointPrivateAccess": True,
        "endpointPublicAccess": False,
    }
    described["accessConfig"] = {"authenticationMode": "API_AND_CONFIG_MAP"}
    described["status"] = "ACTIVE"
    described["access_entries"] = {
        caller: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    }
    build.eks_clusters[name] = described
    build.renamed[arn] = cluster["arn"]
    build.note(f"EKS cluster {cluster['arn']} (Kubernetes {cluster.get('version', '?')})")
    build.note(f"  cluster security group {cluster_sg}; access entry for {caller}")


Step = Callable[[Build], None]
# One line per area of the account; each step may read what an earlier one built.
STEPS: tuple[Step, ...] = (
    build_network,
    build_execution_roles,
    build_cluster_role,
    build_file_systems,
    build_lifecycle_bucket,
    build_eks_cluster,
    build_training_plans,
)


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _renamed(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    if isinstance(value, str):
        return names.get(value, value)
    return value


def build_account(
    session: Session,
    config: dict[str, Any],
    blueprint: Blueprint,
    lifecycle_files: dict[str, bytes] | None = None,
) -> Build:
    """Build the account for ``config`` through ``session`` (with the user's
    ``lifecycle_files`` under each lifecycle prefix, else the bundled scripts); the
    :class:`Build`, whose ``config`` names what was created."""
    spec = load_spec(config)
    plan = live_plan(session, spec, blueprint.region)
    build = Build(
        session=session,
        config=config,
        spec=spec,
        plan=plan,
        blueprint=blueprint,
        account=session.client("sts").get_caller_identity()["Account"],
        lifecycle_files=lifecycle_files,
    )
    for step in STEPS:
        step(build)
    build.config = _renamed(config, build.renamed)
    return build
