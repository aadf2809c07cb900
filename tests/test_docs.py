"""docs/checks.md is generated from the registry and must match it."""

from __future__ import annotations

from conftest import REPO

from hyperpod_preflight.docs import checks_reference
from hyperpod_preflight.registry import all_checks


def test_checks_reference_is_up_to_date() -> None:
    current = (REPO / "docs" / "checks.md").read_text()
    assert current == checks_reference(), (
        "docs/checks.md is stale: run `python -m hyperpod_preflight.docs > docs/checks.md`"
    )


def test_every_docs_url_points_at_its_heading() -> None:
    text = (REPO / "docs" / "checks.md").read_text()
    for check in all_checks("cluster") + all_checks("host"):
        path, anchor = check.info.docs_url.split("#")
        assert path == "docs/checks.md"
        assert f"#### `{check.check_id}`" in text
        assert anchor == check.check_id.replace(".", "")


def test_every_check_says_what_it_checks_in_one_line() -> None:
    """docs/checks.md shows each check's docstring summary beside its id."""
    from hyperpod_preflight.registry import all_checks

    for kind in ("cluster", "host"):
        for check in all_checks(kind):
            assert check.summary, f"{check.check_id} has no docstring"
            assert len(check.summary) <= 100, check.check_id
