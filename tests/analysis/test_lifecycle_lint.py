"""The lifecycle lint, on local fixture prefixes (tests/analysis/fixtures/lifecycle/)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hyperpod_preflight as hp
from hyperpod_preflight.analysis.lifecycle import (
    LIFECYCLE_CONFIG_DOC,
    EgressInfo,
    LintFinding,
    LintLevel,
    LintReport,
    ToolResult,
    lint,
)
from hyperpod_preflight.lifecycle_local import default_run_tool, local_source
from hyperpod_preflight.results import jsonable

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lifecycle"
HAS_BASH = shutil.which("bash") is not None
HAS_SHELLCHECK = shutil.which("shellcheck") is not None
NO_EGRESS = EgressInfo(subnets_without_internet=("subnet-0aaa", "subnet-0bbb"))

needs_bash = pytest.mark.skipif(not HAS_BASH, reason="bash is not installed")


class CountingFetch:
    """A fetch that records every path asked for."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files
        self.calls: list[str] = []

    def __call__(self, path: str) -> bytes | None:
        self.calls.append(path)
        return self.files.get(path)


def lint_fixture(case: str, *entries: str, **kwargs: object) -> LintReport:
    listing, fetch = local_source(FIXTURES / case)
    kwargs.setdefault("run_tool", default_run_tool)
    return lint(entries or ("on_create.sh",), listing, fetch, **kwargs)


def lint_files(files: Mapping[str, bytes | str], *entries: str, **kwargs: object) -> LintReport:
    data = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
    listing = {k: len(v) for k, v in data.items()}
    kwargs.setdefault("run_tool", default_run_tool)
    return lint(entries or ("on_create.sh",), listing, data.get, **kwargs)


def only(report: LintReport, rule: str, file: str | None = None) -> list[LintFinding]:
    return [f for f in report.findings if f.rule == rule and (file is None or f.file == file)]


def levels(report: LintReport, rule: str, file: str | None = None) -> list[LintLevel]:
    return [f.level for f in only(report, rule, file)]


# -- the project's own reference scripts ----------------------------------------------------------
@needs_bash
def test_reference_slurm_scripts_lint_clean_against_the_example_config() -> None:
    spec = hp.load_spec(REPO / "examples" / "slurm-p5-cluster.json")
    groups = {g.name: g.slurm_node_type for g in spec.instance_groups}
    listing, fetch = local_source(REPO / "lifecycle" / "slurm")
    report = lint(
        ["on_create.sh"], listing, fetch, run_tool=default_run_tool, instance_groups=groups
    )
    assert report.at_least(LintLevel.WARN) == []
    assert set(report.reached) == {
        "on_create.sh",
        "lifecycle_script.py",
        "provisioning_parameters.json",
    }
    assert report.provisioning_files == ("provisioning_parameters.json",)


@needs_bash
def test_reference_eks_script_lints_clean() -> None:
    listing, fetch = local_source(REPO / "lifecycle" / "eks")
    report = lint(["on_create.sh"], listing, fetch, run_tool=default_run_tool)
    assert report.at_least(LintLevel.WARN) == []
    assert report.reached == ("on_create.sh",)


def test_p5_template_matches_the_example_config() -> None:
    spec = hp.load_spec(REPO / "examples" / "slurm-p5-cluster.json")
    groups = {g.name: g.slurm_node_type for g in spec.instance_groups}
    data = (REPO / "lifecycle" / "provisioning_parameters.slurm-p5.json").read_bytes()
    report = lint_files({"on_create.sh": "#!/bin/bash\nset -e\nx -pp p.json\n", "p.json": data})
    assert report.reached == ("on_create.sh", "p.json")
    report = lint(
        ["on_create.sh"],
        {"on_create.sh": 40, "p.json": len(data)},
        {"on_create.sh": b"#!/bin/bash\nset -e\nx -pp p.json\n", "p.json": data}.get,
        instance_groups=groups,
    )
    assert only(report, "provisioning-groups") == []
    assert [p.partition_names for p in spec.instance_groups if p.partition_names] == [("gpu",)]
    assert json.loads(data)["worker_groups"][0]["partition_name"] == "gpu"


