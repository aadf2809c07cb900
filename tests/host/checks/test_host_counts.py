"""hyperpod_preflight/host/checks/_counts.py: the GPU or EFA count a node should have, and
where that figure came from, on plain data."""

from __future__ import annotations

from typing import Any

import pytest

from hyperpod_preflight.host.checks._counts import Device, expected_count
from hyperpod_preflight.host.instance_types import expectation
from hyperpod_preflight.host.models import HostFacts, ResourceConfigFacts

P5 = expectation("ml.p5.48xlarge")
TRN1 = expectation("ml.trn1.32xlarge")


@pytest.mark.parametrize(
    ("device", "want", "label"),
    [("gpus", 8, "ml.p5.48xlarge has 8"), ("efa", 32, "ml.p5.48xlarge has 32")],
)
def test_instance_type_threshold_takes_the_types_exact_count(
    device: Device, want: int, label: str
) -> None:
    expected = expected_count("instance-type", device, P5, HostFacts())
    assert expected.want == want
    assert expected.from_instance_type and expected.source == "instance-type"
    assert expected.instance_type == "ml.p5.48xlarge"
    assert expected.label == label
    assert expected.why_unknown == ""


def test_a_neuron_type_expects_no_gpu_and_says_its_accelerator() -> None:
    assert TRN1 is not None
    expected = expected_count("instance-type", "gpus", TRN1, HostFacts())
    assert (expected.want, expected.accelerator) == (0, "neuron")
    assert expected_count("instance-type", "efa", TRN1, HostFacts()).want == TRN1.efa_devices


@pytest.mark.parametrize(("threshold", "want"), [(1, 1), (8, 8), ("4", 4), (" 2 ", 2)])
def test_a_number_is_the_profiles_minimum(threshold: Any, want: int) -> None:
    for device in ("gpus", "efa"):
        expected = expected_count(threshold, device, P5, HostFacts())
        assert expected.want == want
        assert expected.source == "profile" and not expected.from_instance_type
        assert expected.label == f"expected at least {want}"


@pytest.mark.parametrize(
    ("threshold", "why"),
    [
        ("lots", "threshold 'lots' is not a number"),
        (None, "threshold None is not a number"),
        ([8], "threshold [8] is not a number"),
    ],
)
def test_a_threshold_that_is_not_a_number_cannot_be_told(threshold: Any, why: str) -> None:
    expected = expected_count(threshold, "gpus", P5, HostFacts())
    assert expected.want is None
    assert expected.source == "profile"
    assert expected.why_unknown == why


@pytest.mark.parametrize(
    ("host", "why"),
    [
        (
            HostFacts(instance_type="ml.x9.huge"),
            "instance type ml.x9.huge is not in hp-preflight's table",
        ),
        (
            HostFacts(
                resource_config=ResourceConfigFacts(
                    path="/opt/ml/config/resource_config.json", found=True, error="not JSON"
                )
            ),
            "the instance type is unknown (no --instance-type; "
            "/opt/ml/config/resource_config.json: not JSON)",
        ),
        (
            HostFacts(),
            "the instance type is unknown (no --instance-type, "
            "no /opt/ml/config/resource_config.json)",
        ),
    ],
)
def test_an_unknown_instance_type_says_where_it_was_looked_for(host: HostFacts, why: str) -> None:
    for device in ("gpus", "efa"):
        expected = expected_count("instance-type", device, None, host)
        assert expected.want is None
        assert expected.from_instance_type
        assert expected.why_unknown == why
