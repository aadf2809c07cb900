"""botocore's data files decoded once and kept: the same data as botocore's own loader, a
copy that is used only while its file is unchanged, and harmless when it cannot be written."""

from __future__ import annotations

import json
import marshal
import os
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest
from conftest import policy_actions
from test_least_privilege import IMPLICIT, actions_in_source

from hyperpod_preflight.facts import data_cache
from hyperpod_preflight.facts.core import action_name, make_session


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


def _botocore_file(name: str) -> str:
    loader = botocore.loaders.create_loader()
    _, path = loader.load_data_with_path(name)
    return str(path).removesuffix(".gz").removesuffix(".json")


@pytest.mark.parametrize(
    "name", ["ec2/2016-11-15/service-2", "endpoints", "s3/2006-03-01/paginators-1"]
)
def test_the_copy_holds_what_botocore_decodes(name: str) -> None:
    plain = botocore.loaders.JSONFileLoader()
    caching = data_cache.CachingFileLoader(plain)
    path = _botocore_file(name)
    first = caching.load_file(path)  # decoded, and kept
    assert list(caching.folder.glob("*.marshal"))
    again = caching.load_file(path)  # from the copy
    assert first == again == plain.load_file(path)
    assert json.dumps(again) == json.dumps(plain.load_file(path))  # order kept too


def test_the_copy_is_read_until_its_file_changes(tmp_path: Path) -> None:
    source = tmp_path / "data" / "thing.json"
    source.parent.mkdir()
    source.write_text('{"a": 1}')
    caching = data_cache.CachingFileLoader(botocore.loaders.JSONFileLoader())
    stem = str(source).removesuffix(".json")
    assert caching.load_file(stem) == {"a": 1}
    [copy] = caching.folder.glob("*.marshal")
    key, _data = marshal.loads(copy.read_bytes())
    copy.write_bytes(marshal.dumps((key, {"a": "from the copy"})))
    assert caching.load_file(stem) == {"a": "from the copy"}  # the copy is what is read
    source.write_text('{"a": 22}')  # another size and time: the copy is stale
    assert caching.load_file(stem) == {"a": 22}
    assert caching.load_file(stem) == {"a": 22}
    copy.write_bytes(b"not marshal")
    assert caching.load_file(stem) == {"a": 22}  # a broken copy is decoded again


def test_no_writable_cache_still_loads(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    caching = data_cache.CachingFileLoader(
        botocore.loaders.JSONFileLoader(), folder=blocker / "sub"
    )
    path = _botocore_file("sts/2011-06-15/service-2")
    assert caching.load_file(path)["metadata"]["serviceId"] == "STS"
    assert caching.load_file(str(tmp_path / "missing")) is None


def test_the_runs_own_session_uses_it_and_its_clients_work() -> None:
    session = make_session(None, "us-west-2")
    loader = session._session.get_component("data_loader")
    assert isinstance(loader.file_loader, data_cache.CachingFileLoader)
    for _ in range(2):  # decoded, then from the copies
        client = session.client("ec2", region_name="us-west-2")
        assert client.can_paginate("describe_subnets")
        assert (
            client.meta.service_model.operation_model("DescribeSubnets").name == "DescribeSubnets"
        )
    assert list(data_cache.cache_folder().glob("*.marshal"))


def test_the_service_listing_is_kept_for_the_shipped_data_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    session = make_session(None, "us-west-2")
    loader = session._session.get_component("data_loader")
    listed = loader.list_available_services("service-2")
    assert "ec2" in listed and listed == botocore.loaders.create_loader().list_available_services(
        "service-2"
    )
    assert list(data_cache.cache_folder().glob("services-*.marshal"))
    assert loader.list_available_services("service-2") == listed  # from the copy
    # A model folder of the user's may change at any time: nothing kept then.
    models = tmp_path / "models"
    (models / "ec2").mkdir(parents=True)
    monkeypatch.setenv("AWS_DATA_PATH", str(models))
    own = make_session(None, "us-west-2")._session.get_component("data_loader")
    assert isinstance(own.file_loader, data_cache.CachingFileLoader)
    assert "list_available_services" not in vars(own)


def _actions_of(operations: dict[str, frozenset[str]]) -> set[str]:
    """The IAM action of every operation in ``operations`` (as the facts layer names them)."""
    loader = botocore.session.get_session()
    found = set()
    for service, names in operations.items():
        model = loader.get_service_model(service)
        prefix = model.signing_name or model.endpoint_prefix
        found |= {action_name(service, prefix, op) for op in names}
    return found


def test_the_kept_operations_are_what_the_policies_grant_and_the_source_calls() -> None:
    granted = policy_actions("hp-preflight-readonly", "hp-preflight-quota-requests")
    kept = _actions_of(data_cache.OPERATIONS)
    assert kept == granted - IMPLICIT  # every action granted, none more
    assert actions_in_source() <= kept  # every call the facts layer can make
    for service, names in data_cache.OPERATIONS.items():  # each is an operation of botocore's
        model = botocore.session.get_session().get_service_model(service)
        assert names <= set(model.operation_names), service


def test_the_runs_clients_know_the_kept_operations_only() -> None:
    session = make_session(None, "us-west-2")
    for _ in range(2):  # trimmed, then from the copies
        ec2 = session.client("ec2", region_name="us-west-2")
        model = ec2.meta.service_model
        assert set(model.operation_names) == data_cache.OPERATIONS["ec2"]
        assert ec2.can_paginate("describe_subnets") and hasattr(ec2, "describe_vpc_attribute")
        shape = model.operation_model("DescribeSubnets").output_shape
        assert "Subnets" in shape.members
        s3 = session.client("s3", region_name="us-west-2")
        assert s3.meta.service_model.operation_model("HeadObject").name == "HeadObject"
    # a session handed in (the sandbox's, a test's) keeps botocore's whole models
    whole = botocore.session.get_session().create_client("ec2", region_name="us-west-2")
    assert "RunInstances" in whole.meta.service_model.operation_names