# -- traversal: transitive, fetch only what is reached, size limit --------------------------------
@needs_bash
def test_references_are_followed_transitively_and_nothing_else_is_fetched() -> None:
    listing, fetch = local_source(FIXTURES / "good")
    counting = CountingFetch({p: fetch(p) or b"" for p in listing})
    report = lint(["on_create.sh"], listing, counting, run_tool=default_run_tool)
    reached = {"on_create.sh", "setup/install.sh", "setup/common.sh", "configure.py", "params.json"}
    assert set(report.reached) == reached
    assert sorted(counting.calls) == sorted(reached)  # each once, and unreached.sh never
    assert "unreached.sh" in listing
    assert report.at_least(LintLevel.WARN) == []
    assert report.provisioning_files == ("params.json",)


def test_a_50_mb_file_in_the_listing_is_not_fetched() -> None:
    files = {"on_create.sh": b"#!/bin/bash\nset -e\n./installer.run --quiet\n"}
    counting = CountingFetch(files)
    listing = {"on_create.sh": len(files["on_create.sh"]), "installer.run": 50_000_000}
    report = lint(["on_create.sh"], listing, counting)
    assert counting.calls == ["on_create.sh"]
    [big] = only(report, "too-large")
    assert (big.level, big.file) == (LintLevel.UNKNOWN, "installer.run")
    assert "50,000,000 bytes" in big.message
    assert report.worst() is not LintLevel.FAIL


def test_a_file_larger_than_its_listing_said_is_not_checked() -> None:
    report = lint(
        ["on_create.sh"], {"on_create.sh": 10}, lambda _: b"#!/bin/bash\n" * 100, max_bytes=100
    )
    assert levels(report, "too-large") == [LintLevel.UNKNOWN]


def test_missing_entry_script_fails_with_the_hyperpod_message() -> None:
    report = lint(["on_create.sh", "on_init.sh"], {"oncreate.sh": 3}, {}.get)
    entries = only(report, "missing-entry")
    assert [f.file for f in entries] == ["on_create.sh", "on_init.sh"]
    assert all(f.level is LintLevel.FAIL for f in entries)
    assert "Lifecycle scripts did not run successfully" in entries[0].message
    assert "did you mean oncreate.sh" in entries[0].message


def test_a_fetch_that_raises_is_unknown_not_fail() -> None:
    def denied(path: str) -> bytes:
        raise PermissionError("AccessDenied for s3:GetObject")

    report = lint(["on_create.sh"], {"on_create.sh": 10}, denied)
    [finding] = report.findings
    assert (finding.rule, finding.level) == ("unreadable", LintLevel.UNKNOWN)
    assert "AccessDenied" in finding.message


# -- line endings and encodings -------------------------------------------------------------------
@needs_bash
def test_crlf_fails_with_the_sed_fix() -> None:
    report = lint_fixture("crlf")
    [crlf] = only(report, "crlf")
    assert (crlf.level, crlf.line) == (LintLevel.FAIL, 1)
    assert "command not found" in crlf.message
    assert "sed -i 's/\\r$//' -- on_create.sh" in crlf.remediation
    assert levels(report, "bash-syntax") == []  # the syntax itself is fine once LF


@needs_bash
def test_lf_script_has_no_crlf_finding() -> None:
    assert only(lint_fixture("shebang", "with_shebang.sh"), "crlf") == []


def test_crlf_shebang_of_a_python_entry_fails() -> None:
    report = lint_files({"entry.py": b"#!/usr/bin/env python3\r\nprint(1)\r\n"}, "entry.py")
    assert levels(report, "crlf") == [LintLevel.FAIL]
    assert "python3\\r" in only(report, "crlf")[0].message


@needs_bash
def test_utf8_bom_fails_in_shell_but_not_in_python_run_by_python3() -> None:
    report = lint_fixture("bom")
    [bom] = only(report, "bom")
    assert (bom.file, bom.level) == ("on_create.sh", LintLevel.FAIL)
    assert "\\xEF\\xBB\\xBF" in bom.remediation
    assert "helper_bom" in report.reached
    assert only(report, "python-syntax") == []


def test_utf8_bom_before_a_python_shebang_fails() -> None:
    report = lint_files({"entry.py": b"\xef\xbb\xbf#!/usr/bin/env python3\nprint(1)\n"}, "entry.py")
    assert levels(report, "bom") == [LintLevel.FAIL]


def test_utf16_fails_with_iconv() -> None:
    report = lint_fixture("utf16")
    [bom] = only(report, "bom")
    assert bom.level is LintLevel.FAIL
    assert bom.remediation.startswith("iconv -f UTF-16 -t UTF-8 on_create.sh")


