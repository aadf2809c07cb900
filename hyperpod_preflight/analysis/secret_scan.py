"""Secrets written into lifecycle files: AWS access keys, private keys, password literals.

Every node of the cluster downloads the lifecycle prefix, and anyone who can read the bucket
can read it, so a credential there is leaked. Hits carry only a masked form of what was
found: nothing here returns or formats the secret itself. ``redact`` masks the same shapes in
any text (a tool's output quoting a line) before it goes into a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
# A secret access key: 40 characters of base64's alphabet, standing alone.
_SECRET_CANDIDATE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_KEYED_SECRET = re.compile(
    r"(?i)aws_secret_access_key[\"']?(?:\s*[:=]\s*|\s+)[\"']?(?P<v>[A-Za-z0-9/+]{40})"
    r"(?![A-Za-z0-9/+=])"
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----"
)
# password = "literal" / password: 'literal' (any language), DB_PASSWORD="x", --password=x
_QUOTED_PASSWORD = re.compile(
    r"(?i)(?<![\w])[\w.-]*(?:password|passwd)[\"']?\s*[:=]\s*(?P<q>[\"'])(?P<v>[^\"'\n]*)(?P=q)"
)
# Shell only: PASSWORD=literal without quotes.
_BARE_PASSWORD = re.compile(
    r"(?i)(?<![\w])[\w-]*(?:password|passwd)=(?P<v>[^\s\"'$`;&|()<>]+)(?=[\s;&|)]|$)"
)


@dataclass(frozen=True)
class SecretHit:
    """A secret found on ``line``: ``what`` says which kind, masked, never the value."""

    line: int
    kind: str  # "aws-access-key", "aws-access-key-id", "private-key", "password"
    what: str


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _is_secret_shaped(value: str) -> bool:
    """Base64 noise, not a path or a hex digest: mixed case and at least one digit or sign."""
    return (
        "EXAMPLE" not in value
        and any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() or c in "/+" for c in value)
    )


def _placeholder(value: str) -> bool:
    v = value.strip()
    return (
        not v
        or "$" in v
        or "{{" in v
        or "%(" in v
        or (v.startswith("<") and v.endswith(">"))
        or set(v) <= {"*", "x", "X", "."}
    )


def mask_key_id(key_id: str) -> str:
    return key_id[:4] + "*" * (len(key_id) - 4)


def find_secrets(text: str, *, shell: bool = False) -> list[SecretHit]:
    """Secrets in ``text``; ``shell`` adds unquoted ``PASSWORD=value`` assignments."""
    hits: list[SecretHit] = []
    key_ids = [m for m in _ACCESS_KEY_ID.finditer(text) if not m.group().endswith("EXAMPLE")]
    keyed = [m for m in _KEYED_SECRET.finditer(text) if "EXAMPLE" not in m.group("v")]
    candidates = [m for m in _SECRET_CANDIDATE.finditer(text) if _is_secret_shaped(m.group())]
    for m in keyed:
        hits.append(
            SecretHit(
                _line_of(text, m.start("v")),
                "aws-access-key",
                "an AWS secret access key (40 characters, masked) assigned to "
                "aws_secret_access_key",
            )
        )
    for m in key_ids:
        if keyed:
            continue  # already reported with its secret
        line = _line_of(text, m.start())
        if candidates:
            secret_line = _line_of(text, candidates[0].start())
            hits.append(
                SecretHit(
                    line,
                    "aws-access-key",
                    f"AWS access key id {mask_key_id(m.group())} with a 40-character secret "
                    f"access key (masked) on line {secret_line}",
                )
            )
        else:
            hits.append(
                SecretHit(
                    line,
                    "aws-access-key-id",
                    f"AWS access key id {mask_key_id(m.group())} (no secret key found beside it)",
                )
            )
    for m in _PRIVATE_KEY.finditer(text):
        hits.append(SecretHit(_line_of(text, m.start()), "private-key", "a private key block"))
    patterns = [_QUOTED_PASSWORD, _BARE_PASSWORD] if shell else [_QUOTED_PASSWORD]
    seen: set[int] = set()
    for pattern in patterns:
        for m in pattern.finditer(text):
            value = m.group("v")
            line = _line_of(text, m.start("v"))
            if _placeholder(value) or line in seen:
                continue
            seen.add(line)
            hits.append(
                SecretHit(line, "password", f"a password literal ({len(value)} characters, masked)")
            )
    return sorted(hits, key=lambda h: (h.line, h.kind))


def redact(text: str) -> str:
    """``text`` with access key ids, secret-shaped strings and password values masked."""
    text = _ACCESS_KEY_ID.sub(lambda m: mask_key_id(m.group()), text)
    text = _SECRET_CANDIDATE.sub(
        lambda m: "*" * 40 if _is_secret_shaped(m.group()) else m.group(), text
    )
    text = _QUOTED_PASSWORD.sub(
        lambda m: m.group()[: m.start("v") - m.start()] + "***" + m.group("q"), text
    )
    return _BARE_PASSWORD.sub(lambda m: m.group()[: m.start("v") - m.start()] + "***", text)
