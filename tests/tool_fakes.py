"""Fake command-line tools: real executables written into a folder that a test puts on
PATH (or hands to ``ToolProbe(path=...)``), each printing what the real tool prints."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

# Recorded from the real tools (one line each unless noted).
AWS_V2 = "aws-cli/2.22.35 Python/3.12.6 Linux/6.8.0-1021-aws exe/x86_64.ubuntu.24"
AWS_V2_OLD = "aws-cli/2.15.30 Python/3.11.8 Linux/5.15.0 exe/x86_64.amzn.2 prompt/off"
AWS_V1 = "aws-cli/1.45.11 Python/3.11.7 Linux/6.18.44 botocore/1.43.11"
SSM_PLUGIN = "1.2.650.0"
HELM_3 = "v3.16.2+g13654a5"
HELM_2 = "Client: v2.16.12+g47f0b88"
EKSCTL = "0.194.0"
HYP = "hyp version 3.3.0"


def kubectl_json(git_version: str) -> str:
    """``kubectl version --client -o json``."""
    major, minor = git_version.lstrip("v").split(".")[:2]
    return json.dumps(
        {
            "clientVersion": {
                "major": major,
                "minor": minor,
                "gitVersion": git_version,
                "platform": "linux/amd64",
            },
            "kustomizeVersion": "v5.4.2",
        },
        indent=2,
    )


def write_tool(
    folder: Path, name: str, output: str, *, stderr: bool = False, sleep: float = 0
) -> Path:
    """An executable ``folder/name`` printing ``output`` (to stderr if asked)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    redirect = " >&2" if stderr else ""
    pause = f"sleep {sleep}\n" if sleep else ""
    quoted = output.replace("'", "'\\''")
    path.write_text(f"#!/bin/sh\n{pause}printf '%s\\n' '{quoted}'{redirect}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def healthy_tools(folder: Path, kubernetes: str = "v1.31.2") -> Path:
    """Every tool a HyperPod EKS user needs, at versions that pass."""
    write_tool(folder, "aws", AWS_V2)
    write_tool(folder, "session-manager-plugin", SSM_PLUGIN)
    write_tool(folder, "kubectl", kubectl_json(kubernetes))
    write_tool(folder, "helm", HELM_3)
    write_tool(folder, "eksctl", EKSCTL)
    write_tool(folder, "hyp", HYP)
    return folder


def on_path(folder: Path) -> str:
    return f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
