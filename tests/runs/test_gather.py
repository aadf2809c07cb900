"""The gathering: each follow-up of a check runs once the reads it reads are in, not when
every read of its stage is; what a check may read never depends on which chain ran first."""

from __future__ import annotations

import threading
import time
from typing import Any

from conftest import EXAMPLES

from hyperpod_preflight.planner import build_plan
from hyperpod_preflight.registry import Check, CheckContext, CheckInfo, Severity, Then, need
from hyperpod_preflight.runs.gather import FactSources, Gatherer
from hyperpod_preflight.spec import load_spec

WAIT_S = 3.0


def _check(needs: Any) -> Check:
    info = CheckInfo(
        check_id="config.test-gather-probe",
        title="probe",
        severity=Severity.LOW,
        area="config",
        needs_aws=True,
    )
    return Check(info=info, fn=lambda ctx: [], needs=needs, declares_needs=True)


def _ctx(facts: Any) -> CheckContext:
    spec = load_spec(EXAMPLES / "slurm-p5-cluster.json")
    return CheckContext(spec=spec, plan=build_plan(spec), facts=facts)


def test_a_follow_up_does_not_wait_for_a_read_it_does_not_read() -> None:
    """Two chains in one check (as lifecycle.scripts: the subnets' egress and the prefix's
    files): the second chain's next read starts while the first chain's read is still out."""
    second_started = threading.Event()
    order: list[str] = []

    class Facts:
        region = "us-west-2"

        def slow(self, name: str) -> str:
            second_started.wait(WAIT_S)  # answered once the other chain went on, or late
            order.append("slow answered")
            return name

        def fast(self, name: str) -> str:
            return name

        def after_fast(self, name: str) -> str:
            order.append("after_fast read")
            second_started.set()
            return name

    def needs(spec: Any, plan: Any) -> list[Any]:
        return [
            need("slow", "a"),
            Then(lambda ctx: [need("fast", ctx.aws.slow("a"))]),
            need("fast", "b"),
            Then(lambda ctx: [need("after_fast", ctx.aws.fast("b"))]),
        ]

    started = time.monotonic()
    allowed = Gatherer(FactSources(aws=Facts())).gather_for(_check(needs), _ctx(Facts()))
    assert order == ["after_fast read", "slow answered"]
    assert time.monotonic() - started < WAIT_S
    assert need("after_fast", "b").key in allowed and need("slow", "a").key in allowed


def test_a_follow_up_may_read_what_a_sibling_chain_declares_at_its_depth() -> None:
    """As when every chain went one stage at a time: a follow-up that reads what another
    chain of the check declares at the same depth gets it (run again once that chain is
    done), and nothing is undeclared in the end."""
    seen: list[str] = []
    slow_x2 = threading.Event()

    class Facts:
        region = "us-west-2"

        def x(self, name: str) -> str:
            return name

        def x2(self, name: str) -> str:
            slow_x2.wait(0.3)  # the other chain goes first
            return name

        def y(self, name: str) -> str:
            return name

    def reads_sibling(ctx: Any) -> list[Any]:
        seen.append(ctx.aws.y("y2"))
        return []

    def needs(spec: Any, plan: Any) -> list[Any]:
        return [
            need("x", "a"),
            Then(lambda ctx: [need("y", "y1"), Then(reads_sibling)]),
            need("x2", "b"),
            Then(lambda ctx: [need("y", "y2")]),
        ]

    allowed = Gatherer(FactSources(aws=Facts())).gather_for(_check(needs), _ctx(Facts()))
    assert seen == ["y2"]
    assert {need("y", "y1").key, need("y", "y2").key} <= allowed


def test_reads_that_need_no_account_go_out_beside_the_identity_check() -> None:
    """GetCallerIdentity is still the first call, but the first reads of services whose
    readers never use the caller's account (EC2, IAM, Service Quotas...) no longer wait for
    its answer; S3 (ExpectedBucketOwner) does. Bad credentials still stop the run first."""
    import boto3
    from conftest import moto_env

    from hyperpod_preflight.preflight import run_cluster_preflight

    spec = load_spec(EXAMPLES / "slurm-p5-cluster.json")
    events: list[tuple[str, str, float]] = []
    lock = threading.Lock()
    with moto_env():
        session = boto3.Session(region_name="us-west-2")

        def record(model: Any, **_: Any) -> None:
            with lock:
                events.append((model.service_model.service_name, model.name, time.monotonic()))
            if model.name == "GetCallerIdentity":
                time.sleep(0.5)
                with lock:
                    events.append(("sts", "answered", time.monotonic()))

        session.events.register("before-call", record)
        run_cluster_preflight(spec, session=session, only=["iam", "s3", "network"])
    answered = next(t for s, op, t in events if op == "answered")
    assert events[0][:2] == ("sts", "GetCallerIdentity")
    early = {s for s, op, t in events if t < answered and s != "sts"}
    assert early & {"ec2", "iam"}, events[:10]
    assert "s3" not in early and "s3control" not in early


def test_one_sts_client_a_run() -> None:
    """The identity check's client is the run's only STS client: ``identity_arn`` answers
    from what it read, so no second one is made ahead of the reads."""
    import boto3
    from conftest import moto_env

    from hyperpod_preflight.preflight import run_cluster_preflight

    spec = load_spec(EXAMPLES / "slurm-p5-cluster.json")
    made: list[str] = []
    with moto_env():
        session = boto3.Session(region_name="us-west-2")
        session.events.register(
            "creating-client-class", lambda class_attributes, **kw: made.append(kw["event_name"])
        )
        report = run_cluster_preflight(spec, session=session, only=["iam"])
    assert not [f for f in report.results if f.internal_error]
    assert [m for m in made if m.endswith(".sts")] == ["creating-client-class.sts"]
