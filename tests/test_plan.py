"""build_plan: IPs per node, subnet sizing with the 5 reserved addresses, headroom, ENIs,
vCPU quota families, and what cannot be sized offline."""

from __future__ import annotations

import dataclasses

import pytest
from hp_configs import SG, SUBNET_A, SUBNET_B, SUBNET_C, cluster, group

from hyperpod_preflight.catalog import InstanceTypeInfo, lookup
from hyperpod_preflight.errors import InputError
from hyperpod_preflight.planner import (
    ClusterPlan,
    build_plan,
    ips_per_node,
    min_subnet_prefix,
    usable_addresses,
)
from hyperpod_preflight.spec import load_spec, spec_from_flags


def _plan(*groups: dict[str, object], headroom: int = 1, **kwargs: object) -> ClusterPlan:
    return build_plan(load_spec(cluster(*groups, **kwargs)), ip_headroom=headroom)  # type: ignore[arg-type]


def test_p5_takes_32_ips_on_slurm_and_81_on_eks() -> None:
    slurm = _plan(group("w", count=4))
    eks = _plan(group("w", count=4), eks=True)
    assert slurm.groups[0].ips_per_node == 32
    assert eks.groups[0].ips_per_node == 81
    p5 = lookup("p5.48xlarge")
    assert p5 is not None
    assert (ips_per_node(p5, "slurm"), ips_per_node(p5, "eks")) == (32, 81)


def test_single_card_types_take_one_ip_on_slurm() -> None:
    plan = _plan(group("ctl", "ml.m5.12xlarge"), group("g", "ml.g5.12xlarge"))
    assert [g.ips_per_node for g in plan.groups] == [1, 1]
    eks = _plan(group("g", "ml.g5.12xlarge"), eks=True)
    assert eks.groups[0].ips_per_node == 50  # 50 per ENI + (1 card - 1)


@pytest.mark.parametrize(
    ("addresses", "prefix"),
    [(0, 28), (11, 28), (12, 27), (251, 24), (252, 23), (324, 23), (405, 23), (507, 23),
     (508, 22), (65531, 16), (65532, 15)],
)  # fmt: skip
def test_smallest_subnet_leaves_room_after_the_5_reserved(addresses: int, prefix: int) -> None:
    assert min_subnet_prefix(addresses) == prefix
    assert usable_addresses(prefix) >= addresses
    if prefix < 28:
        assert usable_addresses(prefix + 1) < addresses


def test_four_eks_p5_do_not_fit_a_slash_24() -> None:
    plan = _plan(group("w", count=4), eks=True, headroom=0)
    (need,) = plan.subnets
    assert need.total_needed == 4 * 81 == 324
    assert need.min_prefix == 23  # a /24 holds 251, not 324


def test_headroom_adds_replacement_nodes_per_group() -> None:
    none = _plan(group("w", count=4), headroom=0).subnets[0]
    one = _plan(group("w", count=4)).subnets[0]
    two = _plan(group("w", count=4), headroom=2).subnets[0]
    assert (none.headroom_addresses, one.headroom_addresses, two.headroom_addresses) == (0, 32, 64)
    assert one.addresses_needed == 128 and one.total_needed == 160
    empty = _plan(group("w", count=0)).subnets[0]
    assert empty.total_needed == 0  # an empty group keeps no replacement room


def test_two_groups_sharing_a_subnet_add_up() -> None:
    plan = _plan(group("ctl", "ml.m5.12xlarge"), group("w", count=4), eks=True)
    (need,) = plan.subnets
    assert need.groups == ("ctl", "w")
    assert need.nodes == 5
    assert need.addresses_needed == 30 + 4 * 81
    assert need.headroom_addresses == 30 + 81


def test_override_vpc_config_is_counted_in_its_own_subnet() -> None:
    override = {"SecurityGroupIds": [SG], "Subnets": [SUBNET_B]}
    plan = _plan(group("ctl", "ml.m5.12xlarge"), group("w", count=4, OverrideVpcConfig=override))
    needs = {n.subnet_id: n for n in plan.subnets}
    assert needs[SUBNET_A].groups == ("ctl",) and needs[SUBNET_A].total_needed == 2
    assert needs[SUBNET_B].groups == ("w",) and needs[SUBNET_B].total_needed == 5 * 32
    assert plan.groups[1].subnets == (SUBNET_B,)


def test_group_over_several_subnets_is_sized_whole_in_each() -> None:
    plan = _plan(group("w", count=4), subnets=[SUBNET_A, SUBNET_B, SUBNET_C])
    assert [n.total_needed for n in plan.subnets] == [160, 160, 160]
    assert any("each of its subnets must hold the whole group" in n for n in plan.notes)


