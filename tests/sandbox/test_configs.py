"""`check --sandbox` on correct configs in the shapes of the public HyperPod templates
(aws-samples/awsome-distributed-training: the Slurm CloudFormation stack with create_config.sh,
the Slurm and EKS Terraform modules, the EKS CloudFormation stacks; configs/ holds our own
configs written in those shapes, not copies): the sandbox builds everything each one names, so
each exits 0 with no FAIL; planted defects are the only FAILs.

Each case was a false FAIL (or a silently skipped check) before the sandbox built it: a
lifecycle bucket not named sagemaker-* without the grant the templates give the role, the
Karpenter ClusterRole, training plans, the FSx the provisioning parameters or the config name,
and the user's own scripts from --lifecycle-dir.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hyperpod_preflight.cli import main
from hyperpod_preflight.sandbox import parse_defects, run_sandbox

HERE = Path(__file__).resolve().parent
CONFIGS = HERE / "configs"
USER_SCRIPTS = HERE / "user_lifecycle"


@dataclass(frozen=True)
class Case:
    config: str
    lifecycle: str | None  # a folder of user_lifecycle/, given as --lifecycle-dir
    # check id → the status every finding of it must have (at least one finding)
    expect: dict[str, str] = field(default_factory=dict)


FSX_PASS = {
    "slurm.fsx-exists": "PASS",
    "slurm.fsx-vpc": "PASS",
    "slurm.fsx-mount-name": "PASS",
    "slurm.fsx-security-groups": "PASS",
}
CASES = [
    # Terraform Slurm module: bucket <prefix>-lifecycle-<hex>, role with an inline S3 grant
    Case("slurm-terraform.json", None, {"iam.execution-role-permissions": "PASS"}),
    # CloudFormation stack + create_config.sh: FSx named by provisioning_parameters.json
    Case("slurm-cfn-fsx.json", "slurm", {**FSX_PASS, "lifecycle.scripts": "PASS"}),
    # the CreateCluster API's own FsxLustreConfig and SlurmConfig, bucket team-a-*
    Case(
        "slurm-api-fsx-in-config.json",
        None,
        {**FSX_PASS, "iam.execution-role-permissions": "PASS"},
    ),
    # Terraform EKS module: Karpenter ClusterRole + AutoScaling, TrainingPlanArn, bucket
    # <prefix>-bucket-<account>-<region> with no key prefix, the user's own EKS script
    Case(
        "eks-terraform-karpenter.json",
        "eks",
        {
            "iam.execution-role-exists": "PASS",
            "iam.execution-role-trust": "PASS",
            "iam.execution-role-permissions": "PASS",
            "config.autoscaling": "PASS",
            "capacity.training-plan": "PASS",
            "capacity.training-plan-window": "PASS",
        },
    ),
    # CloudFormation EKS stacks: TrainingPlanArn on the accelerated group
    Case(
        "eks-cfn-training-plan.json",
        None,
        {"capacity.training-plan": "PASS", "capacity.training-plan-window": "PASS"},
    ),
    # automate-cluster-creation.sh with multiple head nodes: a second execution role for the
    # head nodes, FSx for Lustre and OpenZFS and slurm_configurations in the parameters
    Case(
        "slurm-multi-head.json",
        "slurm-multi-head",
        {**FSX_PASS, "iam.execution-role-exists": "PASS", "iam.execution-role-trust": "PASS"},
    ),
    # Terraform EKS module with restricted instance groups (service-managed FSx), whose
    # training plan and role are built like any group's
    Case(
        "eks-terraform-restricted.json",
        None,
        {"capacity.training-plan": "PASS", "iam.execution-role-permissions": "PASS"},
    ),
]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def sandbox_args(case: Case) -> list[str]:
    args = ["check", "--sandbox", "--config", str(CONFIGS / case.config)]
    if case.lifecycle:
        args += ["--lifecycle-dir", str(USER_SCRIPTS / case.lifecycle)]
    return args


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.config.removesuffix(".json"))
def test_a_correct_config_passes_on_its_sandbox(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli([*sandbox_args(case), "-o", "json"], capsys)
    report = json.loads(out)
    fails = [(f["check_id"], f["resource"], f["message"]) for f in report["results"]]
    fails = [f for f, r in zip(fails, report["results"], strict=True) if r["status"] == "FAIL"]
    assert fails == []
    assert code == 0, err
    for check_id, status in case.expect.items():
        seen = {f["status"] for f in report["results"] if f["check_id"] == check_id}
        assert seen == {status}, (check_id, seen)
    said = " ".join(err.split())  # stderr is wrapped to the terminal, between words
    if case.lifecycle:
        assert f"lifecycle scripts: yours, from {USER_SCRIPTS / case.lifecycle}" in said
    else:
        assert "the project's bundled reference scripts" in said
        assert "give --lifecycle-dir DIR to check your own" in said


def test_the_cluster_role_is_built_as_documented(capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[3]
    code, out, _ = run_cli([*sandbox_args(case), "-o", "json"], capsys)
    found = {
        (f["check_id"], f["status"])
        for f in json.loads(out)["results"]
        if "(ClusterRole)" in f["resource"]
    }
    assert found >= {
        ("iam.execution-role-exists", "PASS"),
        ("iam.execution-role-trust", "PASS"),
        ("iam.execution-role-permissions", "PASS"),
    }
    assert code == 0


def test_the_users_scripts_are_uploaded_not_the_bundled_ones() -> None:
    config = json.loads((CONFIGS / "slurm-cfn-fsx.json").read_text())
    run = run_sandbox(config, lifecycle_dir=USER_SCRIPTS / "slurm", only=["s3", "lifecycle"])
    uploaded = [line.split()[0] for line in run.created if line.startswith("  s3://")]
    assert sorted(u.rsplit("/", 1)[-1] for u in uploaded) == [
        "on_create.sh",
        "provisioning_parameters.json",
        "setup_node.py",
    ]
    assert run.report.summary.exit_code == 0
    assert any("FSx LUSTRE fs-0c0ffee0123456789" in line for line in run.created)


def test_a_non_sagemaker_bucket_gets_the_templates_grant() -> None:
    config = json.loads((CONFIGS / "slurm-terraform.json").read_text())
    run = run_sandbox(config, only=["iam", "s3", "config.lifecycle-bucket-name"])
    assert any(
        "hyperpod-lifecycle-bucket: s3:ListBucket, s3:GetObject on "
        "arn:aws:s3:::hyperpod-lifecycle-5c0ffee1" in line
        for line in run.created
    )
    assert {(f.check_id, f.status.value) for f in run.report.results} >= {
        ("config.lifecycle-bucket-name", "PASS"),
        ("s3.lifecycle-bucket-access", "PASS"),
    }
    assert run.report.summary.exit_code == 0


# -- defects on a user's config: exactly the planted FAILs ---------------------------------------
def test_defects_on_a_users_config_are_the_only_fails(capsys: pytest.CaptureFixture[str]) -> None:
    names = "sg-no-self-ingress,role-missing-vpc-policy,public-bucket"
    args = ["demo", "--config", str(CONFIGS / "eks-terraform-karpenter.json"), "--defects", names]
    code, out, _ = run_cli([*args, "-o", "json"], capsys)
    fails = {f["check_id"] for f in json.loads(out)["results"] if f["status"] == "FAIL"}
    planted = {d.check_id for d in parse_defects([names]) if d.status == "FAIL"}
    assert planted == {
        "network.sg-efa-self-ingress",
        "iam.execution-role-permissions",
        "s3.lifecycle-bucket-public",
    }
    assert fails == planted
    assert code == 1


# -- the other check options under --sandbox -------------------------------------------------------
def test_kube_context_is_refused_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        [*sandbox_args(CASES[4]), "--kube-context", "arn:aws:eks:us-west-2:1:cluster/x"], capsys
    )
    assert code == 2
    assert out == ""
    assert "--kube-context: cannot be combined with --sandbox" in err


@pytest.mark.parametrize("flag", [["--orchestrator", "eks"], ["--name", "other"]])
def test_cluster_flags_are_refused(flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli([*sandbox_args(CASES[4]), *flag], capsys)
    assert code == 2
    assert f"{flag[0]}: cannot be combined with --sandbox" in err


def test_timeout_and_retries_reach_the_run() -> None:
    """`check --sandbox --timeout/--max-attempts/--retry-mode` are honoured: the options the
    command line builds reach the sandbox's pre-flight (a 0 s deadline times every check out)."""
    from hyperpod_preflight.api import run_sandbox_build
    from hyperpod_preflight.options import SandboxOptions, Selection

    opts = SandboxOptions(
        selection=Selection(only=("network",)),
        timeout_s=0.0,
        max_attempts=1,
        retry_mode="adaptive",
        lifecycle_dir=USER_SCRIPTS / "slurm",
    )
    report = run_sandbox_build(opts).report
    timed_out = [f for f in report.results if "timed out after 0 s" in f.message]
    assert timed_out and all(f.status.value == "UNKNOWN" for f in timed_out)


def test_the_run_deadline_is_the_sandboxs_too() -> None:
    report = run_sandbox(only=["network"], timeout_s=0, max_attempts=1).report
    timed_out = [f for f in report.results if "timed out after 0 s" in f.message]
    assert timed_out and all(f.status.value == "UNKNOWN" for f in timed_out)


def test_no_cache_is_honoured_the_sandbox_never_touches_the_cache(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for extra in ([], ["--no-cache"]):
        code, _, _ = run_cli([*sandbox_args(CASES[4]), "--only", "quotas", *extra], capsys)
        assert code == 0
    assert list(tmp_path.iterdir()) == []


def test_an_empty_lifecycle_dir_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["check", "--sandbox", "--config", str(CONFIGS / "slurm-terraform.json")]
    code, _, err = run_cli([*args, "--lifecycle-dir", str(tmp_path)], capsys)
    assert code == 2
    assert "no files to upload" in err
