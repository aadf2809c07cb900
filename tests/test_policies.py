"""Every IAM action in policies/ names a real API operation of its service."""

from __future__ import annotations

import json

import botocore.session
import pytest
from conftest import REPO

from hyperpod_preflight.facts.core import ACTION_OF_OPERATION

# IAM prefix -> botocore service name, where they differ.
SERVICE_FOR_PREFIX = {"servicequotas": "service-quotas"}
POLICIES = sorted((REPO / "policies").glob("*.json"))


def _actions(doc: dict[str, object]) -> list[str]:
    out: list[str] = []
    for statement in doc["Statement"]:  # type: ignore[attr-defined]
        listed = statement["Action"]
        out += [listed] if isinstance(listed, str) else listed
    return out


@pytest.mark.parametrize("path", POLICIES, ids=[p.name for p in POLICIES])
def test_policy_actions_are_real_operations(path: object) -> None:
    doc = json.loads(path.read_text())  # type: ignore[attr-defined]
    assert doc["Version"] == "2012-10-17"
    session = botocore.session.get_session()
    # Actions IAM names apart from their operation (s3:GetObject also authorizes HeadObject).
    renamed = {action: key for key, action in ACTION_OF_OPERATION.items()}
    for action in _actions(doc):
        prefix, operation = action.split(":")
        service = SERVICE_FOR_PREFIX.get(prefix, prefix)
        if action in renamed and action.split(":")[1] not in (
            session.get_service_model(service).operation_names
        ):
            service, operation = renamed[action]
        model = session.get_service_model(service)
        assert operation in model.operation_names, f"{path}: {action} is not an operation"


def test_execution_role_trust_lets_sagemaker_assume_it() -> None:
    doc = json.loads((REPO / "policies" / "execution-role-trust.json").read_text())
    (statement,) = doc["Statement"]
    assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
