"""Version parsing of each tool's own output, on recorded outputs."""

from __future__ import annotations

import pytest
from tool_fakes import AWS_V1, AWS_V2, EKSCTL, HELM_2, HELM_3, HYP, SSM_PLUGIN, kubectl_json

from hyperpod_preflight.analysis.tool_versions import (
    first_version,
    parse_aws,
    parse_helm,
    parse_kubectl,
)


@pytest.mark.parametrize(
    ("output", "version"),
    [
        (AWS_V2, (2, 22, 35)),
        (AWS_V1, (1, 45, 11)),
        ("aws-cli/2.17.1 Python/3.11.9 Darwin/23.5.0 exe/x86_64", (2, 17, 1)),
        ("Python 3.11.7", None),
        ("", None),
    ],
)
def test_parse_aws(output: str, version: tuple[int, ...] | None) -> None:
    assert parse_aws(output) == version


@pytest.mark.parametrize(
    ("output", "version"),
    [
        (kubectl_json("v1.31.2"), (1, 31, 2)),
        (kubectl_json("v1.32.4-dispatcher"), (1, 32, 4)),
        (
            "Client Version: v1.30.5\nKustomize Version: v5.0.4-0.20230601165947-6ce0bf390ce3",
            (1, 30, 5),
        ),
        (
            'Client Version: version.Info{Major:"1", Minor:"20", GitVersion:"v1.20.4", '
            'GitCommit:"e87da0bd6e"}',
            (1, 20, 4),
        ),
        ("error: unknown flag: --output", None),
    ],
)
def test_parse_kubectl(output: str, version: tuple[int, ...] | None) -> None:
    assert parse_kubectl(output) == version


@pytest.mark.parametrize(
    ("output", "version"),
    [(HELM_3, (3, 16, 2)), (HELM_2, (2, 16, 12)), ("v3.8.0+gd141386", (3, 8, 0))],
)
def test_parse_helm(output: str, version: tuple[int, ...]) -> None:
    assert parse_helm(output) == version


@pytest.mark.parametrize(
    ("output", "version"),
    [
        (SSM_PLUGIN, (1, 2, 650, 0)),
        (EKSCTL, (0, 194, 0)),
        (HYP, (3, 3, 0)),
        ("The Session Manager plugin was installed successfully.", None),
    ],
)
def test_first_version(output: str, version: tuple[int, ...] | None) -> None:
    assert first_version(output) == version
