"""Readers for the newer CreateCluster features: custom AMIs (``ImageId``) and the
CloudWatch alarms a ``ScheduledUpdateConfig`` rolls back on (mixin of
:class:`~hyperpod_preflight.facts.AwsFacts`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .core import FactsCore, chunks, memoized
from .ec2 import _norm

# DescribeAlarms takes at most 100 AlarmNames per call.
ALARM_NAMES_PER_CALL = 100


class FeatureFacts(FactsCore):
    """Image and alarm readers: memoized, asking only for what the config names."""

    def images(self, image_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The AMIs of ``image_ids`` this account can see, deprecated ones included, by id
        (filtered by ``image-id``: a missing id is absent from the result instead of failing
        the call)."""
        ids = _norm(image_ids)
        return self._images(ids) if ids else {}

    @memoized
    def _images(self, image_ids: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(image_ids, 200):
            for image in self.paginate(
                "ec2",
                "DescribeImages",
                "Images",
                Filters=[{"Name": "image-id", "Values": part}],
                # Deprecated AMIs can still be launched, but EC2 leaves them out of the
                # answer without this (unless the caller owns them):
                # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html
                IncludeDeprecated=True,
            ):
                found[image["ImageId"]] = image
        return found

    def alarms(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The metric and composite alarms of ``names`` that exist, by name."""
        wanted = _norm(names)
        return self._alarms(wanted) if wanted else {}

    @memoized
    def _alarms(self, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(names, ALARM_NAMES_PER_CALL):
            resp = self.call(
                "cloudwatch",
                "DescribeAlarms",
                AlarmNames=part,
                AlarmTypes=["MetricAlarm", "CompositeAlarm"],
                MaxRecords=100,
            )
            for alarm in [*resp.get("MetricAlarms", []), *resp.get("CompositeAlarms", [])]:
                found[str(alarm["AlarmName"])] = alarm
        return found
