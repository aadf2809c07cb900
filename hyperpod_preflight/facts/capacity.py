"""Readers for capacity facts: instance-type offerings per availability zone id and
SageMaker training plans (mixin of :class:`~hyperpod_preflight.facts.AwsFacts`)."""

from __future__ import annotations

from typing import Any

from ..spec import strip_ml
from .core import FactsCore, chunks, memoized


def training_plan_name(arn_or_name: str) -> str:
    """``arn:aws:sagemaker:<region>:<account>:training-plan/<name>`` → ``<name>``."""
    if arn_or_name.startswith("arn:"):
        return arn_or_name.rsplit("/", 1)[-1]
    return arn_or_name


class CapacityFacts(FactsCore):
    """Capacity readers: memoized, asking only for what the spec names."""

    def instance_type_offerings(self, ec2_names: tuple[str, ...]) -> dict[str, frozenset[str]]:
        """For each type of ``ec2_names`` (``ml.`` stripped), the zone **ids** where EC2
        offers it in this region; a type offered nowhere maps to an empty set."""
        names = tuple(sorted({strip_ml(n) for n in ec2_names if n}))
        return self._instance_type_offerings(names)

    @memoized
    def _instance_type_offerings(self, ec2_names: tuple[str, ...]) -> dict[str, frozenset[str]]:
        zones: dict[str, set[str]] = {name: set() for name in ec2_names}
        for part in chunks(ec2_names, 100):
            for offer in self.paginate(
                "ec2",
                "DescribeInstanceTypeOfferings",
                "InstanceTypeOfferings",
                LocationType="availability-zone-id",
                Filters=[{"Name": "instance-type", "Values": part}],
            ):
                zones.setdefault(offer["InstanceType"], set()).add(offer["Location"])
        return {name: frozenset(ids) for name, ids in zones.items()}

    @memoized
    def training_plan(self, arn_or_name: str) -> dict[str, Any] | None:
        """``DescribeTrainingPlan`` of the plan named by an ARN or a name; None when it
        does not exist."""
        resp = self.call(
            "sagemaker",
            "DescribeTrainingPlan",
            none_on=("ResourceNotFound", "ResourceNotFoundException"),
            TrainingPlanName=training_plan_name(arn_or_name),
        )
        if resp is None:
            return None
        return {k: v for k, v in resp.items() if k != "ResponseMetadata"}

    def training_plan_instance_types(self) -> frozenset[str]:
        """The ``ml.`` types ``SearchTrainingPlanOfferings`` accepts (the model's enum)."""
        shape = self.client("sagemaker").meta.service_model.operation_model(
            "SearchTrainingPlanOfferings"
        )
        member = shape.input_shape.members["InstanceType"]
        return frozenset(str(t) for t in (getattr(member, "enum", None) or ()))

    @memoized
    def training_plan_offerings(self, instance_type: str, count: int) -> list[dict[str, Any]]:
        """``SearchTrainingPlanOfferings`` for ``count`` × ``instance_type`` (``ml.``)
        targeting HyperPod clusters: the offerings AWS would sell now."""
        resp = self.call(
            "sagemaker",
            "SearchTrainingPlanOfferings",
            InstanceType=instance_type,
            InstanceCount=count,
            TargetResources=["hyperpod-cluster"],
        )
        return list(resp.get("TrainingPlanOfferings", []))
