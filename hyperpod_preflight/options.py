"""The typed, frozen options of every kind of run: what the command line builds once from its
flags (and the project config file) and what the library functions of :mod:`.api` take.

Plain dataclasses with ``Literal`` enumerations, so that building one imports nothing heavy
and a type checker sees every field. ``None`` means "not given": the run applies its default,
and a mode that cannot honour an option that was given refuses it (exit 2) instead of
dropping it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

FailOn = Literal["fail", "warn", "unknown"]
RetryMode = Literal["standard", "adaptive"]
Orchestrator = Literal["slurm", "eks"]
SeverityName = Literal["info", "low", "medium", "high", "critical"]
ReportFormat = Literal["table", "json", "markdown", "junit", "sarif"]
Example = Literal["slurm", "eks"]

REPORT_FORMATS: tuple[ReportFormat, ...] = ("table", "json", "markdown", "junit", "sarif")
DEFAULT_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Suppression:
    """One ``[[ignore]]`` entry of the project config file: a FAIL of ``check_id`` (on a
    resource matching the ``resource`` glob, if given) is reported as an ignored WARN with
    ``reason``; after ``expires`` it no longer applies and a WARN names it."""

    check_id: str
    reason: str
    resource: str | None = None
    expires: date | None = None
    source: str = ""  # the file it came from, to name it in messages


@dataclass(frozen=True)
class Selection:
    """Which checks run and what makes the exit code 1."""

    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()  # check ids or areas (or "all"): FAIL → ignored WARN
    fail_on: FailOn = "fail"
    # findings of a lower severity never make the exit code 1 (they are still shown)
    severity: SeverityName | None = None
    suppressions: tuple[Suppression, ...] = ()


@dataclass(frozen=True)
class AwsOptions:
    """The one boto3 session of a run."""

    profile: str | None = None
    region: str | None = None
    retry_mode: RetryMode = "standard"
    max_attempts: int | None = None  # None: 10
    quota_code_cache: bool = True  # --no-cache turns it off


@dataclass(frozen=True)
class ClusterInput:
    """The cluster judged: a CreateCluster config (JSON or YAML), a CloudFormation template or
    a Terraform plan (JSON), or flags (never both)."""

    config: str | None = None  # a path, or "-" for stdin
    vpc: str | None = None
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    instance_groups: tuple[str, ...] = ()  # NAME=ml.TYPE:COUNT
    orchestrator: Orchestrator | None = None
    eks_cluster_arn: str | None = None
    execution_role: str | None = None
    lifecycle_uri: str | None = None
    name: str | None = None
    ip_headroom: int = 1
    # a CloudFormation template's parameters (KEY=VALUE, and the file of them) and, for a
    # template or a Terraform plan that defines several clusters, the one to check
    parameters: tuple[str, ...] = ()
    parameters_file: str | None = None
    resource: str | None = None

    def flags_given(self) -> list[str]:
        """The cluster flags (not --config, not --vpc) that are set, spelled as on the CLI."""
        flags = {
            "--subnet": self.subnets,
            "--security-group": self.security_groups,
            "--instance-group": self.instance_groups,
            "--orchestrator": self.orchestrator,
            "--eks-cluster-arn": self.eks_cluster_arn,
            "--execution-role": self.execution_role,
            "--lifecycle-uri": self.lifecycle_uri,
            "--name": self.name,
        }
        return [flag for flag, value in flags.items() if value]


@dataclass(frozen=True)
class CheckOptions:
    """``hp-preflight check``: the account pre-flight of one cluster."""

    cluster: ClusterInput = field(default_factory=ClusterInput)
    aws: AwsOptions = field(default_factory=AwsOptions)
    selection: Selection = field(default_factory=Selection)
    offline: bool = False
    with_tools: bool = False  # also judge this machine's tools (never by default)
    fsx: bool = False
    lifecycle_dir: Path | None = None
    kube_context: str | None = None
    concurrency: int = 16
    timeout_s: float | None = None  # the whole run's deadline; None: DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class SandboxOptions:
    """``hp-preflight demo`` and ``check --sandbox``: the pre-flight on an in-process
    (moto) account built for ``cluster.config`` (else the bundled ``example``)."""

    cluster: ClusterInput = field(default_factory=ClusterInput)
    selection: Selection = field(default_factory=Selection)
    example: Example = "slurm"
    defects: tuple[str, ...] = ()
    with_tools: bool = False
    fsx: bool = False
    lifecycle_dir: Path | None = None
    concurrency: int = 16
    timeout_s: float | None = None  # the whole run's deadline; None: DEFAULT_TIMEOUT_S
    retry_mode: RetryMode = "standard"
    max_attempts: int = 10


@dataclass(frozen=True)
class AuditOptions:
    """``hp-preflight audit --vpc``: every subnet and group of a VPC, placements, fixes."""

    vpc_id: str
    aws: AwsOptions = field(default_factory=AwsOptions)
    selection: Selection = field(default_factory=Selection)
    instance_types: tuple[str, ...] = ()  # () : p5, p5en, p4d, g5, trn1
    nodes: int = 4
    orchestrator: Orchestrator | None = None
    ip_headroom: int = 1
    fsx: bool = False
    timeout_s: float | None = None  # the whole run's deadline; None: DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class CapacityOptions:
    """``hp-preflight capacity``: regions ranked for ``count`` × ``instance_type``."""

    instance_type: str
    count: int
    aws: AwsOptions = field(default_factory=AwsOptions)
    selection: Selection = field(default_factory=Selection)
    regions: tuple[str, ...] | Literal["all"] | None = None  # None: --region's
    orchestrator: Orchestrator = "slurm"
    vpc: str | None = None
    timeout_s: float | None = None  # the whole run's deadline; None: DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class ToolsOptions:
    """``hp-preflight tools``: this machine's command-line tools (no AWS)."""

    config: str | None = None
    orchestrator: Orchestrator | None = None  # without config: eks
    kubernetes_version: str | None = None
    selection: Selection = field(default_factory=Selection)
    tool_timeout_s: float = 10.0  # each tool's --version