def test_more_than_a_slash_16_is_said() -> None:
    plan = _plan(group("w", count=900), eks=True)
    assert plan.subnets[0].min_prefix < 16
    assert any("more than the largest subnet AWS allows (/16" in n for n in plan.notes)


def test_unsized_type_is_listed_with_a_credentials_note() -> None:
    plan = _plan(group("gb", "ml.p6e-gb200.36xlarge", count=2), group("ctl", "ml.m5.xlarge"))
    gb = plan.groups[0]
    assert (gb.ips_per_node, gb.efa_interfaces, gb.network_cards) == (None, None, None)
    assert plan.unsized_groups == ["gb"]
    assert plan.enis_needed is None
    assert plan.subnets[0].unsized_groups == ("gb",)
    assert plan.subnets[0].total_needed == 2  # the sized controller only: a lower bound
    assert any("ml.p6e-gb200.36xlarge cannot be sized offline" in n and "credentials" in n
               for n in plan.notes)  # fmt: skip


def test_instance_types_from_ec2_override_the_catalog() -> None:
    gb200 = InstanceTypeInfo(
        name="p6e-gb200.36xlarge", vcpus=144, default_cores=144, valid_threads_per_core=(1,),
        accelerator="nvidia", accelerator_name="GB200", accelerator_count=4,
        efa_interfaces=17, network_cards=17, ipv4_per_eni=50, max_enis=34, memory_gib=960,
        source="ec2:DescribeInstanceTypes",
    )  # fmt: skip
    spec = load_spec(cluster(group("gb", "ml.p6e-gb200.36xlarge", count=2)))
    plan = build_plan(spec, instance_types={"p6e-gb200.36xlarge": gb200})
    assert plan.unsized_groups == []
    assert plan.groups[0].ips_per_node == 17
    assert plan.type_info["p6e-gb200.36xlarge"] == gb200
    cheap_p5 = dataclasses.replace(gb200, name="p5.48xlarge", network_cards=2)
    replaced = build_plan(
        load_spec(cluster(group("w"))), instance_types={"ml.p5.48xlarge": cheap_p5}
    )
    assert replaced.groups[0].ips_per_node == 2


def test_enis_are_one_per_card_per_node_with_headroom() -> None:
    plan = _plan(group("ctl", "ml.m5.12xlarge"), group("w", count=4))
    assert plan.enis_needed == (1 + 1) * 1 + (4 + 1) * 32


def test_instances_vcpus_and_ebs() -> None:
    plan = _plan(
        group("ctl", "ml.m5.12xlarge"),
        group("w", count=4, InstanceStorageConfigs=[{"EbsVolumeConfig": {"VolumeSizeInGB": 500}}]),
        group("more", count=2),
        group("g", "ml.g5.12xlarge", count=3),
        group("t", "ml.trn1.32xlarge", count=2),
    )
    assert plan.instances_by_type == {
        "ml.m5.12xlarge": 1,
        "ml.p5.48xlarge": 6,
        "ml.g5.12xlarge": 3,
        "ml.trn1.32xlarge": 2,
    }
    assert plan.total_instances == 12
    assert plan.max_ebs_gb == 500
    vcpus = {v.quota_code: v.vcpus for v in plan.vcpus}
    assert vcpus == {
        "L-1216C47A": 48,  # Standard
        "L-417A185B": 6 * 192,  # P
        "L-DB2E81BA": 3 * 48,  # G and VT
        "L-2C3B7624": 2 * 128,  # Trn
    }


def test_flexible_group_is_sized_by_its_most_demanding_type() -> None:
    plan = _plan(
        group(
            "flex",
            instance_type=None,
            count=2,
            InstanceRequirements={"InstanceTypes": ["ml.g6e.12xlarge", "ml.g6e.48xlarge"]},
        )
    )
    assert plan.groups[0].ips_per_node == 4  # g6e.48xlarge has 4 network cards
    assert plan.instances_by_type == {} and plan.total_instances == 2
    assert any("InstanceRequirements" in n for n in plan.notes)


def test_vpc_only_spec_plans_nothing() -> None:
    plan = build_plan(spec_from_flags(vpc="vpc-0a1b2c3d"))
    assert (plan.total_instances, plan.subnets, plan.enis_needed) == (0, [], 0)


def test_slurm_without_vpc_config_has_no_subnet_to_size() -> None:
    plan = _plan(group("w"), subnets=[])
    assert plan.subnets == []
    assert any("SageMaker-managed VPC" in n for n in plan.notes)


def test_negative_headroom_is_an_input_error() -> None:
    with pytest.raises(InputError, match="--ip-headroom"):
        _plan(group("w"), headroom=-1)
