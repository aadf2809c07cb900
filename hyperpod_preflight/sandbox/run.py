"""One sandbox run: start moto in this process, build the account for a config, answer what
moto lacks, run the normal pre-flight on a session bound to it, stop moto.

While :func:`run_sandbox` runs, this process's AWS environment is the sandbox's: moto
intercepts every boto3 client, and the AWS variables that could point elsewhere
(``AWS_PROFILE``, ``AWS_ENDPOINT_URL*``, credential and config files) are set aside; all of it
is restored on return, whatever happens.
"""

from __future__ import annotations

import contextlib
import copy
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import CannotRunError, InputError
from ..models import Report
from ..planner import ClusterPlan, sagemaker_quota_needs
from ..spec import ClusterSpec
from .answers import Quota, SandboxAnswers
from .blueprint import Blueprint, Defect, blueprint_with
from .build import Build, build_account, bundled_json

INSTALL_HINT = "pip install 'hyperpod-preflight[sandbox]'"
ACCOUNT = "123456789012"  # moto's account
EXAMPLES = {"slurm": "slurm-p5-cluster.json", "eks": "eks-p5-g5-cluster.json"}


class SandboxUnavailable(CannotRunError):
    """moto (the ``[sandbox]`` extra) is not installed."""


def example_config(name: str = "slurm") -> dict[str, Any]:
    """The bundled example config ``slurm`` (the default) or ``eks``."""
    if name not in EXAMPLES:
        raise InputError(f"--example {name!r}: choose {' or '.join(EXAMPLES)}")
    return bundled_json("examples", EXAMPLES[name])


def require_moto() -> None:
    """SandboxUnavailable, with the install command, when moto cannot be imported."""
    try:
        import moto  # noqa: F401
    except ImportError as exc:
        raise SandboxUnavailable(f"the sandbox needs moto: {INSTALL_HINT}") from exc


_SET_ASIDE = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
_SANDBOX_ENV = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",  # AmazonSageMakerClusterInstanceRolePolicy
    "MOTO_ACCOUNT_ID": ACCOUNT,
}


@contextlib.contextmanager
def sandbox_environment() -> Iterator[None]:
    """The process environment of a sandbox run, restored afterwards."""
    names = {
        *_SET_ASIDE,
        *_SANDBOX_ENV,
        *(n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")),
    }
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            os.environ.pop(name, None)
        os.environ.update(_SANDBOX_ENV)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def sandbox_quotas(spec: ClusterSpec, plan: ClusterPlan, blueprint: Blueprint) -> list[Quota]:
    """The account's quotas: each SageMaker quota the config needs at ``quota_scale`` times
    the need (the instance-type ones raised, the rest at their default), EC2 vCPU, network
    interface and Elastic IP quotas at their defaults with room to spare."""
    quotas = []
    for need in sagemaker_quota_needs(spec, plan, flexible_worst_case=True):
        value = blueprint.quota_values.get(
            need.quota_name, max(need.needed * blueprint.quota_scale, need.needed + 2)
        )
        quotas.append(
            Quota("sagemaker", need.quota_name, value, applied=need.kind == "instance-type")
        )
    for vcpu in plan.vcpus:
        quotas.append(Quota("ec2", vcpu.quota_name, vcpu.vcpus * 2, vcpu.quota_code, False))
    quotas.append(Quota("vpc", "Network interfaces per Region", 5000, "L-DF5E4CA3", False))
    quotas.append(Quota("ec2", "EC2-VPC Elastic IPs", 5, "L-0263D0A3", False))
    return quotas


ADMINISTRATOR = "hyperpod-admin"


def administrator_session(root: Any) -> Any:
    """A session of an IAM user with ``AdministratorAccess`` made through ``root``: the
    person who prepares the account and runs ``hp-preflight``."""
    import boto3

    iam = root.client("iam")
    iam.create_user(UserName=ADMINISTRATOR)
    iam.attach_user_policy(
        UserName=ADMINISTRATOR, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    key = iam.create_access_key(UserName=ADMINISTRATOR)["AccessKey"]
    return boto3.Session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name=root.region_name,
    )


@dataclass
class SandboxRun:
    """What a sandbox run built and found."""

    report: Report
    config: dict[str, Any]
    created: list[str]
    defects: tuple[Defect, ...]
    build_s: float
    answers: SandboxAnswers
    notes: list[str] = field(default_factory=list)


LOCAL_AREA = "tools"


def run_sandbox(
    config: dict[str, Any] | None = None,
    *,
    defects: Sequence[Defect] = (),
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_on: str = "fail",
    ip_headroom: int = 1,
    concurrency: int = 16,
    options: dict[str, Any] | None = None,
    source: str = "",
) -> SandboxRun:
    """Build a sandbox account for ``config`` (default: the bundled Slurm example) with
    ``defects`` planted, and run the pre-flight on it through the normal code path."""
    require_moto()
    import boto3
    from moto import mock_aws
    from moto.core.models import botocore_stubber

    from ..preflight import run_cluster_preflight
    from ..spec import load_spec

    config = copy.deepcopy(config if config is not None else example_config())
    # The tools area judges this machine (aws, session-manager-plugin, kubectl), not the
    # sandbox account: `hp-preflight tools` runs it. Asked for by name, it still runs.
    if not any(s == LOCAL_AREA or s.startswith(LOCAL_AREA + ".") for s in only):
        skip = (*skip, LOCAL_AREA)
    blueprint = blueprint_with(defects)
    started = time.perf_counter()
    with sandbox_environment(), mock_aws():
        session = administrator_session(boto3.Session(region_name=blueprint.region))
        build: Build = build_account(session, config, blueprint)
        answers = SandboxAnswers(
            region=blueprint.region,
            account=ACCOUNT,
            quotas=sandbox_quotas(build.spec, build.plan, blueprint),
            eks_clusters=build.eks_clusters,
        ).attach(session, replacing=botocore_stubber)
        build_s = time.perf_counter() - started
        spec = load_spec(build.config)
        if source:
            spec = spec.model_copy(update={"source": source})
        report = run_cluster_preflight(
            spec,
            session=session,
            only=only,
            skip=skip,
            ignore=ignore,
            fail_on=fail_on,
            ip_headroom=ip_headroom,
            concurrency=concurrency,
            options=options,
            quota_code_cache=False,  # the sandbox's codes must not reach the user's cache
        )
    return SandboxRun(
        report=report,
        config=build.config,
        created=build.created,
        defects=tuple(defects),
        build_s=build_s,
        answers=answers,
    )
