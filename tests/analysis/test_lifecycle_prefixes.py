"""Which lifecycle prefixes a config names, with their entry scripts (pure)."""

from __future__ import annotations

from hyperpod_preflight.analysis.s3_lifecycle import entry_name, lifecycle_prefixes
from hyperpod_preflight.spec import ClusterSpec, InstanceGroup


def _group(name: str, uri: str, on_create: str | None, on_init: str | None = None) -> InstanceGroup:
    return InstanceGroup(
        name=name,
        instance_type="ml.p5.48xlarge",
        count=1,
        lifecycle_source_s3_uri=uri,
        lifecycle_on_create=on_create,
        lifecycle_on_init_complete=on_init,
    )


def test_groups_sharing_a_prefix_list_each_entry_once() -> None:
    spec = ClusterSpec(
        name="c",
        instance_groups=(
            _group("a", "s3://sagemaker-b/lc/", "./on_create.sh"),
            _group("b", "s3://sagemaker-b/lc", "on_create.sh", "init.sh"),
            _group("c", "s3://sagemaker-other/x/", None),
        ),
    )
    (only,) = lifecycle_prefixes(spec)
    assert (only.bucket, only.prefix, only.entries) == (
        "sagemaker-b",
        "lc/",
        ("on_create.sh", "init.sh"),
    )
    assert only.uri == "s3://sagemaker-b/lc/"


def test_entry_names_lose_only_a_leading_dot_slash() -> None:
    assert entry_name("./on_create.sh") == "on_create.sh"
    assert entry_name("././x.sh") == "x.sh"
    # A hidden file keeps its dot (str.lstrip("./") used to make it "hidden.sh").
    assert entry_name(".hidden.sh") == ".hidden.sh"
