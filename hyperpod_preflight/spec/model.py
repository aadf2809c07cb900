"""The typed cluster spec every other module reads: ``ClusterSpec``, its instance groups and
VPC settings, as plain frozen dataclasses. No validation or I/O lives here: a spec is
built from an already validated config (:mod:`.build`) or from checked flags (:mod:`.flags`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

from ..results import Location
from .problems import Problem

CapacityType = Literal["on-demand", "spot"]


def _as_tuples(record: Any) -> None:
    """Lists given for tuple fields stored as tuples (what pydantic did when these records
    were its models), and a value of the wrong type refused with a TypeError: a spec is built
    from a config botocore's model accepted, so a mismatch is a defect (or a newer model), never
    the user's input, and must not reach the checks."""
    for f in fields(record):
        value = getattr(record, f.name)
        kind = str(f.type)
        if kind.startswith("tuple[") and isinstance(value, list):
            object.__setattr__(record, f.name, tuple(value))
        elif kind in _SIMPLE and not isinstance(value, _SIMPLE[kind]):
            raise TypeError(
                f"{type(record).__name__}.{f.name} is {type(value).__name__} {value!r}, not {kind}"
            )


_SIMPLE: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "int | None": (int, type(None)),
    "str": (str,),
    "str | None": (str, type(None)),
    "bool": (bool,),
}


@dataclass(frozen=True, kw_only=True)
class VpcSettings:
    """`VpcConfig` / `OverrideVpcConfig`: security groups and subnets."""

    security_group_ids: tuple[str, ...] = ()
    subnets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _as_tuples(self)


@dataclass(frozen=True, kw_only=True)
class InstanceGroup:
    """One entry of `InstanceGroups` (or `RestrictedInstanceGroups`)."""

    name: str
    instance_type: str | None = None
    """`ml.` prefixed type; None when InstanceRequirements is used."""
    instance_types: tuple[str, ...] = ()
    """Types from InstanceRequirements.InstanceTypes, when given."""
    count: int = 0
    execution_role: str | None = None
    lifecycle_source_s3_uri: str | None = None
    lifecycle_on_create: str | None = None
    lifecycle_on_init_complete: str | None = None
    """`LifeCycleConfig.OnInitComplete`: runs after AMI setup."""
    threads_per_core: int | None = None
    ebs_volume_sizes_gb: tuple[int, ...] = ()
    override_vpc: VpcSettings | None = None
    training_plan_arn: str | None = None
    slurm_node_type: str | None = None
    partition_names: tuple[str, ...] = ()
    deep_health_checks: tuple[str, ...] = ()
    capacity_type: CapacityType = "on-demand"
    """`spot` when `CapacityRequirements` holds `Spot`; else `on-demand`."""
    restricted: bool = False
    json_path: str = ""
    """Where the group sits in the config."""

    def __post_init__(self) -> None:
        _as_tuples(self)

    @property
    def types(self) -> tuple[str, ...]:
        """Every instance type this group may use."""
        if self.instance_type:
            return (self.instance_type,)
        return self.instance_types

    @property
    def ec2_types(self) -> tuple[str, ...]:
        """The types without the `ml.` prefix, as EC2 APIs name them."""
        return tuple(strip_ml(t) for t in self.types)


@dataclass(frozen=True, kw_only=True)
class ClusterSpec:
    """A HyperPod cluster as it would be created."""

    name: str = "unnamed"
    orchestrator: Literal["slurm", "eks"] = "slurm"
    eks_cluster_arn: str | None = None
    slurm_config_strategy: str | None = None
    """`Orchestrator.Slurm.SlurmConfigStrategy`, when given."""
    instance_groups: tuple[InstanceGroup, ...] = ()
    vpc_config: VpcSettings | None = None
    vpc_id: str | None = None
    """From --vpc; else found from the subnets at run time."""
    node_recovery: str | None = None
    source: str = "flags"
    """Config path, '-' or 'flags'."""
    raw: dict[str, Any] = field(default_factory=dict)
    """The config as given."""
    notices: tuple[str, ...] = ()
    """What the config leaves out but was tolerated (e.g. no ClusterName); config.schema reports
    each."""
    unknowns: dict[str, str] = field(default_factory=dict)
    """Values known only at deploy/apply time (JSON path → why): left out, never guessed; the
    checks that need one SKIP."""
    locations: dict[str, Location] = field(default_factory=dict)
    """JSON path → where the value is written in the config file."""
    source_kind: str = "create-cluster"
    """`create-cluster`, `cloudformation` or `terraform-plan` (flags: `flags`)."""
    resource: str = ""
    """The template's logical id or the plan's address."""
    problems: tuple[Problem, ...] = ()
    """Where the config breaks the CreateCluster model (config.schema reports each); the spec holds
    only the rest."""

    def __post_init__(self) -> None:
        _as_tuples(self)

    def vpc_for(self, group: InstanceGroup) -> VpcSettings | None:
        """The VPC settings a group really uses (its override, else the cluster's)."""
        return group.override_vpc or self.vpc_config

    @property
    def all_subnets(self) -> tuple[str, ...]:
        """Every subnet named anywhere, in first-seen order."""
        seen: dict[str, None] = {}
        for vpc in self._all_vpc_settings():
            seen.update(dict.fromkeys(vpc.subnets))
        return tuple(seen)

    @property
    def all_security_groups(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for vpc in self._all_vpc_settings():
            seen.update(dict.fromkeys(vpc.security_group_ids))
        return tuple(seen)

    @property
    def all_instance_types(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for group in self.instance_groups:
            seen.update(dict.fromkeys(group.types))
        return tuple(seen)

    def _all_vpc_settings(self) -> list[VpcSettings]:
        found = [self.vpc_config] if self.vpc_config else []
        found += [g.override_vpc for g in self.instance_groups if g.override_vpc]
        return found


def strip_ml(instance_type: str) -> str:
    """`ml.p5.48xlarge` → `p5.48xlarge` (EC2's name for the same hardware)."""
    return instance_type[3:] if instance_type.startswith("ml.") else instance_type
