"""The sandbox: a careful user's account passes every check; each planted defect shows up as
the finding it names; the sandbox's answers never leak out of its own session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from conftest import EXAMPLES, REPO

from hyperpod_preflight.cli import main
from hyperpod_preflight.models import Status
from hyperpod_preflight.sandbox import DEFECTS, example_config, parse_defects, run_sandbox
from hyperpod_preflight.sandbox.answers import Quota, SandboxAnswers, checked

BUNDLED = REPO / "hyperpod_preflight" / "sandbox" / "bundled"


def statuses(run_report: object) -> dict[str, set[Status]]:
    found: dict[str, set[Status]] = {}
    for f in run_report.results:  # type: ignore[attr-defined]
        found.setdefault(f.check_id, set()).add(f.status)
    return found


@pytest.mark.parametrize("example", ["slurm", "eks"])
def test_a_careful_users_account_passes_every_check(example: str) -> None:
    run = run_sandbox(example_config(example))
    report = run.report
    bad = [
        (f.check_id, f.status.value, f.message)
        for f in report.results
        if f.status in (Status.FAIL, Status.WARN, Status.UNKNOWN)
    ]
    assert bad == []
    assert report.summary.exit_code == 0
    # every area ran, and the APIs moto lacks were answered by the sandbox
    assert {f.area for f in report.results if f.status is Status.PASS} >= {
        "config",
        "network",
        "iam",
        "s3",
        "lifecycle",
        "quotas",
        "capacity",
    }
    assert run.answers.seen.get("SimulatePrincipalPolicy", 0) >= 1
    assert run.answers.seen.get("ListServiceQuotas", 0) == 1


# Defects that do not hide one another, planted together to keep the suite fast; each was
# also seen alone (see the demo's --list-defects table, which these runs hold to).
GROUPS = [
    (
        "sg-no-self-ingress",
        "vpc-dns-off",
        "role-missing-trust",
        "bucket-other-region",
        "crlf-script",
        "quota-too-low",
    ),
    ("sg-no-self-egress", "small-subnet", "role-missing-vpc-policy", "public-bucket"),
    ("missing-script", "missing-role"),
    ("no-nat",),
    ("no-s3-endpoint",),
    ("public-subnet",),
]


# What a defect also breaks, truly: a public subnet has no NAT and its nodes no public address
# (no egress); an OnCreate that was never uploaded cannot be linted either.
CONSEQUENCES = {"missing-script": {"lifecycle.scripts"}}


def test_the_groups_cover_every_defect() -> None:
    assert sorted(n for g in GROUPS for n in g) == sorted(DEFECTS)


@pytest.mark.parametrize("names", GROUPS, ids=lambda g: "+".join(g))
def test_each_planted_defect_shows_as_its_finding(names: tuple[str, ...]) -> None:
    defects = parse_defects(names)
    report = run_sandbox(defects=defects).report
    found = statuses(report)
    for defect in defects:
        assert Status(defect.status) in found.get(defect.check_id, set()), (
            defect.name,
            found.get(defect.check_id),
        )
        for f in report.results:
            if f.check_id == defect.check_id and f.status is Status.FAIL:
                assert f.remediation, f"{defect.check_id} FAIL without a fix"
    # the planted defects are the only FAILs, with what each one truly causes besides
    fails = {f.check_id for f in report.results if f.status is Status.FAIL}
    caused = {c for d in defects for c in CONSEQUENCES.get(d.name, ())}
    assert fails == {d.check_id for d in defects if d.status == "FAIL"} | caused
    expected = 1 if fails else 0
    assert report.summary.exit_code == expected


def test_unknown_defect_names_the_choices() -> None:
    with pytest.raises(Exception, match="unknown nope; choose from sg-no-self-ingress"):
        parse_defects(["nope"])
    assert parse_defects(["all"]) == tuple(DEFECTS.values())
    assert [d.name for d in parse_defects(["no-nat,crlf-script", "no-nat"])] == [
        "no-nat",
        "crlf-script",
    ]


def test_the_sandbox_leaves_nothing_active_behind() -> None:
    before = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "MOTO_"))}
    run_sandbox(defects=parse_defects(["no-s3-endpoint"]), only=["quotas"])
    after = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "MOTO_"))}
    assert after == before
    # a client made afterwards reaches the test's closed loopback endpoint: no moto, no answers
    client = boto3.client("service-quotas", region_name="us-west-2")
    with pytest.raises(botocore.exceptions.EndpointConnectionError):
        client.list_service_quotas(ServiceCode="sagemaker")


def test_answers_are_checked_against_botocores_output_shapes() -> None:
    with pytest.raises(ValueError, match="off-shape"):
        checked("service-quotas", "GetServiceQuota", {"Quota": {"Value": "many"}})
    answers = SandboxAnswers(
        region="us-west-2", account="123456789012", quotas=[Quota("sagemaker", "q", 3)]
    )
    listed = answers.answer("service-quotas", "ListServiceQuotas", b'{"ServiceCode":"sagemaker"}')
    assert listed is not None and listed.status == 200
    assert json.loads(listed.body)["Quotas"][0]["Value"] == 3.0
    missing = answers.answer(
        "service-quotas",
        "GetAWSDefaultServiceQuota",
        b'{"ServiceCode":"sagemaker","QuotaCode":"x"}',
    )
    assert missing is not None and b"NoSuchResourceException" in missing.body
    assert answers.answer("ec2", "DescribeVpcs", b"") is None  # moto's to answer


def test_file_system_answers_are_fsxs() -> None:
    fs = {
        "FileSystemId": "fs-0123456789abcdef0",
        "FileSystemType": "LUSTRE",
        "Lifecycle": "AVAILABLE",
    }
    answers = SandboxAnswers(
        region="us-west-2", account="123456789012", file_systems={fs["FileSystemId"]: fs}
    )
    found = answers.answer(
        "fsx", "DescribeFileSystems", b'{"FileSystemIds":["fs-0123456789abcdef0"]}'
    )
    assert found is not None and json.loads(found.body)["FileSystems"] == [fs]
    # FSx fails the whole call when one id is unknown
    missing = answers.answer(
        "fsx", "DescribeFileSystems", b'{"FileSystemIds":["fs-0123456789abcdef0","fs-9"]}'
    )
    assert missing is not None and missing.status == 400 and b"FileSystemNotFound" in missing.body
    with pytest.raises(ValueError, match="off-shape"):
        SandboxAnswers(
            region="us-west-2", account="1", file_systems={"fs-1": {"StorageCapacity": "big"}}
        )


def test_bundled_files_are_the_repositorys() -> None:
    pairs = [(BUNDLED / "examples" / p.name, p) for p in EXAMPLES.glob("*.json")] + [
        (BUNDLED / "lifecycle" / p.relative_to(REPO / "lifecycle"), p)
        for p in (REPO / "lifecycle").glob("*/*")
    ]
    pairs += [(BUNDLED / "policies" / p.name, p) for p in (REPO / "policies").glob("*-role-*.json")]
    assert len(pairs) >= 8
    for copy, original in pairs:
        assert copy.read_bytes() == original.read_bytes(), f"{copy} differs from {original}"


# -- the command line ---------------------------------------------------------------------------
def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_demo_lists_its_defects(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["demo", "--list-defects"], capsys)
    assert code == 0
    for name, defect in DEFECTS.items():
        assert name in out and defect.check_id in out


def test_demo_with_defects_fails_with_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        ["demo", "--defects", "sg-no-self-ingress", "-o", "json", "--only", "network"], capsys
    )
    assert code == 1
    report = json.loads(out)
    failed = [r for r in report["results"] if r["status"] == "FAIL"]
    assert [r["check_id"] for r in failed] == ["network.sg-efa-self-ingress"]
    assert "authorize-security-group-ingress" in failed[0]["remediation"]
    assert "planted sg-no-self-ingress" in err


def test_check_sandbox_runs_the_eks_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        ["check", "--sandbox", "--config", str(EXAMPLES / "eks-p5-g5-cluster.json"), "-o", "json"],
        capsys,
    )
    assert code == 0, out
    report = json.loads(out)
    assert report["target"] == "ml-eks-p5-g5"
    assert not [r for r in report["results"] if r["status"] in ("FAIL", "UNKNOWN")]


def test_bad_defect_is_exit_2_before_anything_is_built(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(["demo", "--defects", "nat-missing"], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "--defects: unknown nat-missing" in err


def test_demo_without_moto_says_how_to_install_it() -> None:
    probe = (
        "import sys; sys.modules['moto'] = None\n"
        "from hyperpod_preflight.cli import main\n"
        "main(['demo'])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert proc.returncode == 3
    assert proc.stderr.strip() == (
        "hp-preflight: error: the sandbox needs moto: pip install 'hyperpod-preflight[sandbox]'"
    )
    assert proc.stdout == ""


def test_a_wheel_carries_the_example_and_the_scripts(tmp_path: Path) -> None:
    setuptools = pytest.importorskip("setuptools")
    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    if (major, minor) < (70, 1):  # bdist_wheel joined setuptools in 70.1; else `wheel` has it
        pytest.importorskip("wheel", reason="no bdist_wheel offline (setuptools < 70.1)")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = "hyperpod_preflight/sandbox/bundled/"
    for name in (
        "examples/slurm-p5-cluster.json",
        "examples/eks-p5-g5-cluster.json",
        "lifecycle/slurm/on_create.sh",
        "lifecycle/slurm/lifecycle_script.py",
        "lifecycle/eks/on_create.sh",
        "policies/execution-role-trust.json",
    ):
        assert prefix + name in names


@pytest.mark.parametrize("with_tools", [False, True], ids=["default", "with-tools"])
def test_with_tools_judges_this_machines_tools_in_the_sandbox_too(
    with_tools: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--with-tools` was accepted by `demo`/`check --sandbox` and then dropped.
    args = ["demo", "-o", "json", *(["--with-tools"] if with_tools else [])]
    _, out, _ = run_cli(args, capsys)
    areas = {r["check_id"].split(".")[0] for r in json.loads(out)["results"]}
    assert ("tools" in areas) is with_tools
    assert "network" in areas
