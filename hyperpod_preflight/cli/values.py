"""One validator per kind of value, shared by every subcommand: a VPC id is judged the same
way by `check`, `audit`, `capacity` and `quotas`; an instance type the same way by `check`,
`audit`, `capacity` and `host`. Each is a click parameter type, so a bad value is exit 2
naming the option, before anything runs."""

from __future__ import annotations

import math
import re
from typing import Any

import click

from ..errors import shown

_ID_FORMS = {
    "vpc": (re.compile(r"vpc-[0-9a-f]{8,17}"), "vpc-0123456789abcdef0"),
    "subnet": (re.compile(r"subnet-[0-9a-f]{8,17}"), "subnet-0123456789abcdef0"),
    "sg": (re.compile(r"sg-[0-9a-f]{8,17}"), "sg-0123456789abcdef0"),
}
REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
K8S_VERSION_RE = re.compile(r"1\.\d{1,3}")


class ResourceId(click.ParamType[str]):
    """A VPC, subnet or security-group id (``vpc-…``, ``subnet-…``, ``sg-…``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = f"{kind}-id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        pattern, example = _ID_FORMS[self.kind]
        text = str(value).strip()
        if not pattern.fullmatch(text):
            self.fail(f"{shown(text)} is not a {self.kind} id ({example})", param, ctx)
        return text


_TYPE_FORM = re.compile(r"(ml\.)?[a-z][a-z0-9-]*\.[0-9a-z]+")


class InstanceType(click.ParamType[str]):
    """A HyperPod instance type (``ml.p5.48xlarge``); the message names the closest."""

    name = "instance-type"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..catalog import describe_invalid_type, is_hyperpod_instance_type

        text = str(value).strip()
        try:
            valid = is_hyperpod_instance_type(text)
        except ImportError:
            # A GPU node may have no botocore (the `host` extra does not need it): the model's
            # ClusterInstanceType enum cannot be read there, so only the name's form is judged.
            valid = bool(_TYPE_FORM.fullmatch(text))
        if not valid:
            self.fail(
                describe_invalid_type(text if len(text) <= 100 else text[:80] + "…"), param, ctx
            )
        return text


class Region(click.ParamType[str]):
    """An AWS region name (``us-west-2``)."""

    name = "region"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not REGION_RE.fullmatch(text):
            self.fail(f"{shown(text)} is not a region name (us-west-2)", param, ctx)
        return text


class KubernetesVersion(click.ParamType[str]):
    """``MAJOR.MINOR`` as EKS names its versions (``1.31``)."""

    name = "version"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip().removeprefix("v")
        if not K8S_VERSION_RE.fullmatch(text):
            self.fail(f"{shown(value)} is not a Kubernetes version (1.31)", param, ctx)
        return text


class Seconds(click.FloatRange):
    """A :class:`click.FloatRange` that refuses NaN: every comparison with NaN is False, so
    a plain range lets ``nan`` through (a deadline or wait of NaN seconds)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if isinstance(number, float) and math.isnan(number):
            self.fail(f"{shown(value)} is not a number of seconds", param, ctx)
        return number


VPC_ID = ResourceId("vpc")
SUBNET_ID = ResourceId("subnet")
SG_ID = ResourceId("sg")
INSTANCE_TYPE = InstanceType()
REGION = Region()
KUBERNETES_VERSION = KubernetesVersion()