@dataclass(frozen=True)
class LintOptions:
    """``hp-preflight lifecycle lint``: a local lifecycle folder (or files in one)."""

    paths: tuple[Path, ...]
    entries: tuple[str, ...] = ()
    run_tools: bool = True  # bash -n / shellcheck
    fail_on: Literal["fail", "warn"] = "fail"


@dataclass(frozen=True)
class HostOptions:
    """``hp-preflight host``: this GPU node against a requirement profile."""

    profile: str = "hyperpod-node"
    instance_type: str | None = None
    requires: tuple[str, ...] = ()  # KEY=VALUE
    paths: tuple[str, ...] = ()
    shared_mounts: tuple[str, ...] = ()
    measure_bandwidth: bool = False
    dcgm: bool = False
    dcgm_level: int | None = None
    deep: bool = False
    deep_seconds: float = 60.0
    imds: bool = False
    root: str = "/"
    selection: Selection = field(default_factory=Selection)


@dataclass(frozen=True)
class QuotasOptions:
    """``hp-preflight quotas`` (plan) and ``quotas request``."""

    cluster: ClusterInput = field(default_factory=ClusterInput)
    aws: AwsOptions = field(default_factory=AwsOptions)
    headroom: int = 0
    submit: bool = False
    wait: bool = False
    wait_timeout_s: float = 900.0
    poll_s: float = 15.0


@dataclass(frozen=True)
class DiagnoseOptions:
    """``hp-preflight diagnose``: a live cluster (name or ARN), its status, nodes, events and
    lifecycle logs, and the pre-flight of the request it was created from."""

    cluster: str
    aws: AwsOptions = field(default_factory=AwsOptions)
    selection: Selection = field(default_factory=Selection)
    timeout_s: float | None = None  # the whole run's deadline; None: DEFAULT_TIMEOUT_S
