"""The instance-type catalog: figures, lookups, name validation and EC2 descriptions."""

from __future__ import annotations

import dataclasses
from typing import Any

import botocore.session
import botocore.validate
import pytest

from hyperpod_preflight.catalog import (
    CATALOG,
    FROM_EC2_API,
    from_ec2_description,
    hyperpod_instance_types,
    lookup,
    validate_instance_type,
)
from hyperpod_preflight.errors import InputError
from hyperpod_preflight.planner import build_plan
from hyperpod_preflight.spec import spec_from_flags

# Not in the static table on purpose (see catalog.py): sized from the EC2 API at run time.
NOT_LISTED = {"p6e-gb200.36xlarge"}
ACCELERATED_PREFIXES = ("p", "g", "trn", "inf")


def test_p5_48xlarge_figures() -> None:
    p5 = lookup("ml.p5.48xlarge")
    assert p5 is not None
    assert (p5.vcpus, p5.accelerator, p5.accelerator_name, p5.accelerator_count) == (
        192,
        "nvidia",
        "H100",
        8,
    )
    assert (p5.efa_interfaces, p5.network_cards, p5.ipv4_per_eni) == (32, 32, 50)
    assert p5.nvswitch and p5.efa_supported
    assert p5.source.startswith("https://docs.aws.amazon.com/")


@pytest.mark.parametrize(
    ("name", "vcpus", "accelerators", "efa"),
    [
        ("p4d.24xlarge", 96, 8, 4),
        ("p4de.24xlarge", 96, 8, 4),
        ("p5e.48xlarge", 192, 8, 32),
        ("p5en.48xlarge", 192, 8, 16),
        ("p6-b200.48xlarge", 192, 8, 8),
        ("trn1.32xlarge", 128, 16, 8),
        ("trn1n.32xlarge", 128, 16, 16),
        ("trn2.48xlarge", 192, 16, 16),
        ("g5.48xlarge", 192, 8, 1),
        ("g6e.48xlarge", 192, 8, 4),
    ],
)
def test_figures_match_the_documented_ones(
    name: str, vcpus: int, accelerators: int, efa: int
) -> None:
    info = lookup(name)
    assert info is not None
    assert (info.vcpus, info.accelerator_count, info.efa_interfaces) == (vcpus, accelerators, efa)


# Accelerated HyperPod types of botocore 1.43.11's ClusterInstanceType enum, the set the
# catalog was written against. Newer botocore adds types (g4dn, g7 ...): those must still
# work, sized from describe_instance_types at run time (next test).
CATALOGUED_FAMILIES = (
    "p4d.",
    "p4de.",
    "p5.",
    "p5e.",
    "p5en.",
    "p6-b200.",
    "p6-b300.",
    "trn1.",
    "trn1n.",
    "trn2.",
    "g5.",
    "g6.",
    "g6e.",
    "gr6.",
    "g7e.",
)


def test_every_catalogued_accelerated_family_is_listed() -> None:
    accelerated = [
        t[3:]
        for t in hyperpod_instance_types()
        if t[3:].startswith(CATALOGUED_FAMILIES) and t[3:] not in NOT_LISTED
    ]
    assert len(accelerated) > 40
    missing = [t for t in accelerated if t not in CATALOG]
    assert missing == []


def test_a_valid_type_missing_from_the_catalog_is_planned_as_unsized() -> None:
    unlisted = next(
        t
        for t in hyperpod_instance_types()
        if t[3:].startswith(ACCELERATED_PREFIXES) and lookup(t) is None
    )
    spec = spec_from_flags(vpc="vpc-0abc1234", instance_groups=[f"gpu={unlisted}:2"])
    plan = build_plan(spec)
    assert plan.groups[0].ips_per_node is None
    assert any("credentials" in note for note in plan.notes)


def test_rows_are_consistent() -> None:
    for name, info in CATALOG.items():
        assert not name.startswith("ml.") and info.name == name
        assert info.vcpus >= info.default_cores >= 1
        assert info.network_cards >= 1 and info.ipv4_per_eni >= 1
        assert info.max_enis >= info.network_cards
        assert info.efa_interfaces <= info.network_cards
        assert (info.accelerator == "none") == (info.accelerator_count == 0)


def test_nvswitch_only_on_multi_gpu_hgx_types() -> None:
    for name in ("p4d.24xlarge", "p5e.48xlarge", "p6-b200.48xlarge"):
        info = lookup(name)
        assert info is not None and info.nvswitch
    for name in ("p5.4xlarge", "g5.48xlarge", "trn2.48xlarge", "m5.large"):
        info = lookup(name)
        assert info is not None and not info.nvswitch


