"""Fix commands are safe to paste: a hostile name (``;``, ``$(…)``, backticks, quotes, a
newline) fed through every fix builder comes back from ``shlex.split`` as one token, itself.

Table-driven over the builders that take plain data, plus one run through the engine on
moto (a lifecycle script whose name is hostile, the issue's ``bash './x;id>PWN.sh'``)."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import boto3
import pytest
from aws_world import ACCOUNT, REGION, new_facts, run
from conftest import moto_env

import hyperpod_preflight.checks.s3  # noqa: F401  (registers the checks)
from hyperpod_preflight.analysis.iam_roles import ConfigRole
from hyperpod_preflight.analysis.network import EndpointAccess
from hyperpod_preflight.analysis.s3_lifecycle import LifecycleObject
from hyperpod_preflight.analysis.security_groups import fsx_lustre_rule_command, self_rule_command
from hyperpod_preflight.analysis.vpc_audit import _new_group_commands
from hyperpod_preflight.checks.iam.roles import _create_fix
from hyperpod_preflight.checks.network.egress import _authorize_https
from hyperpod_preflight.checks.s3.objects import _upload
from hyperpod_preflight.checks.s3.public import _block_all
from hyperpod_preflight.models import Status
from hyperpod_preflight.planner import increase_command, request_hint
from hyperpod_preflight.shell import command
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup

HOSTILE = {
    "semicolon": "x;id>PWN.sh",
    "subshell": "$(touch /tmp/pwned)",
    "backticks": "`id`",
    "quotes": 'it\'s "quoted"',
    "newline": "first\nrm -rf ~",
    "variable": "$HOME",
    "glob": "* ?",
}
IDS = list(HOSTILE)
VALUES = list(HOSTILE.values())


def tokens(text: str) -> list[str]:
    """The words a POSIX shell gives the command: ``;``, ``|``, ``&``, ``<``, ``>`` and
    parentheses outside quotes are tokens of their own, as the shell reads them."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def expansions(text: str) -> list[str]:
    """``$`` and backticks the shell would expand: those outside single quotes (a backslash
    escapes one outside quotes)."""
    found, quote, escaped = [], "", False
    for ch in text:
        if escaped:
            escaped = False
        elif quote == "'":
            quote = "" if ch == "'" else quote
        elif ch == "\\":
            escaped = True
        elif ch == "'" and not quote:
            quote = "'"
        elif ch == '"':
            quote = "" if quote == '"' else '"'
        elif ch in "$`":
            found.append(ch)
    return found


def after(flag: str, words: list[str]) -> str:
    return words[words.index(flag) + 1]


def in_backticks(text: str) -> str:
    """The one command a prose remediation quotes between backticks (the value may hold
    backticks itself: from the first to the last)."""
    return text[text.index("`") + 1 : text.rindex("`")]


# Each builder: value → (the fix, a check that the value came back as itself).
Builder = Callable[[str], tuple[str, Callable[[list[str], str], bool]]]


def _role(name: str) -> ConfigRole:
    return ConfigRole(
        arn=f"arn:aws:iam::{ACCOUNT}:role/{name}",
        kind="ExecutionRole",  # type: ignore[arg-type]
        partition="aws",
        account=ACCOUNT,
        path="/",
        name=name,
    )


BUILDERS: dict[str, Builder] = {
    "shell.command": lambda v: (command("aws", "ec2", "x", "--id", v), lambda w, v: w[-1] == v),
    "self_rule_command": lambda v: (
        self_rule_command("ingress", v),
        lambda w, v: (
            after("--group-id", w) == v
            and after("--ip-permissions", w) == f"IpProtocol=-1,UserIdGroupPairs=[{{GroupId={v}}}]"
        ),
    ),
    "fsx_lustre_rule_command": lambda v: (
        fsx_lustre_rule_command("egress", v),
        lambda w, v: after("--group-id", w) == v and all(f"{{GroupId={v}}}" in t for t in w[-2:]),
    ),
    "increase_command": lambda v: (
        increase_command("sagemaker", v, 7, "us-west-2"),
        lambda w, v: after("--quota-code", w) == v,
    ),
    "request_hint": lambda v: (
        request_hint(SimpleNamespace(source=v)),
        lambda w, v: after("--config", w) == v,
    ),
    "iam create-role": lambda v: (
        _create_fix(_role(v)).removeprefix("Create it: ").split("; then ")[0],
        lambda w, v: after("--role-name", w) == v,
    ),
    "iam attach-role-policy": lambda v: (
        _create_fix(_role(v)).split("; then ")[1].split(" (and ")[0],
        lambda w, v: after("--role-name", w) == v,
    ),
    "s3 cp": lambda v: (
        in_backticks(_upload(LifecycleObject("bucket", f"lifecycle/{v}", "OnCreate", ("g",)))),
        lambda w, v: w[-2] == "./" + v.rsplit("/", 1)[-1] and w[-1] == f"s3://bucket/lifecycle/{v}",
    ),
    "s3api put-public-access-block": lambda v: (
        _block_all(v),
        lambda w, v: after("--bucket", w) == v,
    ),
    "authorize https": lambda v: (
        _authorize_https(EndpointAccess("ssm", "vpce-1", (v,), "closed"), v, "10.0.0.0/16"),
        lambda w, v: (
            after("--group-id", w) == v
            and after("--ip-permissions", w).endswith(f"{{GroupId={v}}}]")
        ),
    ),
    "vpc audit new group": lambda v: (
        _new_group_commands(v).split("; ")[0].removeprefix("SG=$(").removesuffix(")"),
        lambda w, v: after("--vpc-id", w) == v,
    ),
}


@pytest.mark.parametrize("value", VALUES, ids=IDS)
@pytest.mark.parametrize("builder", BUILDERS.values(), ids=BUILDERS.keys())
def test_every_fix_builder_quotes_hostile_names(builder: Builder, value: str) -> None:
    fix, came_back = builder(value)
    words = tokens(fix)
    assert came_back(words, value), (fix, words)
    assert shlex.split(fix) == words  # no operator of the shell outside quotes
    assert not expansions(fix), fix  # no $(…), $VAR or `…` the shell would expand


# -- through the engine: a lifecycle script with a hostile name -----------------------------
BUCKET = "sagemaker-hostile"


@pytest.fixture(scope="module")
def account() -> Iterator[None]:
    with moto_env():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=BUCKET, Key="lifecycle/provisioning_parameters.json", Body=b"{}")
        yield


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_missing_script_with_a_hostile_name_gets_a_quoted_upload(
    account: None, lifted_endpoint: None, value: str
) -> None:
    spec = ClusterSpec(
        name="c",
        orchestrator="slurm",
        instance_groups=(
            InstanceGroup(
                name="g0",
                instance_type="ml.m5.xlarge",
                count=1,
                execution_role=f"arn:aws:iam::{ACCOUNT}:role/exec",
                lifecycle_source_s3_uri=f"s3://{BUCKET}/lifecycle/",
                lifecycle_on_create=value,
                json_path="InstanceGroups[0]",
            ),
        ),
    )
    facts = new_facts()
    facts.verify_identity()
    found = [f for f in run("s3.lifecycle-objects", spec, facts) if f.status is Status.FAIL]
    [missing] = [f for f in found if value in f.resource]
    upload = in_backticks(missing.remediation)
    words = tokens(upload)
    assert shlex.split(upload) == words and not expansions(upload)
    assert words[:3] == ["aws", "s3", "cp"]
    local = "./" + value.rsplit("/", 1)[-1]  # the file's own name, in the current directory
    assert words[3:] == [local, f"s3://{BUCKET}/lifecycle/{value}"]