@needs_bash
def test_invalid_utf8_warns_in_shell_and_fails_in_json() -> None:
    report = lint_fixture("latin1")
    [shell] = only(report, "invalid-utf8", "on_create.sh")
    assert (shell.level, shell.line) == (LintLevel.WARN, 3)
    [data] = only(report, "invalid-utf8", "params.json")
    assert data.level is LintLevel.FAIL


def test_invalid_utf8_python_fails() -> None:
    report = lint_files(
        {"on_create.sh": "#!/bin/bash\nset -e\npython3 x.py\n", "x.py": b"print('caf\xe9')\n"},
        run_tool=None,
    )
    assert levels(report, "invalid-utf8", "x.py") == [LintLevel.FAIL]


# -- binary and empty -----------------------------------------------------------------------------
def test_binary_entry_fails() -> None:
    report = lint_fixture("binary")
    [binary] = only(report, "binary")
    assert binary.level is LintLevel.FAIL
    assert "gzip" in binary.message


@needs_bash
def test_program_run_directly_is_not_a_failure_but_one_run_with_bash_is() -> None:
    report = lint_fixture("binary", "runs_tool.sh")
    assert levels(report, "binary", "bin/tool") == [LintLevel.INFO]
    assert levels(report, "binary", "helper.sh") == [LintLevel.FAIL]


def test_elf_entry_is_unknown() -> None:
    report = lint_files({"entry": b"\x7fELF\x02\x01\x01" + b"\x00" * 40}, "entry")
    assert levels(report, "binary") == [LintLevel.UNKNOWN]


def test_empty_entry_fails_and_empty_helper_warns() -> None:
    report = lint_fixture("empty", "on_create.sh", "with_empty_helper.sh", run_tool=None)
    assert levels(report, "empty", "on_create.sh") == [LintLevel.FAIL]
    assert levels(report, "empty", "helper.sh") == [LintLevel.WARN]


# -- shebang and set -e ---------------------------------------------------------------------------
@needs_bash
def test_no_shebang_warns_and_cites_the_docs() -> None:
    report = lint_fixture("shebang")
    [finding] = only(report, "no-shebang")
    assert finding.level is LintLevel.WARN
    assert LIFECYCLE_CONFIG_DOC in finding.message
    assert "Exec format error" in finding.message
    assert finding.remediation == "make the first line '#!/bin/bash'"
    assert only(lint_fixture("shebang", "with_shebang.sh"), "no-shebang") == []


@needs_bash
@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("no_errexit.sh", [LintLevel.INFO]),
        ("with_shebang.sh", []),
        ("errexit_in_shebang.sh", []),
    ],
)
def test_no_errexit_is_info(entry: str, expected: list[LintLevel]) -> None:
    assert levels(lint_fixture("shebang", entry), "no-errexit") == expected


def test_errexit_is_only_asked_of_entry_scripts() -> None:
    report = lint_files(
        {"on_create.sh": "#!/bin/bash\nset -e\nbash lib.sh\n", "lib.sh": "echo lib\n"},
        run_tool=None,
    )
    assert only(report, "no-errexit") == []


# -- syntax ---------------------------------------------------------------------------------------
@needs_bash
def test_bash_syntax_error_fails_with_its_line() -> None:
    report = lint_fixture("syntax")
    [finding] = only(report, "bash-syntax")
    assert (finding.level, finding.line) == (LintLevel.FAIL, 6)
    assert "syntax error" in finding.message


def test_bash_syntax_is_unknown_without_bash() -> None:
    absent = lint_fixture("syntax", run_tool=lambda argv, stdin: None)
    assert levels(absent, "bash-syntax", "on_create.sh") == [LintLevel.UNKNOWN]
    not_run = lint_fixture("syntax", run_tool=None)
    assert levels(not_run, "bash-syntax", "on_create.sh") == [LintLevel.UNKNOWN]


def test_a_runner_that_raises_is_unknown() -> None:
    def broken(argv: list[str], stdin: bytes) -> ToolResult | None:
        raise OSError("fork failed")

    report = lint_fixture("syntax", "fine.sh", run_tool=broken)
    assert levels(report, "bash-syntax") == [LintLevel.UNKNOWN]