def test_cpu_controller_types_are_listed() -> None:
    for name in ("m5.12xlarge", "m6i.xlarge", "m7i.4xlarge", "c5.9xlarge", "c5n.18xlarge",
                 "c6i.8xlarge", "r6i.4xlarge", "r7i.8xlarge", "t3.medium"):  # fmt: skip
        info = lookup(f"ml.{name}")
        assert info is not None and info.accelerator == "none"


def test_valid_but_unlisted_type() -> None:
    assert lookup("ml.p6e-gb200.36xlarge") is None
    validate_instance_type("ml.p6e-gb200.36xlarge")  # valid for HyperPod: no error


def test_validate_accepts_both_spellings_and_suggests_the_closest() -> None:
    validate_instance_type("ml.p5.48xlarge")
    validate_instance_type("p5.48xlarge")
    with pytest.raises(InputError) as info:
        validate_instance_type("ml.p5.48xl")
    assert "closest: ml.p5.48xlarge" in str(info.value)
    with pytest.raises(InputError) as info:
        validate_instance_type("ml.mac2.metal")  # an EC2 type HyperPod does not take
    assert "'ml.mac2.metal' is not a valid ClusterInstanceType" in str(info.value)


def _validated_description(description: dict[str, Any]) -> dict[str, Any]:
    """Fail the test if the fixture is not what botocore's EC2 output shape allows."""
    model = botocore.session.get_session().get_service_model("ec2")
    shape = model.shape_for("InstanceTypeInfo")
    report = botocore.validate.ParamValidator().validate(description, shape)
    assert not report.has_errors(), report.generate_report()
    return description


def _gpu_description() -> dict[str, Any]:
    cards = [{"NetworkCardIndex": i, "MaximumNetworkInterfaces": 2} for i in range(32)]
    return _validated_description(
        {
            "InstanceType": "p5.48xlarge",
            "VCpuInfo": {"DefaultVCpus": 192, "DefaultCores": 96, "ValidThreadsPerCore": [1, 2]},
            "MemoryInfo": {"SizeInMiB": 2097152},
            "GpuInfo": {
                "Gpus": [
                    {
                        "Name": "H100",
                        "Manufacturer": "NVIDIA",
                        "Count": 8,
                        "MemoryInfo": {"SizeInMiB": 81920},
                    }
                ],
                "TotalGpuMemoryInMiB": 655360,
            },
            "NetworkInfo": {
                "MaximumNetworkInterfaces": 64,
                "MaximumNetworkCards": 32,
                "NetworkCards": cards,
                "Ipv4AddressesPerInterface": 50,
                "EfaSupported": True,
                "EfaInfo": {"MaximumEfaInterfaces": 32},
            },
        }
    )


def test_from_ec2_description_matches_the_static_row() -> None:
    live = from_ec2_description(_gpu_description())
    static = lookup("p5.48xlarge")
    assert static is not None
    assert live.source == FROM_EC2_API
    assert dataclasses.replace(live, source="") == dataclasses.replace(static, source="")


def test_from_ec2_description_of_neuron_and_cpu_types() -> None:
    trn = from_ec2_description(
        _validated_description(
            {
                "InstanceType": "trn1.32xlarge",
                "VCpuInfo": {"DefaultVCpus": 128, "DefaultCores": 64},
                "MemoryInfo": {"SizeInMiB": 524288},
                "NeuronInfo": {
                    "NeuronDevices": [
                        {"Count": 16, "Name": "Trainium", "MemoryInfo": {"SizeInMiB": 32768}}
                    ]
                },
                "NetworkInfo": {
                    "MaximumNetworkInterfaces": 40,
                    "MaximumNetworkCards": 8,
                    "Ipv4AddressesPerInterface": 50,
                    "EfaInfo": {"MaximumEfaInterfaces": 8},
                },
            }
        )
    )
    assert (trn.accelerator, trn.accelerator_count, trn.accelerator_memory_gib) == (
        "neuron",
        16,
        32.0,
    )
    assert (trn.network_cards, trn.efa_interfaces, trn.valid_threads_per_core) == (8, 8, ())
    cpu = from_ec2_description(
        _validated_description(
            {
                "InstanceType": "m5.large",
                "VCpuInfo": {"DefaultVCpus": 2},
                "MemoryInfo": {"SizeInMiB": 8192},
                "NetworkInfo": {"MaximumNetworkInterfaces": 3, "Ipv4AddressesPerInterface": 10},
            }
        )
    )
    assert (cpu.accelerator, cpu.network_cards, cpu.efa_interfaces, cpu.memory_gib) == (
        "none",
        1,
        0,
        8.0,
    )


def test_from_ec2_description_without_sizing_fields_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="lacks a needed field"):
        from_ec2_description({"InstanceType": "x1.large", "VCpuInfo": {"DefaultVCpus": 2}})
