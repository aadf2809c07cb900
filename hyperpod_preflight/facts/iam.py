"""IAM readers: the roles a cluster config names, their policies, the HyperPod
service-linked role, and the policy simulator (mixin of
:class:`~hyperpod_preflight.facts.AwsFacts`).

Cost, per distinct role the config names (never per instance group): ``GetRole``,
``ListAttachedRolePolicies`` and ``ListRolePolicies`` (one page each for normal roles),
``GetRolePolicy`` per inline policy, and ``GetPolicy`` + ``GetPolicyVersion`` per attached
managed policy and for the permissions boundary. A managed policy attached to several roles
is read once. The two listings go out beside ``GetRole`` (a role's policies are three round
trips deep: list, ``GetPolicy``, ``GetPolicyVersion``); for a role that does not exist they
fail and are not used. When IAM will not return the document of the AWS managed policy
``AmazonSageMakerClusterInstanceRolePolicy``, AWS's published copy stands in and the result
says so (``RolePolicies.substituted``). Policy documents come back from IAM URL-encoded;
botocore decodes them into dicts (the evaluator also accepts text, should an endpoint leave
them encoded).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..analysis.iam_requirements import MANAGED_POLICY_NAME, managed_policy_document
from ..errors import FactUnavailable
from ..records import RolePolicies, SimulatedDecision
from ..workers import DaemonPool
from .core import FactsCore, memoized

SERVICE_LINKED_ROLE_NAME = "AWSServiceRoleForSageMakerHyperPod"
_NO_ENTITY = ("NoSuchEntity", "NoSuchEntityException")
_POOL = 8  # concurrent policy reads of one role
_PUBLISHED_MARK = object()  # "use AWS's published copy of the managed policy"


class IamFacts(FactsCore):
    """IAM readers: memoized, one set of calls per role named."""

    @memoized
    def role(self, name: str) -> dict[str, Any] | None:
        """``GetRole``'s ``Role`` (trust policy as a dict), or None when it does not exist."""
        resp = self.call("iam", "GetRole", none_on=_NO_ENTITY, RoleName=name)
        return None if resp is None else dict(resp["Role"])

    @memoized
    def attached_role_policies(self, name: str) -> tuple[str, ...]:
        """The ARNs of the managed policies attached to role ``name``."""
        attached = self.paginate(
            "iam", "ListAttachedRolePolicies", "AttachedPolicies", RoleName=name
        )
        arns = [p.get("PolicyArn") for p in attached]
        if not all(isinstance(arn, str) and arn for arn in arns):
            raise FactUnavailable(
                "iam:ListAttachedRolePolicies", "error", f"a policy of {name} listed without ARN"
            )
        return tuple(dict.fromkeys(str(arn) for arn in arns))

    @memoized
    def managed_policy(self, arn: str) -> Any:
        """The default version's document of managed policy ``arn``."""
        policy = self.call("iam", "GetPolicy", PolicyArn=arn).get("Policy") or {}
        default = policy.get("DefaultVersionId")
        if not isinstance(default, str):
            raise FactUnavailable("iam:GetPolicy", "error", f"no DefaultVersionId for {arn}")
        version = self.call("iam", "GetPolicyVersion", PolicyArn=arn, VersionId=default)
        document = (version.get("PolicyVersion") or {}).get("Document")
        if document is None:
            raise FactUnavailable("iam:GetPolicyVersion", "error", f"no Document for {arn}")
        return document

    @memoized
    def inline_role_policies(self, name: str) -> dict[str, Any]:
        """``{policy name: document}`` of role ``name``'s inline policies."""
        names = [
            str(n) for n in self.paginate("iam", "ListRolePolicies", "PolicyNames", RoleName=name)
        ]
        if not names:
            return {}
        with DaemonPool(min(_POOL, len(names)), name="iam-inline") as pool:
            docs = pool.map(
                lambda n: self.call("iam", "GetRolePolicy", RoleName=name, PolicyName=n)[
                    "PolicyDocument"
                ],
                names,
            )
            return dict(zip(names, docs, strict=True))

    @memoized
    def role_policies(self, name: str) -> RolePolicies | None:
        """Every policy of role ``name`` (managed, inline, boundary); None when the role does
        not exist. Raises :class:`~hyperpod_preflight.errors.FactUnavailable` when any of
        them cannot be read: a partial set could hide a Deny."""
        with DaemonPool(_POOL, name="iam-policies") as pool:
            # The policy listings go out beside GetRole (one round trip, not two); a role
            # that does not exist makes them fail, and their answers are then not used.
            inline = pool.submit(self.inline_role_policies, name)
            attached = pool.submit(self.attached_role_policies, name)
            role = self.role(name)
            if role is None:
                return None
            boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if boundary_arn:  # its read starts beside the listing's
                boundary = pool.submit(self._managed_or_published, boundary_arn)
            arns = attached.result()
            wanted = [a for a in dict.fromkeys(arns) if a != boundary_arn]
            docs = dict(zip(wanted, pool.map(self._managed_or_published, wanted), strict=True))
            if boundary_arn:
                docs[boundary_arn] = boundary.result()
            inline_docs = inline.result()
        substituted = tuple(arn for arn in wanted if docs[arn] is _PUBLISHED_MARK)
        docs = {
            arn: managed_policy_document(arn.split(":")[1]) if doc is _PUBLISHED_MARK else doc
            for arn, doc in docs.items()
        }
        return RolePolicies(
            role_name=name,
            role_arn=str(role.get("Arn", "")),
            managed={arn: docs[arn] for arn in arns},
            inline=inline_docs,
            boundary_arn=boundary_arn,
            boundary=docs[boundary_arn] if boundary_arn else None,
            substituted=substituted,
        )

    def _managed_or_published(self, arn: str) -> Any:
        """``managed_policy(arn)``; for ``AmazonSageMakerClusterInstanceRolePolicy`` only, a
        marker for AWS's published copy when IAM will not give its document (identities are
        often allowed ``iam:GetPolicy`` on their own account's policies only)."""
        try:
            return self.managed_policy(arn)
        except FactUnavailable:
            if arn.split(":", 2)[-1] == f"iam::aws:policy/{MANAGED_POLICY_NAME}":
                return _PUBLISHED_MARK
            raise

    def service_linked_role_exists(self) -> bool:
        """Whether ``AWSServiceRoleForSageMakerHyperPod`` exists in the account."""
        return self.role(SERVICE_LINKED_ROLE_NAME) is not None

    @memoized
    def identity_arn(self) -> str:
        """The ARN of the identity running hp-preflight (``GetCallerIdentity``, which
        ``verify_identity`` has normally read already)."""
        if self.caller_arn:
            return self.caller_arn
        ident = self.call("sts", "GetCallerIdentity")
        self.account = self.account or ident.get("Account")
        self.caller_arn = str(ident["Arn"])
        return self.caller_arn

    def simulate_principal_policy(
        self,
        source_arn: str,
        actions: Iterable[str],
        resources: Iterable[str],
        context: Iterable[tuple[str, str]] = (),
    ) -> tuple[SimulatedDecision, ...]:
        """``iam:SimulatePrincipalPolicy`` for every action on every resource, one answer
        per pair; ``context`` entries are string keys with one value each."""
        return self._simulate(
            source_arn,
            tuple(dict.fromkeys(actions)),
            tuple(dict.fromkeys(resources)),
            tuple(sorted(dict(context).items())),
        )

    @memoized
    def _simulate(
        self,
        source_arn: str,
        actions: tuple[str, ...],
        resources: tuple[str, ...],
        context: tuple[tuple[str, str], ...],
    ) -> tuple[SimulatedDecision, ...]:
        entries = [
            {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"}
            for k, v in context
        ]
        results = self.paginate(
            "iam",
            "SimulatePrincipalPolicy",
            "EvaluationResults",
            PolicySourceArn=source_arn,
            ActionNames=list(actions),
            ResourceArns=list(resources),
            ContextEntries=entries,
        )
        out: list[SimulatedDecision] = []
        for result in results:
            action = str(result.get("EvalActionName", ""))
            overall = tuple(result.get("MissingContextValues") or ())
            specific = result.get("ResourceSpecificResults") or []
            if not specific:
                out.append(
                    SimulatedDecision(
                        action,
                        str(result.get("EvalResourceName", "*")),
                        str(result.get("EvalDecision", "")),
                        overall,
                    )
                )
            for item in specific:
                out.append(
                    SimulatedDecision(
                        action,
                        str(item.get("EvalResourceName", "")),
                        str(item.get("EvalResourceDecision", "")),
                        tuple(item.get("MissingContextValues") or ()) or overall,
                    )
                )
        return tuple(out)
