"""IAM policy documents: parsing and a pure evaluator of AWS's decision logic.

The evaluator answers "may this principal call ``action`` on ``resource``?" from the policy
documents the facts layer read (identity policies, an optional permissions boundary, an optional
resource policy), following AWS's "Policy evaluation logic"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):

- an explicit ``Deny`` that applies, in any policy, wins;
- otherwise an ``Allow`` is needed from an identity policy, or (same account) from a resource
  policy that names the principal; across accounts both sides must allow;
- a permissions boundary never grants; when one is given the action must also be allowed by it
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html). A resource
  policy's grant escapes the boundary only for an IAM user, or for the exact role-session ARN.

It never guesses. A ``Condition`` it cannot evaluate from the request context it was given makes
the answer CONDITIONAL (naming the statement and the condition); a policy variable it cannot
resolve, an unknown principal or a malformed policy make it UNRESOLVED. Both are "cannot tell",
never a pass or a fail. Service control policies, session policies and anything else not handed
in are outside its view.

Matching (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html):
actions are case-insensitive, resources case-sensitive, both with ``*`` (any run of characters,
``/`` and ``:`` included) and ``?`` (one character).

Modules: ``model`` (documents, requests and answers as data), ``parse`` (documents into
``Policy``), ``conditions`` (three-valued matching of actions, resources, policy variables and
``Condition`` operators), ``principals`` (who is asking, and whether a ``Principal`` names them),
``evaluate`` (the decision logic and the entry points). Import from this package.
"""

from __future__ import annotations

from .evaluate import (
    evaluate,
    evaluate_many,
    evaluate_requests,
    missing_actions,
    public_grants,
    summarize,
    trust_allows,
)
from .model import (
    AccessSummary,
    Condition,
    Context,
    Decision,
    DecisionStatus,
    Document,
    Effect,
    IdentityPolicies,
    Policy,
    PolicyKind,
    PolicyLike,
    PolicyProblem,
    PublicGrant,
    Request,
    Statement,
    StatementRef,
    Uncertainty,
    UncertaintyKind,
)
from .parse import parse_policy

__all__ = [
    "AccessSummary",
    "Condition",
    "Context",
    "Decision",
    "DecisionStatus",
    "Document",
    "Effect",
    "IdentityPolicies",
    "Policy",
    "PolicyKind",
    "PolicyLike",
    "PolicyProblem",
    "PublicGrant",
    "Request",
    "Statement",
    "StatementRef",
    "Uncertainty",
    "UncertaintyKind",
    "evaluate",
    "evaluate_many",
    "evaluate_requests",
    "missing_actions",
    "parse_policy",
    "public_grants",
    "summarize",
    "trust_allows",
]
