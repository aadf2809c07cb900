"""An EKS (and STS identity) answerer for the parts moto lacks or drops: ``accessConfig``,
``vpcId`` and the cluster security group in ``DescribeCluster``, ``DescribeAddon``, access
entries, and an assumed-role caller. Every canned body is validated against botocore's
output shape first (``aws_world.validated``).

Attach it to the clients the code under test uses (``facts.client("eks")``,
``facts.client("sts")``); operations it does not know fall through to moto.
"""

from __future__ import annotations

import urllib.parse
from datetime import datetime
from typing import Any

import botocore.awsrequest
from aws_world import ACCOUNT, REGION, validated

ASSUMED = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/Admin"


def cluster_body(
    name: str = "ml",
    *,
    vpc_id: str = "vpc-0123456789abcdef0",
    status: str = "ACTIVE",
    version: str = "1.31",
    mode: str | None = "API_AND_CONFIG_MAP",
    cluster_sg: str | None = "sg-0cccccccccccccccc",
    private: bool | None = True,
    public: bool | None = True,
    public_cidrs: tuple[str, ...] = ("0.0.0.0/0",),
) -> dict[str, Any]:
    """A ``DescribeCluster`` body (None drops a field, as moto does)."""
    config: dict[str, Any] = {"subnetIds": [], "securityGroupIds": [], "vpcId": vpc_id}
    if cluster_sg:
        config["clusterSecurityGroupId"] = cluster_sg
    if private is not None:
        config["endpointPrivateAccess"] = private
    if public is not None:
        config["endpointPublicAccess"] = public
        config["publicAccessCidrs"] = list(public_cidrs)
    cluster: dict[str, Any] = {
        "name": name,
        "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}",
        "createdAt": datetime(2026, 1, 1),
        "version": version,
        "status": status,
        "resourcesVpcConfig": config,
    }
    if mode:
        cluster["accessConfig"] = {"authenticationMode": mode}
    return {"cluster": cluster}


class EksFake:
    """A ``before-call`` handler answering EKS reads from dictionaries; ``errors`` maps an
    operation name to an error code answered for every call of it."""

    def __init__(
        self,
        clusters: dict[str, dict[str, Any]] | None = None,
        *,
        addons: dict[str, str] | None = None,
        entries: dict[str, dict[str, Any]] | None = None,
        caller: str = ASSUMED,
        errors: dict[str, str] | None = None,
    ) -> None:
        self.clusters = {
            n: validated("eks", "DescribeCluster", b) for n, b in (clusters or {}).items()
        }
        self.addons = dict(addons or {})  # "cluster/addon" -> version
        # principal ARN -> {"groups": [...], "policies": [...]}
        self.entries = dict(entries or {})
        self.caller = caller
        self.errors = dict(errors or {})
        self.calls: list[str] = []

    def attach(self, *clients: Any) -> EksFake:
        for client in clients:
            client.meta.events.register("before-call", self)
        return self

    def __call__(
        self, params: dict[str, Any], model: Any, **_: Any
    ) -> tuple[Any, dict[str, Any]] | None:
        name = model.name
        if name == "GetCallerIdentity":
            if not self.caller:
                return None
            body = {"Account": ACCOUNT, "Arn": self.caller, "UserId": "AROAEXAMPLE:alice"}
            return self._ok("sts", name, body)
        if model.service_model.service_name != "eks":
            return None
        self.calls.append(name)
        if name in self.errors:
            code = self.errors[name]
            return self._error(code, 403 if "AccessDenied" in code else 400)
        path = [urllib.parse.unquote(p) for p in params["url_path"].split("?")[0].split("/")]
        # /clusters/{name}[/addons/{addon} | /access-entries[/{arn}[/access-policies]]]
        cluster = path[2]
        if name == "DescribeCluster":
            if cluster not in self.clusters:
                return self._error("ResourceNotFoundException", 404)
            return self._ok("eks", name, self.clusters[cluster])
        if name == "DescribeAddon":
            version = self.addons.get(f"{cluster}/{path[4]}")
            if version is None:
                return self._error("ResourceNotFoundException", 404)
            addon = {"addonName": path[4], "clusterName": cluster, "addonVersion": version}
            return self._ok("eks", name, {"addon": addon})
        if name == "ListAccessEntries":
            return self._ok("eks", name, {"accessEntries": list(self.entries)})
        principal = path[4]
        entry = self.entries.get(principal)
        if entry is None:
            return self._error("ResourceNotFoundException", 404)
        if name == "DescribeAccessEntry":
            body = {
                "accessEntry": {
                    "clusterName": cluster,
                    "principalArn": principal,
                    "kubernetesGroups": list(entry.get("groups", [])),
                    "type": "STANDARD",
                }
            }
            return self._ok("eks", name, body)
        if name == "ListAssociatedAccessPolicies":
            policies = [
                {
                    "policyArn": f"arn:aws:eks::aws:cluster-access-policy/{p}",
                    "accessScope": {"type": "cluster"},
                }
                for p in entry.get("policies", [])
            ]
            body = {"clusterName": cluster, "principalArn": principal}
            return self._ok("eks", name, {**body, "associatedAccessPolicies": policies})
        return None

    @staticmethod
    def _ok(service: str, operation: str, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        meta = {"HTTPStatusCode": 200, "RequestId": "stub", "HTTPHeaders": {}}
        return _http(200), {**validated(service, operation, body), "ResponseMetadata": meta}

    @staticmethod
    def _error(code: str, status: int) -> tuple[Any, dict[str, Any]]:
        return _http(status), {
            "Error": {"Code": code, "Message": f"{code} (injected)"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "stub", "HTTPHeaders": {}},
        }


def _http(status: int) -> Any:
    return botocore.awsrequest.AWSResponse("https://example.invalid/", status, {}, None)