@needs_bash
def test_python_syntax_error_fails_with_its_line() -> None:
    report = lint_fixture("syntax")
    [finding] = only(report, "python-syntax")
    assert (finding.level, finding.file, finding.line) == (LintLevel.FAIL, "broken_script", 4)
    assert levels(lint_fixture("syntax", "fine.sh"), "python-syntax") == []


def test_referenced_json_that_does_not_parse_fails() -> None:
    report = lint_files(
        {"on_create.sh": "#!/bin/bash\nset -e\npython3 a.py\n", "a.py": 'open("cfg.json")\n'}
        | {"cfg.json": '{"a": 1,\n "b": }\n'},
        run_tool=None,
    )
    [finding] = only(report, "json-syntax")
    assert (finding.file, finding.line, finding.level) == ("cfg.json", 2, LintLevel.FAIL)


# -- shellcheck -----------------------------------------------------------------------------------
def fake_tools(shellcheck_stdout: str | None) -> Callable[[list[str], bytes], ToolResult | None]:
    def run(argv: list[str], stdin: bytes) -> ToolResult | None:
        if argv[0] == "bash":
            return ToolResult(returncode=0)
        if shellcheck_stdout is None:
            return None
        return ToolResult(returncode=1, stdout=shellcheck_stdout)

    return run


def test_shellcheck_json_findings_are_advice_not_warnings() -> None:
    # shellcheck judges style and robustness (SC2155, SC2034 …), not whether the node's
    # set-up fails: the public base-config scripts carry dozens of them and work.
    out = json.dumps(
        {
            "comments": [
                {"line": 3, "code": 2164, "level": "warning", "message": "Use 'cd ... || exit'"},
                {"line": 4, "code": 2086, "level": "info", "message": "Double quote"},
            ]
        }
    )
    report = lint_fixture("shebang", "with_shebang.sh", run_tool=fake_tools(out))
    [finding] = only(report, "shellcheck")
    assert (finding.level, finding.line) == (LintLevel.INFO, 3)
    assert "SC2164" in finding.message
    assert finding.remediation == "https://www.shellcheck.net/wiki/SC2164"


def test_shellcheck_gcc_output_is_read_too() -> None:
    out = "-:2:1: warning: Use 'cd ... || exit'. [SC2164]\n-:3:6: note: Double quote. [SC2086]\n"
    report = lint_fixture("shebang", "with_shebang.sh", run_tool=fake_tools(out))
    assert [(f.line, f.level) for f in only(report, "shellcheck")] == [(2, LintLevel.INFO)]


def test_shellcheck_absent_is_said_once() -> None:
    report = lint_fixture("good", run_tool=fake_tools(None))
    [finding] = only(report, "shellcheck")
    assert finding.level is LintLevel.INFO
    assert "shellcheck" in finding.remediation


@pytest.mark.skipif(not (HAS_SHELLCHECK and HAS_BASH), reason="shellcheck is not installed")
def test_real_shellcheck_finds_an_unguarded_cd() -> None:
    report = lint_files({"on_create.sh": "#!/bin/bash\nset -e\ncd /opt/x\nrm -rf $D/\n"})
    codes = [f.message.split(" ")[1] for f in only(report, "shellcheck")]
    assert "SC2115:" in codes


# -- references -----------------------------------------------------------------------------------
def test_missing_references_fail_naming_file_and_line_unless_uncertain() -> None:
    report = lint_fixture("refs", "on_create.sh", "runs_python.sh", run_tool=None)
    found = {(f.file, f.line, f.level) for f in only(report, "missing-reference")}
    fail, warn, info = LintLevel.FAIL, LintLevel.WARN, LintLevel.INFO
    assert found == {
        ("on_create.sh", 4, fail),  # bash ./gone.sh
        ("on_create.sh", 5, fail),  # source lib/missing_lib.sh
        ("on_create.sh", 6, fail),  # python3 absent.py
        ("sub/runner.sh", 4, fail),  # "$(dirname "$0")/no_sibling.sh", next to the script
        # line 9: fetched.sh is made by curl -o on line 8: not asked of the prefix
        ("on_create.sh", 10, warn),  # guarded by [ -f optional.sh ]
        ("on_create.sh", 11, warn),  # ../outside.sh is outside the prefix
        ("on_create.sh", 19, info),  # may come from what tar unpacks on line 18
        ("steps.py", 4, fail),  # subprocess.run("bash ./py_missing.sh", shell=True), always
    }
    messages = " ".join(f.message for f in only(report, "missing-reference"))
    assert "on_create.sh:4 runs ./gone.sh" in messages
    assert "absent_params.json" in messages  # --provisioning-parameters=absent_params.json
    for silent in ("from_variable", "not_a_reference", "commented_out", "inside_heredoc"):
        assert silent not in messages
    assert "status.json" not in messages  # a file Python writes is not a reference
    assert {"present.sh", "sub/runner.sh", "sub/sibling.sh", "steps.py"} <= set(report.reached)


