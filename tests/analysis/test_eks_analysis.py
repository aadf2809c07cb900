"""The pure EKS judgements: version tables, add-on versions, caller ARNs, kubectl skew."""

from __future__ import annotations

import pytest

from hyperpod_preflight.analysis.eks import (
    SUPPORTED_KUBERNETES_VERSIONS,
    kubectl_skew_ok,
    kubernetes_support,
    minor_version,
    patch_version,
    principal,
)


def test_the_supported_list_is_1_28_to_1_34() -> None:
    assert SUPPORTED_KUBERNETES_VERSIONS[0] == (1, 28)
    assert SUPPORTED_KUBERNETES_VERSIONS[-1] == (1, 34)


@pytest.mark.parametrize(
    ("version", "verdict"),
    [
        ("1.28", "supported"),
        ("1.34", "supported"),
        ("1.35", "newer"),
        ("2.0", "newer"),
        ("1.27", "older"),
        ("", "unparseable"),
        ("latest", "unparseable"),
        (None, "unparseable"),
    ],
)
def test_kubernetes_support(version: str | None, verdict: str) -> None:
    assert kubernetes_support(version).verdict == verdict


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("v1.18.3-eksbuild.1", (1, 18, 3)),
        ("1.19", (1, 19, 0)),
        ("v1.20.10-eksbuild.2", (1, 20, 10)),
        ("eksbuild", None),
    ],
)
def test_patch_version(text: str, parsed: tuple[int, int, int] | None) -> None:
    assert patch_version(text) == parsed


def test_minor_version_reads_kubectl_style_versions() -> None:
    assert minor_version("v1.32.4-dispatcher") == (1, 32)
    assert minor_version("1.31") == (1, 31)


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (
            "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com",
            "arn:aws:iam::123456789012:role/Admin",
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0a1b/alice",
            "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0a1b",
        ),
        ("arn:aws:iam::123456789012:user/bob", "arn:aws:iam::123456789012:user/bob"),
        ("arn:aws:iam::123456789012:role/a/b/Ops", "arn:aws:iam::123456789012:role/a/b/Ops"),
        ("arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:root"),
        ("arn:aws-cn:sts::123456789012:assumed-role/R/s", "arn:aws-cn:iam::123456789012:role/R"),
    ],
)
def test_principal_of_caller_arns(arn: str, expected: str) -> None:
    who = principal(arn)
    assert who is not None and who.arn == expected


@pytest.mark.parametrize(
    "arn",
    ["arn:aws:sts::123456789012:federated-user/bob", "arn:aws:s3:::bucket", "not an arn", ""],
)
def test_principals_an_access_entry_cannot_name(arn: str) -> None:
    assert principal(arn) is None


def test_a_session_matches_its_role_with_a_path_but_not_another_account() -> None:
    session = principal("arn:aws:sts::123456789012:assumed-role/Ops/s")
    with_path = principal("arn:aws:iam::123456789012:role/teams/Ops")
    elsewhere = principal("arn:aws:iam::210987654321:role/Ops")
    user = principal("arn:aws:iam::123456789012:user/Ops")
    assert session and with_path and elsewhere and user
    assert session.same_as(with_path)
    assert not session.same_as(elsewhere) and not session.same_as(user)


@pytest.mark.parametrize(
    ("client", "server", "ok"),
    [
        ((1, 31), (1, 31), True),
        ((1, 32), (1, 31), True),
        ((1, 30), (1, 31), True),
        ((1, 33), (1, 31), False),
        ((1, 29), (1, 31), False),
    ],
)
def test_kubectl_skew(client: tuple[int, int], server: tuple[int, int], ok: bool) -> None:
    assert kubectl_skew_ok(client, server) is ok
