"""The requirement planner: pure functions from a ClusterSpec (and instance-type facts) to
what the cluster will need — instances per type, IP addresses per node and per subnet, the
smallest subnet that fits, ENIs, the largest EBS volume, EC2 vCPU equivalents. No I/O.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

AWS_RESERVED_PER_SUBNET = 5  # AWS keeps 5 addresses of every subnet


class GroupPlan(BaseModel):
    name: str
    instance_type: str | None
    count: int
    ips_per_node: int | None = Field(description="None when the type cannot be sized.")
    efa_interfaces: int | None = None
    network_cards: int | None = None
    subnets: tuple[str, ...] = ()
    availability_note: str = ""


class SubnetNeed(BaseModel):
    subnet_id: str
    groups: tuple[str, ...]
    nodes: int
    addresses_needed: int = Field(description="Addresses for every node of the groups placed here.")
    headroom_addresses: int = Field(description="Addresses kept for replacement nodes.")
    total_needed: int
    min_prefix: int = Field(description="Smallest subnet (largest prefix length) that fits.")
    unsized_groups: tuple[str, ...] = ()


class VcpuNeed(BaseModel):
    quota_name: str
    quota_code: str
    vcpus: int
    instance_types: tuple[str, ...]


class ClusterPlan(BaseModel):
    orchestrator: str
    instances_by_type: dict[str, int]
    total_instances: int
    groups: list[GroupPlan]
    subnets: list[SubnetNeed]
    enis_needed: int | None
    max_ebs_gb: int | None
    vcpus: list[VcpuNeed] = Field(default_factory=list, description="Advisory EC2 equivalents.")
    ip_headroom_nodes: int = 1
    notes: list[str] = Field(default_factory=list)