def test_references_per_file_are_bounded() -> None:
    script = "#!/bin/bash\nset -e\n" + "".join(f"bash ./s{i}.sh\n" for i in range(300))
    report = lint_files({"on_create.sh": script}, run_tool=None)
    assert len(only(report, "missing-reference")) == 200
    [cap] = only(report, "too-many-references")
    assert (cap.level, cap.line) == (LintLevel.UNKNOWN, 203)


def test_provisioning_parameters_flag_spellings_are_references() -> None:
    for flag in ("-pp p.json", "--provisioning-parameters p.json"):
        report = lint_files({"on_create.sh": f"#!/bin/bash\nset -e\npython3 x.py {flag}\n"})
        lines = [(f.line, f.level) for f in only(report, "missing-reference")]
        assert lines == [(3, LintLevel.FAIL), (3, LintLevel.FAIL)]


# -- secrets --------------------------------------------------------------------------------------
# Built at run time so that no key-shaped string sits in the repository.
KEY_ID = "AKIA" + "Q3EXAMPLZ7TESTK2"
SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzT3stK3yQx"
PRIVATE_KEY = (
    "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
)


@pytest.mark.parametrize(
    ("content", "line", "level"),
    [
        (f"export AWS_ACCESS_KEY_ID={KEY_ID}\nexport AWS_SECRET_ACCESS_KEY={SECRET}\n", 4, "FAIL"),
        (f"AKID={KEY_ID}\nSKEY='{SECRET}'\n", 3, "FAIL"),
        (f"aws configure set aws_secret_access_key {SECRET}\n", 3, "FAIL"),
        (f"cat > /root/.aws/credentials <<EOF\naws_secret_access_key = {SECRET}\nEOF\n", 4, "FAIL"),
        (f"echo '{PRIVATE_KEY}' > /root/.ssh/id_rsa\n", 3, "FAIL"),
        ('DB_PASSWORD="hunter2-long"\n', 3, "WARN"),
        ("mysql --password=hunter2long -e 'select 1'\n", 3, "WARN"),
        (f"# key id {KEY_ID} without its secret\n", 3, "WARN"),
        ('PASSWORD="$(aws secretsmanager get-secret-value --secret-id db)"\n', None, None),
        (f"# {KEY_ID}\ngit checkout 3f2a9c4b1d0e8f7a6b5c4d3e2f1a0b9c8d7e6f5a\n", 3, "WARN"),
        ('PASSWORD=""\n', None, None),
    ],
)
def test_secrets_fail_and_are_never_printed(content: str, line: int | None, level: str) -> None:
    report = lint_files({"on_create.sh": "#!/bin/bash\nset -e\n" + content}, run_tool=None)
    findings = only(report, "secret")
    assert [(f.line, f.level.value) for f in findings] == ([(line, level)] if line else [])
    dumped = json.dumps(jsonable(report))
    for secret in (KEY_ID, SECRET, "MIIEowIBAAKCAQEA", "hunter2"):
        assert secret not in dumped


def test_secrets_in_python_and_json_files_are_found() -> None:
    files = {
        "on_create.sh": "#!/bin/bash\nset -e\npython3 x.py -pp p.json\n",
        "x.py": f'KEY = "{KEY_ID}"\nSECRET = "{SECRET}"\n',
        "p.json": '{"password": "s3cr3t-value"}',
    }
    report = lint_files(files, run_tool=None, check_provisioning=False)
    assert {(f.file, f.line) for f in only(report, "secret")} == {("x.py", 1), ("p.json", 1)}
    assert "s3cr3t-value" not in json.dumps(jsonable(report))


