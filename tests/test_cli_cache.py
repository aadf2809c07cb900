"""`hp-preflight cache clear` and `--no-cache` as a user meets them (no AWS access)."""

from __future__ import annotations

import pytest

from hyperpod_preflight import cache
from hyperpod_preflight.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_cache_clear_forgets_the_codes_and_keeps_the_locks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cache.save_quota_codes("sagemaker", {"ml.p5.48xlarge for cluster usage": "L-1"})
    with cache.exclusive_lock("123456789012-us-west-2") as lock:
        code, out, _ = run_cli(["cache", "clear"], capsys)
        assert lock.exists()
    assert code == 0
    assert f"removed {cache.quota_codes_path()}" in out
    assert not cache.quota_codes_path().exists()
    assert cache.load_quota_codes("sagemaker") == {}
    code, out, _ = run_cli(["cache", "clear"], capsys)
    assert code == 0 and "nothing to clear" in out


@pytest.mark.parametrize("command", [["check"], ["quotas"], ["quotas", "request"]])
def test_no_cache_is_offered_where_quotas_are_read(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli([*command, "--help"], capsys)
    assert code == 0 and "--no-cache" in out


def test_cache_clear_that_cannot_remove_the_file_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cache.quota_codes_path().mkdir(parents=True)  # in its place, a folder
    code, _, err = run_cli(["cache", "clear"], capsys)
    assert code == 3
    assert "internal error" not in err
    assert str(cache.quota_codes_path()) in err
    assert len(err.strip().splitlines()) == 1
