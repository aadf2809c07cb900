"""Which IAM principals a cluster config involves, in plain data (pure: no AWS access).

- ``config_roles``: every distinct role the config names (each ``ExecutionRole`` across
  ``InstanceGroups`` and ``RestrictedInstanceGroups``, and ``ClusterRole``), once per ARN with
  the groups that use it, so readers and checks work per role, never per group;
- ``lifecycle_objects``: the S3 objects the nodes of a group read at creation;
- ``requirement_targets``: the ``RequirementTarget`` (one per lifecycle bucket) that
  ``iam_requirements`` turns into the needs of one role; ``role_needs`` the needs themselves,
  ``evaluate_role`` their decisions from the role's policies as the facts layer read them;
- ``caller_principal``: the principal behind a ``GetCallerIdentity`` ARN (an
  ``assumed-role/NAME/SESSION`` ARN maps to its role); ``caller_needs`` and
  ``simulation_batches``: what the caller needs, as the simulator calls that ask it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from ..records import RolePolicies
from ..spec import ROLE_ARN_RE, ClusterSpec, InstanceGroup
from .s3_lifecycle import (
    PROVISIONING_PARAMETERS,
    needs_provisioning_parameters,
    object_key,
    split_uri,
)

if TYPE_CHECKING:
    from .iam_policy import Decision
    from .iam_requirements import Requirement, RequirementTarget

# ``iam_policy`` and ``iam_requirements`` (their models and patterns) are imported by the
# functions that evaluate: ``config_roles`` also serves checks that run offline.

RoleKind = Literal["ExecutionRole", "ClusterRole"]


@dataclass(frozen=True)
class ConfigRole:
    """One role ARN of the config, with where it is used."""

    arn: str
    kind: RoleKind
    partition: str
    account: str
    path: str  # "/" when the ARN has no path
    name: str
    groups: tuple[str, ...] = ()  # instance groups using it (empty for ClusterRole)
    json_paths: tuple[str, ...] = ()

    @property
    def resource(self) -> str:
        """What a finding names: the ARN, marked for the ClusterRole (which may also be an
        execution role, with other needs)."""
        return f"{self.arn} (ClusterRole)" if self.kind == "ClusterRole" else self.arn

    @property
    def where(self) -> str:
        return ", ".join(self.json_paths)


def config_roles(spec: ClusterSpec) -> list[ConfigRole]:
    """Every well-formed role ARN of the config, once (an ARN that is not a role ARN is
    ``config.execution-role-arn``'s finding, not one of these)."""
    uses: dict[str, tuple[RoleKind, list[InstanceGroup]]] = {}
    for group in spec.instance_groups:
        if group.execution_role:
            uses.setdefault(group.execution_role, ("ExecutionRole", []))[1].append(group)
    cluster_role = spec.raw.get("ClusterRole")
    out: list[ConfigRole] = []
    for arn, (kind, groups) in uses.items():
        role = _role(arn, kind, groups, tuple(f"{g.json_path}.ExecutionRole" for g in groups))
        if role is not None:
            out.append(role)
    if isinstance(cluster_role, str):
        role = _role(cluster_role, "ClusterRole", [], ("ClusterRole",))
        if role is not None:
            out.append(role)
    return out


def _role(
    arn: str, kind: RoleKind, groups: list[InstanceGroup], paths: tuple[str, ...]
) -> ConfigRole | None:
    match = ROLE_ARN_RE.fullmatch(arn)
    if not match:
        return None
    return ConfigRole(
        arn=arn,
        kind=kind,
        partition=match["partition"],
        account=match["account"],
        path="/" + match["path"],
        name=match["name"],
        groups=tuple(g.name for g in groups),
        json_paths=paths,
    )


def lifecycle_objects(
    spec: ClusterSpec, group: InstanceGroup
) -> tuple[str, tuple[str, ...]] | None:
    """(bucket, object keys) a group's nodes read at creation: ``OnCreate``,
    ``OnInitComplete`` and, where the config needs it,
    ``provisioning_parameters.json`` under ``SourceS3Uri`` (the keys
    :func:`~.s3_lifecycle.lifecycle_objects` names); None without a well-formed ``s3://``
    URI."""
    where = split_uri(group.lifecycle_source_s3_uri)
    if where is None:
        return None
    bucket, prefix = where
    names = [
        n
        for n in (group.lifecycle_on_create, group.lifecycle_on_init_complete)
        if n and "://" not in n
    ]
    if needs_provisioning_parameters(spec):
        names.append(PROVISIONING_PARAMETERS)
    return bucket, tuple(dict.fromkeys(object_key(prefix, n) for n in names))


def requirement_targets(
    spec: ClusterSpec, role: ConfigRole, region: str
) -> list[RequirementTarget]:
    """The targets of one role: one per lifecycle bucket its groups read (one without a
    bucket when none does)."""
    from .iam_requirements import Orchestrator, RequirementTarget

    used_by = [g for g in spec.instance_groups if g.name in role.groups]
    buckets: dict[str, list[str]] = {}
    has_vpc = False
    for group in used_by:
        vpc = spec.vpc_for(group)
        has_vpc = has_vpc or bool(vpc and vpc.subnets)
        found = lifecycle_objects(spec, group)
        if found is not None:
            buckets.setdefault(found[0], []).extend(found[1])
    name = spec.raw.get("ClusterName")
    base = RequirementTarget(
        region=region,
        account=role.account,
        partition=role.partition,
        orchestrator=Orchestrator(spec.orchestrator),
        has_vpc=has_vpc,
        cluster_name=name if isinstance(name, str) and name else None,
        eks_cluster_arn=spec.eks_cluster_arn,
    )
    if not buckets:
        return [base]
    return [
        replace(base, bucket=b, object_keys=tuple(dict.fromkeys(keys)))
        for b, keys in buckets.items()
    ]


def role_needs(spec: ClusterSpec, role: ConfigRole, region: str) -> list[Requirement]:
    """What ``role`` needs for this config, each (action, resource) once."""
    from .iam_requirements import cluster_role_requirements, execution_role_requirements

    build = cluster_role_requirements if role.kind == "ClusterRole" else execution_role_requirements
    found: dict[tuple[str, str], Requirement] = {}
    for target in requirement_targets(spec, role, region):
        for req in build(target):
            found.setdefault((req.action, req.resource), req)
    return list(found.values())


def evaluate_role(
    role: ConfigRole,
    policies: RolePolicies,
    needs: list[Requirement],
    extra: dict[str, Any] | None = None,
) -> list[Decision]:
    """Decide each need from the role's managed and inline policies (plus ``extra``
    ``{name: document}``) and its permissions boundary. S3 ARNs name no account: they are
    judged as a bucket of the role's own account (the bucket's owner and bucket policy are
    the S3 area's to read)."""
    from .iam_policy import evaluate_requests

    boundary = (policies.boundary_arn, policies.boundary) if policies.boundary_arn else None
    identity: dict[str, Any] = {**policies.identity_policies(), **(extra or {})}
    return evaluate_requests(
        [r.request for r in needs],
        identity,
        boundary=boundary,
        principal_arn=policies.role_arn or role.arn,
        resource_account=role.account,
    )


@dataclass(frozen=True)
class CallerPrincipal:
    """The identity running hp-preflight, as the simulator needs it."""

    identity_arn: str
    kind: Literal["role", "user", "root", "other"]
    account: str
    partition: str
    name: str = ""  # role or user name
    principal_arn: str = ""  # what iam:SimulatePrincipalPolicy takes ("" when none)


def caller_principal(identity_arn: str) -> CallerPrincipal:
    """``arn:aws:sts::ACCT:assumed-role/NAME/SESSION`` → the role ``arn:aws:iam::ACCT:role/NAME``
    (its path is not in the session ARN: the facts layer reads it with ``GetRole``);
    ``arn:aws:iam::ACCT:user/...`` as is; ``arn:aws:iam::ACCT:root``; anything else (a
    federated user) has no principal the simulator takes."""
    parts = identity_arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return CallerPrincipal(identity_arn, "other", "", "aws")
    _, partition, service, _, account, resource = parts
    if service == "sts" and resource.startswith("assumed-role/"):
        name = resource.split("/")[1] if resource.count("/") >= 2 else ""
        if name:
            arn = f"arn:{partition}:iam::{account}:role/{name}"
            return CallerPrincipal(identity_arn, "role", account, partition, name, arn)
    if service == "iam" and resource == "root":
        return CallerPrincipal(identity_arn, "root", account, partition)
    if service == "iam" and resource.startswith("user/"):
        name = resource.rsplit("/", 1)[-1]
        return CallerPrincipal(identity_arn, "user", account, partition, name, identity_arn)
    if service == "iam" and resource.startswith("role/"):
        name = resource.rsplit("/", 1)[-1]
        return CallerPrincipal(identity_arn, "role", account, partition, name, identity_arn)
    return CallerPrincipal(identity_arn, "other", account, partition)


SimulationBatch = tuple[str, tuple[tuple[str, str], ...]]
"""(action, context) of one simulator call; its resources are the value of the mapping."""


def caller_needs(
    spec: ClusterSpec, caller: CallerPrincipal, region: str, service_linked_role_exists: bool
) -> list[Requirement]:
    """What the caller of ``CreateCluster`` needs for this config."""
    from .iam_requirements import RequirementTarget, caller_requirements

    named = config_roles(spec)
    execution = tuple(r.arn for r in named if r.kind == "ExecutionRole")
    cluster_role = next((r.arn for r in named if r.kind == "ClusterRole"), None)
    target = RequirementTarget(
        region=region,
        account=caller.account,
        partition=caller.partition,
        role_arns=execution,
        # passed as an execution role already (to sagemaker.amazonaws.com): asked once
        cluster_role_arn=None if cluster_role in execution else cluster_role,
        service_linked_role_exists=service_linked_role_exists,
    )
    return caller_requirements(target)


def simulation_batches(needs: list[Requirement]) -> dict[SimulationBatch, list[str]]:
    """One simulator call per action and context, with all its resources."""
    out: dict[SimulationBatch, list[str]] = {}
    for req in needs:
        out.setdefault((req.action, req.context), []).append(req.resource)
    return out
