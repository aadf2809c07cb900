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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import CannotRunError, InputError
from ..planner import ClusterPlan, sagemaker_quota_needs
from ..results import RunReport
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

    report: RunReport
    config: dict[str, Any]
    created: list[str]
    defects: tuple[Defect, ...]
    build_s: float
    answers: SandboxAnswers
    notes: list[str] = field(default_factory=list)


LOCAL_AREA = "tools"
LIFECYCLE_LIMIT = 64 << 20  # bytes of a --lifecycle-dir the sandbox uploads at most
SKIPPED_DIRS = frozenset({".git", "__pycache__", ".venv", "node_modules"})


def read_lifecycle_dir(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (its path under it, ``/``-separated → content), as
    ``aws s3 cp --recursive`` would upload it; version-control and cache folders left out.
    InputError when it holds no file or more than the sandbox uploads."""
    if not directory.is_dir():
        raise InputError(f"--lifecycle-dir {directory}: not a directory")
    files: dict[str, bytes] = {}
    size = 0
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if set(relative.parts[:-1]) & SKIPPED_DIRS or not path.is_file():
            continue
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InputError(f"--lifecycle-dir: cannot read {path}: {exc.strerror}") from exc
        size += len(content)
        if size > LIFECYCLE_LIMIT:
            raise InputError(
                f"--lifecycle-dir {directory}: more than {LIFECYCLE_LIMIT >> 20} MiB; the "
                "sandbox uploads lifecycle scripts, not data"
            )
        files[relative.as_posix()] = content
    if not files:
        raise InputError(f"--lifecycle-dir {directory}: no files to upload")
    return files


def lifecycle_note(directory: Path | None, spec: ClusterSpec) -> str:
    """What the sandbox uploaded as the lifecycle scripts, for the user to read."""
    if directory is not None:
        return f"lifecycle scripts: yours, from {directory} (uploaded under each prefix)"
    folder = "eks" if spec.orchestrator == "eks" else "slurm"
    return (
        f"lifecycle scripts: the project's bundled reference scripts (lifecycle/{folder}/), "
        "not yours: give --lifecycle-dir DIR to check your own"
    )


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
    lifecycle_dir: Path | None = None,
    timeout_s: float | None = 120,
    retry_mode: str = "standard",
    max_attempts: int = 10,
    with_tools: bool = False,
) -> SandboxRun:
    """Build a sandbox account for ``config`` (default: the bundled Slurm example) with
    ``defects`` planted, and run the pre-flight on it through the normal code path.

    ``lifecycle_dir``: the user's lifecycle scripts, uploaded under each lifecycle prefix
    (else the bundled reference scripts); ``timeout_s``, ``retry_mode`` and ``max_attempts``
    are the pre-flight's own (run deadline, botocore retries); ``with_tools``: also judge this
    machine's command-line tools (the ``tools`` area), as ``check --with-tools`` does."""
    require_moto()
    import boto3
    from moto import mock_aws
    from moto.core.models import botocore_stubber

    from ..preflight import run_cluster_preflight
    from ..spec import load_spec

    config = copy.deepcopy(config if config is not None else example_config())
    # The tools area judges this machine (aws, session-manager-plugin, kubectl), not the
    # sandbox account: `hp-preflight tools` runs it. Asked for by name, it still runs.
    if not with_tools and not any(s == LOCAL_AREA or s.startswith(LOCAL_AREA + ".") for s in only):
        skip = (*skip, LOCAL_AREA)
    blueprint = blueprint_with(defects)
    user_files = read_lifecycle_dir(lifecycle_dir) if lifecycle_dir is not None else None
    started = time.perf_counter()
    with sandbox_environment(), mock_aws():
        session = administrator_session(boto3.Session(region_name=blueprint.region))
        build: Build = build_account(session, config, blueprint, user_files)
        answers = SandboxAnswers(
            region=blueprint.region,
            account=ACCOUNT,
            quotas=sandbox_quotas(build.spec, build.plan, blueprint),
            eks_clusters=build.eks_clusters,
            training_plans=build.training_plans,
            file_systems=build.file_systems,
        ).attach(session, replacing=botocore_stubber)
        build_s = time.perf_counter() - started
        spec = load_spec(build.config)
        if source:
            spec = replace(spec, source=source)
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
            timeout_s=timeout_s,
            retry_mode=retry_mode,
            max_attempts=max_attempts,
            quota_code_cache=False,  # the sandbox's codes must not reach the user's cache
        )
    return SandboxRun(
        report=report,
        config=build.config,
        created=build.created,
        defects=tuple(defects),
        build_s=build_s,
        answers=answers,
        notes=[lifecycle_note(lifecycle_dir, build.spec)],
    )
