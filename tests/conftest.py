"""Test-suite guard rails: fail closed, never reach AWS or the metadata address.

- fake credentials and region for every test;
- ``AWS_EC2_METADATA_DISABLED=true``;
- ``AWS_ENDPOINT_URL`` points at a closed loopback port by default, so a test that forgets
  moto gets "connection refused" instead of reaching AWS; the ``moto_env`` helper lifts it
  inside ``mock_aws`` (moto intercepts AWS's own host names in-process);
- pytest-socket (``--allow-hosts`` in pyproject) refuses every connection off loopback.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

LOOPBACK_ENDPOINT = "http://127.0.0.1:9"
REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SHARED = REPO.parent / "shared"

_SAFE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-west-2",
    "AWS_REGION": "us-west-2",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ENDPOINT_URL": LOOPBACK_ENDPOINT,
    "AWS_CONFIG_FILE": "/nonexistent/hp-preflight-tests/config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/hp-preflight-tests/credentials",
    "NO_COLOR": "1",
}

for _name in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_") or k == "AWS_PROFILE"]:
    del os.environ[_name]
os.environ.update(_SAFE_ENV)


# The per-user cache and lock files (``$XDG_CACHE_HOME/hyperpod-preflight``) never touch the
# real home: a throw-away folder for the session, and a fresh one per test below.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="hp-preflight-tests-cache-")


@pytest.fixture(autouse=True)
def _fail_closed_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Restore the safe environment before every test, whatever the last one changed."""
    for name, value in _SAFE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture(scope="session")
def _fake_tools_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tool_fakes import healthy_tools

    return healthy_tools(tmp_path_factory.mktemp("fake-tools"))


@pytest.fixture(autouse=True)
def _healthy_local_tools(_fake_tools_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`check` runs the `tools` checks on this machine's PATH: every test sees the same
    healthy fake aws, session-manager-plugin, kubectl, helm, eksctl and hyp first on PATH,
    so results never depend on what the machine running the tests has installed."""
    monkeypatch.setenv("PATH", f"{_fake_tools_dir}{os.pathsep}{os.environ.get('PATH', '')}")


@contextlib.contextmanager
def moto_env() -> Iterator[None]:
    """``mock_aws`` with the loopback endpoint lifted (moto matches AWS host names)."""
    from moto import mock_aws

    saved = os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            yield
    finally:
        if saved is not None:
            os.environ["AWS_ENDPOINT_URL"] = saved


@pytest.fixture
def lifted_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lift the loopback default endpoint for one test that runs inside a module-scoped
    ``moto_env()`` (the autouse fixture above restores it before every test)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


# -- least privilege: record every AWS action the project's own code calls ------------------
# Clients created from inside hyperpod_preflight get a botocore ``before-call`` handler that
# records the IAM action; at the end of the run every recorded action must be granted by
# policies/ (see tests/test_least_privilege.py, which also checks the other direction).
RECORDED_ACTIONS: set[str] = set()
_PACKAGE_DIR = str(REPO / "hyperpod_preflight")
_SANDBOX_DIR = str(REPO / "hyperpod_preflight" / "sandbox")


def _record_action(model: object, **_: object) -> None:
    # The facts layer's own operation → IAM action names (S3's HeadObject is s3:GetObject).
    from hyperpod_preflight.facts.core import action_name

    service = model.service_model  # type: ignore[attr-defined]
    prefix = service.signing_name or service.endpoint_prefix
    operation = model.name  # type: ignore[attr-defined]
    RECORDED_ACTIONS.add(action_name(service.service_name, prefix, operation))


def _install_recorder() -> None:
    import sys

    try:
        import botocore.session
    except ImportError:  # a GPU node running only the host tests has no botocore
        return

    original = botocore.session.Session.create_client
    if getattr(original, "_hp_recording", False):
        return

    def create_client(self: object, *args: object, **kwargs: object) -> object:
        client = original(self, *args, **kwargs)  # type: ignore[arg-type]
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename.startswith(_PACKAGE_DIR):
                # the sandbox builds an account as its administrator would: not the tool's reads
                if not frame.f_code.co_filename.startswith(_SANDBOX_DIR):
                    client.meta.events.register("before-call", _record_action)
                break
            frame = frame.f_back  # type: ignore[assignment]
        return client

    create_client._hp_recording = True  # type: ignore[attr-defined]
    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


_install_recorder()


def policy_actions(*names: str) -> set[str]:
    import json

    actions: set[str] = set()
    for name in names:
        doc = json.loads((REPO / "policies" / f"{name}.json").read_text())
        for statement in doc["Statement"]:
            listed = statement["Action"]
            actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    granted = policy_actions("hp-preflight-readonly", "hp-preflight-quota-requests")
    missing = sorted(RECORDED_ACTIONS - granted)
    if missing:
        print(f"\nleast privilege: the code called actions no policy grants: {missing}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
