"""--max-attempts N makes exactly N attempts of a call (the first one included), in both
retry modes, as its help says."""

from __future__ import annotations

import pytest
from aws_world import Injector
from fault_kit import faulty_facts, json_error, no_backoff

from hyperpod_preflight.cli.main import cli
from hyperpod_preflight.errors import FactUnavailable


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
@pytest.mark.parametrize("attempts", [1, 3])
def test_max_attempts_counts_the_first_attempt(
    monkeypatch: pytest.MonkeyPatch, mode: str, attempts: int
) -> None:
    no_backoff(monkeypatch)
    inj = Injector().always("ListServiceQuotas", lambda _r: json_error("ThrottlingException"))
    facts = faulty_facts(inj, max_attempts=attempts, retry_mode=mode)
    with pytest.raises(FactUnavailable) as err:
        facts.applied_quotas("sagemaker")
    assert err.value.reason == "throttled"
    assert inj.seen["ListServiceQuotas"] == attempts


def test_help_says_the_first_attempt_counts() -> None:
    from click.testing import CliRunner

    out = CliRunner().invoke(cli, ["check", "--help"], terminal_width=200).output
    assert "Attempts per AWS call, first one included" in " ".join(out.split())