def test_tool_output_quoting_a_secret_is_masked() -> None:
    def echoes(argv: list[str], stdin: bytes) -> ToolResult:
        return ToolResult(returncode=2, stderr=f"bash: line 3: `{KEY_ID} {SECRET}'\n")

    report = lint_files({"on_create.sh": "#!/bin/bash\nset -e\necho x\n"}, run_tool=echoes)
    assert levels(report, "bash-syntax") == [LintLevel.FAIL]
    assert KEY_ID not in json.dumps(jsonable(report))
    assert SECRET not in json.dumps(jsonable(report))


# -- downloads vs egress --------------------------------------------------------------------------
def test_downloads_without_egress_fail_naming_the_line_and_subnets() -> None:
    report = lint_fixture("internet", "on_create.sh", "with_proxy.sh", egress=NO_EGRESS)
    found = [(f.file, f.line, f.level) for f in only(report, "internet-fetch-without-egress")]
    assert found == [
        ("on_create.sh", 3, LintLevel.FAIL),  # curl https://github.com/...
        ("on_create.sh", 4, LintLevel.FAIL),  # pip install torch
        ("on_create.sh", 5, LintLevel.WARN),  # apt-get: a mirror may be configured
        ("on_create.sh", 10, LintLevel.WARN),  # wget "$MIRROR/...": cannot tell where
        ("with_proxy.sh", 4, LintLevel.WARN),  # https_proxy is set
    ]
    first = only(report, "internet-fetch-without-egress")[0]
    assert "subnet-0aaa, subnet-0bbb" in first.message
    assert "NAT gateway" in first.remediation


def test_downloads_with_unknown_egress_are_one_info_per_file() -> None:
    report = lint_fixture("internet", run_tool=None)
    [finding] = only(report, "internet-fetch-without-egress")
    assert (finding.level, finding.line) == (LintLevel.INFO, 3)


def test_downloads_with_egress_are_fine() -> None:
    report = lint_fixture("internet", run_tool=None, egress=EgressInfo())
    assert only(report, "internet-fetch-without-egress") == []


def test_python_downloads_count_too() -> None:
    files = {
        "on_create.sh": "#!/bin/bash\nset -e\npython3 get.py\n",
        "get.py": "import urllib.request\n"
        'urllib.request.urlretrieve("https://example.com/x.tgz", "/tmp/x.tgz")\n'
        'urllib.request.urlopen("http://169.254.169.254/latest/meta-data/")\n',
    }
    report = lint_files(files, run_tool=None, egress=NO_EGRESS)
    assert [(f.file, f.line) for f in only(report, "internet-fetch-without-egress")] == [
        ("get.py", 2)
    ]


# -- provisioning parameters through the lint -----------------------------------------------------
def test_pp_file_is_cross_checked_with_the_config_groups() -> None:
    report = lint_fixture(
        "good", run_tool=None, instance_groups={"controller": "Controller", "gpu-workers": None}
    )
    groups = only(report, "provisioning-groups", "params.json")
    assert [f.level for f in groups] == [LintLevel.FAIL, LintLevel.FAIL]
    assert 'set "instance_group_name": "gpu-workers"' in groups[0].remediation


# -- never raises ---------------------------------------------------------------------------------
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=st.binary(max_size=2048), helper=st.binary(max_size=512))
def test_lint_never_raises_on_random_bytes(entry: bytes, helper: bytes) -> None:
    files = {"on_create.sh": entry + b"\nbash helper.sh -pp p.json\n", "helper.sh": helper}
    files["p.json"] = helper
    report = lint(["on_create.sh"], {k: len(v) for k, v in files.items()}, files.get)
    assert "on_create.sh" in report.reached


SHELL_PIECES = [*"abx./-$\"'`#;&|()<>{}[]\\ \t\n\r=*?~", "bash ", "source ", "<<EOF\n", "EOF"]
SHELLISH = st.lists(st.sampled_from(SHELL_PIECES), max_size=200).map("".join)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=SHELLISH, python=st.text(max_size=300))
def test_lint_never_raises_on_shell_like_text(entry: str, python: str) -> None:
    files = {
        "on_create.sh": ("#!/bin/bash\n" + entry + "\npython3 x.py\n").encode(),
        "x.py": python.encode("utf-8", errors="surrogatepass"),
    }
    report = lint(
        ["on_create.sh"], {k: len(v) for k, v in files.items()}, files.get, egress=NO_EGRESS
    )
    assert report.reached[0] == "on_create.sh"
