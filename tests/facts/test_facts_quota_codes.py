"""The per-user quota-code cache: a second run reads SageMaker quotas by code (no listing
pages) with the same findings; a stale or foreign code falls back to the listings and is
corrected; a corrupt file is ignored and rewritten; values are never cached."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import moto_env
from quota_stubs import (
    CLUSTER_QUOTAS,
    EC2_VPC_QUOTAS,
    P5,
    P5_CODE,
    ServiceQuotasFake,
    create_existing_clusters,
    default_account,
    fresh_facts,
    sagemaker_quotas,
    slurm_config,
)

from hyperpod_preflight import cache
from hyperpod_preflight.facts.quotas import normalize_quota_name
from hyperpod_preflight.preflight import run_cluster_preflight
from hyperpod_preflight.spec import load_spec

P5_QUOTA = f"{P5} for cluster usage"
PER_CLUSTER, TOTAL, EBS = (CLUSTER_QUOTAS[k] for k in ("per_cluster", "total", "ebs"))
SAGEMAKER_CHECKS = [
    "quotas.instance-type",
    "quotas.instances-per-cluster",
    "quotas.instances-total",
    "quotas.ebs-volume-size",
]
LISTINGS = ("ListServiceQuotas", "ListAWSDefaultServiceQuotas")


@pytest.fixture(scope="module")
def world() -> Iterator[None]:
    import boto3

    with moto_env():
        create_existing_clusters(boto3.client("sagemaker", region_name="us-west-2"))
        yield


@pytest.fixture(autouse=True)
def _lifted(_fail_closed_env: None, monkeypatch: pytest.MonkeyPatch, world: None) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def account(changes: dict[str, float | None] | None = None) -> ServiceQuotasFake:
    """The standard account; the P5 quota also has an AWS default (0), so a run by code
    must report it alongside the applied value, as the listings do."""
    applied, defaults = sagemaker_quotas(applied=default_account(changes), defaults={P5_QUOTA: 0})
    return ServiceQuotasFake(applied + EC2_VPC_QUOTAS, defaults)


def run(fake: ServiceQuotasFake, *, use_cache: bool = True) -> tuple[list[Any], Any]:
    """The four SageMaker quota checks of the standard config, on fresh facts."""
    facts = fresh_facts()
    facts.quota_code_cache = use_cache
    fake.attach(facts)
    spec = load_spec(slurm_config([], []))
    report = run_cluster_preflight(spec, facts=facts, only=SAGEMAKER_CHECKS)
    findings = sorted(
        (f.check_id, f.resource, f.status.value, f.message, json.dumps(f.details, sort_keys=True))
        for f in report.results
    )
    return findings, facts


def cached_codes() -> dict[str, Any]:
    document = json.loads(cache.quota_codes_path().read_text())
    assert document["version"] == 1
    codes: dict[str, Any] = document["services"]["sagemaker"]
    return codes


def test_second_run_reads_by_code_without_paging_and_finds_the_same() -> None:
    cold = account()
    first, _ = run(cold)
    assert cold.calls("ListServiceQuotas") == 3 and cold.calls("ListAWSDefaultServiceQuotas") == 3
    codes = cached_codes()
    assert codes[normalize_quota_name(P5_QUOTA)]["code"] == P5_CODE
    assert codes[normalize_quota_name(PER_CLUSTER[0])]["code"] == PER_CLUSTER[1]
    # codes and the day they were learned, never a value
    assert all(set(entry) == {"code", "learned"} for entry in codes.values())
    assert len(codes) > 250  # every listed code is learned, not only this config's

    warm = account()
    second, facts = run(warm)
    assert second == first
    assert all(warm.calls(op) == 0 for op in LISTINGS)
    # P5, the m5 types, per-cluster, total, EBS: one GetServiceQuota each; every one has an
    # applied value here, so no default is read (the findings, details included, are equal)
    assert warm.calls("GetServiceQuota") == 6
    assert warm.calls("GetAWSDefaultServiceQuota") == 0
    assert facts.calls["service-quotas:GetServiceQuota"] == 6


def test_by_code_the_default_is_read_only_for_a_quota_without_an_applied_value() -> None:
    """P5 at its default (no applied value): its GetServiceQuota says no such resource, then
    its default is read; the five with applied values need no default read. The findings
    are those of the listings."""
    listed, _ = run(account({P5_QUOTA: None}), use_cache=False)
    run(account({P5_QUOTA: None}))  # learns the codes
    warm = account({P5_QUOTA: None})
    by_code, _ = run(warm)
    assert by_code == listed
    assert warm.calls("GetServiceQuota") == 6
    assert warm.calls("GetAWSDefaultServiceQuota") == 1
    p5 = next(f for f in by_code if f[0] == "quotas.instance-type" and f[1] == P5_QUOTA)
    assert "AWS default" in p5[3], p5


def test_values_are_read_fresh_on_every_run() -> None:
    run(account())
    short, _ = run(account({P5_QUOTA: 3}))  # 3 in use + 4 needed > 3
    p5 = next(f for f in short if f[0] == "quotas.instance-type" and f[1] == P5_QUOTA)
    assert p5[2] == "FAIL" and "quota 3 (applied)" in p5[3]


def test_stale_and_foreign_codes_fall_back_to_the_listings_with_the_same_findings() -> None:
    reference, _ = run(account(), use_cache=False)
    assert not cache.quota_codes_path().exists()  # --no-cache neither reads nor writes
    run(account())
    document = json.loads(cache.quota_codes_path().read_text())
    learned = document["services"]["sagemaker"]
    # P5's code now names another quota; "total" has a code that no longer exists
    learned[normalize_quota_name(P5_QUOTA)]["code"] = PER_CLUSTER[1]
    learned[normalize_quota_name(TOTAL[0])]["code"] = "L-DEADBEEF"
    # a quota that disappeared from the account since it was learned
    gone = normalize_quota_name("ml.p4de.24xlarge for cluster usage")
    learned[gone] = {
        "code": "L-00000000",
        "learned": learned[normalize_quota_name(P5_QUOTA)]["learned"],
    }
    cache.quota_codes_path().write_text(json.dumps(document))

    fake = account()
    found, _ = run(fake)
    assert found == reference
    assert fake.calls("ListServiceQuotas") == 3  # paged once, shared by both fallbacks
    codes = cached_codes()
    assert codes[normalize_quota_name(P5_QUOTA)]["code"] == P5_CODE  # corrected
    assert codes[normalize_quota_name(TOTAL[0])]["code"] == TOTAL[1]
    assert gone in codes  # not asked for this run: left alone

    facts = fresh_facts()
    facts.quota_code_cache = True
    account().attach(facts)
    assert facts.sagemaker_quota("ml.p4de.24xlarge for cluster usage") is None
    assert gone not in cached_codes()  # neither listing holds it: forgotten


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00garbage",
        b'{"version": 1, "services": {"sagemaker": ["L-1"]}}',
        b'{"version": 1, "services": {"sagemaker": {"ml.p5.48xlarge for cluster usage": '
        b'{"code": 7, "learned": "yesterday"}}}}',
        b'{"version": 99, "services": {}}',
        b"[]",
    ],
)
def test_a_corrupt_cache_file_is_ignored_and_rewritten(content: bytes) -> None:
    reference, _ = run(account(), use_cache=False)
    path = cache.quota_codes_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    fake = account()
    found, _ = run(fake)
    assert found == reference
    assert fake.calls("ListServiceQuotas") == 3
    assert cached_codes()[normalize_quota_name(P5_QUOTA)]["code"] == P5_CODE


def test_an_unreadable_or_unwritable_cache_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    reference, _ = run(account(), use_cache=False)
    found, _ = run(account())
    assert found == reference


def test_old_codes_are_learned_again() -> None:
    from datetime import date, timedelta

    run(account())
    old = date.today() - timedelta(days=cache.QUOTA_CODE_MAX_AGE_DAYS + 1)
    cache.save_quota_codes("sagemaker", {normalize_quota_name(P5_QUOTA): P5_CODE}, today=old)
    assert normalize_quota_name(P5_QUOTA) not in cache.load_quota_codes("sagemaker")
    assert normalize_quota_name(TOTAL[0]) in cache.load_quota_codes("sagemaker")


def test_reads_by_code_start_together() -> None:
    """Every quota the config needs is read at once: no GetServiceQuota answers before all
    six have started, which a one-by-one reader would wait out (and fail below)."""
    run(account())
    fake = account()
    arrived = threading.Barrier(6, timeout=5)
    together: list[bool] = []

    def gate() -> None:
        try:
            arrived.wait()
            together.append(True)
        except threading.BrokenBarrierError:
            together.append(False)

    fake.hooks["GetServiceQuota"] = gate
    found, _ = run(fake)
    assert together == [True] * 6
    assert {f[2] for f in found} == {"PASS"}
