"""slurm.provisioning-parameters: SlurmConfig against provisioning_parameters.json, offline,
and the CLI's --lifecycle-dir handing the file to it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_world import by_resource, run, statuses
from click.testing import CliRunner
from hp_configs import cluster, group

import hyperpod_preflight.checks.slurm  # noqa: F401  (registers the checks)
from hyperpod_preflight.cli.main import cli
from hyperpod_preflight.spec import load_spec


def slurm_group(name: str, node_type: str, *partitions: str) -> dict[str, Any]:
    conf: dict[str, Any] = {"NodeType": node_type}
    if partitions:
        conf["PartitionNames"] = list(partitions)
    return group(name, SlurmConfig=conf)


def params(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": "1.0.0",
        "workload_manager": "slurm",
        "controller_group": "controller",
        "worker_groups": [{"instance_group_name": "workers", "partition_name": "dev"}],
    }
    data.update(over)
    return {"file": "provisioning_parameters.json", "data": json.dumps(data).encode()}


SPEC = load_spec(
    cluster(slurm_group("controller", "Controller"), slurm_group("workers", "Compute", "dev"))
)


def test_agreeing_groups_pass() -> None:
    found = statuses(
        run("slurm.provisioning-parameters", SPEC, None, provisioning_parameters=params())
    )
    assert found == {"controller": "PASS", "workers": "PASS"}


def test_partition_and_role_disagreements_fail() -> None:
    bad = params(
        controller_group="workers",
        worker_groups=[{"instance_group_name": "controller", "partition_name": "prod"}],
    )
    found = by_resource(
        run("slurm.provisioning-parameters", SPEC, None, provisioning_parameters=bad)
    )
    assert found["workers"].status.value == "FAIL"
    assert "SlurmConfig.NodeType in the config is Compute" in found["workers"].message
    assert found["controller"].status.value == "FAIL"
    other = load_spec(
        cluster(slurm_group("controller", "Controller"), slurm_group("workers", "Compute", "prod"))
    )
    found = by_resource(
        run("slurm.provisioning-parameters", other, None, provisioning_parameters=params())
    )
    assert found["workers"].status.value == "FAIL"
    assert 'partition "dev"' in found["workers"].message
    assert '"partition_name": "prod"' in found["workers"].remediation


def test_without_the_file_it_says_how_to_give_it() -> None:
    (finding,) = run("slurm.provisioning-parameters", SPEC, None)
    assert finding.status.value == "SKIP" and "--lifecycle-dir" in finding.message
    broken = {"file": "p.json", "data": b"{not json"}
    (finding,) = run("slurm.provisioning-parameters", SPEC, None, provisioning_parameters=broken)
    assert finding.status.value == "SKIP" and "does not parse" in finding.message


def test_cli_lifecycle_dir_feeds_the_check(tmp_path: Path) -> None:
    config = tmp_path / "cluster.json"
    config.write_text(
        json.dumps(
            cluster(slurm_group("controller", "Controller"), slurm_group("workers", "Compute", "x"))
        )
    )
    lifecycle = tmp_path / "lc"
    lifecycle.mkdir()
    (lifecycle / "provisioning_parameters.json").write_bytes(params()["data"])
    result = CliRunner().invoke(
        cli,
        [
            "check",
            "--offline",
            "--config",
            str(config),
            "--lifecycle-dir",
            str(lifecycle),
            "--only",
            "slurm.provisioning-parameters",
            "--output",
            "json",
        ],
    )
    report = json.loads(result.output)
    assert [r["status"] for r in report["results"]] == ["PASS", "FAIL"]
    assert report["summary"]["exit_code"] == 1
