"""Commands on PATH: where they are, their versions, and running them safely.

Binaries are looked up in the root tree (``root`` + each PATH directory, plus the sbin
directories a non-root PATH often lacks), so a fixture tree can hold fake tools. A command
runs only when a profile needs its version, always with a short timeout, never through a
shell, and its absence is a fact, not an error.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .models import ToolInfo

DEFAULT_TIMEOUT_S = 3.0
EXTRA_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin")
_VERSION_RE = re.compile(r"(?<![\w.])v?(\d+\.\d+(?:\.\d+)*)")


@dataclass(frozen=True)
class ToolSpec:
    """How to find a tool and read its version.

    ``variants`` are tried in order: (binary, version arguments or None for presence only).
    """

    name: str
    variants: tuple[tuple[str, tuple[str, ...] | None], ...]
    install: str
    description: str = ""
    extra_dirs: tuple[str, ...] = field(default_factory=tuple)
    run_to_detect: bool = False  # a subcommand (docker compose): only running it proves it


def _spec(
    name: str,
    binary: str,
    args: tuple[str, ...] | None = ("--version",),
    *,
    install: str,
    description: str = "",
    alternatives: tuple[tuple[str, tuple[str, ...] | None], ...] = (),
    extra_dirs: tuple[str, ...] = (),
    run_to_detect: bool = False,
) -> ToolSpec:
    return ToolSpec(
        name, ((binary, args), *alternatives), install, description, extra_dirs, run_to_detect
    )


TOOLS: Mapping[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        _spec("gcc", "gcc", install="sudo apt-get install -y build-essential"),
        _spec(
            "cmake",
            "cmake",
            install="sudo apt-get install -y cmake  # or: python3 -m pip install 'cmake>=3.18'",
        ),
        _spec(
            "ninja",
            "ninja",
            install="sudo apt-get install -y ninja-build",
            alternatives=(("ninja-build", ("--version",)),),
        ),
        _spec("git", "git", install="sudo apt-get install -y git"),
        _spec("python3", "python3", install="sudo apt-get install -y python3"),
        _spec("docker", "docker", install="https://docs.docker.com/engine/install/"),
        _spec(
            "docker-compose",
            "docker",
            ("compose", "version"),
            install="sudo apt-get install -y docker-compose-plugin",
            alternatives=(("docker-compose", ("version",)),),
            run_to_detect=True,
        ),
        _spec(
            "docker-buildx",
            "docker",
            ("buildx", "version"),
            install="sudo apt-get install -y docker-buildx-plugin",
            run_to_detect=True,
        ),
        _spec(
            "libvirt",
            "virsh",
            install="sudo apt-get install -y libvirt-daemon-system libvirt-clients",
            alternatives=(("libvirtd", ("--version",)),),
        ),
        _spec(
            "qemu",
            "qemu-system-x86_64",
            install="sudo apt-get install -y qemu-system-x86",
            alternatives=(
                ("qemu-kvm", ("--version",)),
                ("qemu-system-aarch64", ("--version",)),
            ),
            extra_dirs=("/usr/libexec",),
        ),
        _spec("criu", "criu", install="sudo apt-get install -y criu  # or build from criu.org"),
        _spec(
            "cuda-checkpoint",
            "cuda-checkpoint",
            None,
            install="download cuda-checkpoint from https://github.com/NVIDIA/cuda-checkpoint "
            "and put it on PATH",
        ),
        _spec(
            "containerd",
            "containerd",
            install="sudo apt-get install -y containerd.io  # Docker's repository, >= 1.6",
        ),
        _spec(
            "nvidia-ctk",
            "nvidia-ctk",
            install="sudo apt-get install -y nvidia-container-toolkit",
        ),
        _spec("runc", "runc", install="sudo apt-get install -y runc"),
        _spec(
            "apptainer",
            "apptainer",
            install="sudo add-apt-repository -y ppa:apptainer/ppa && "
            "sudo apt-get install -y apptainer",
        ),
        _spec(
            "sinfo",
            "sinfo",
            install="install the Slurm client (slurm-client) or add /opt/slurm/bin to PATH",
        ),
        _spec(
            "srun",
            "srun",
            install="install the Slurm client (slurm-client) or add /opt/slurm/bin to PATH",
        ),
        _spec(
            "scontrol",
            "scontrol",
            install="install the Slurm client (slurm-client) or add /opt/slurm/bin to PATH",
        ),
        _spec(
            "nvidia-smi",
            "nvidia-smi",
            None,
            install="install the NVIDIA driver (sudo apt-get install -y nvidia-driver-570-server)",
        ),
        _spec(
            "fi_info",
            "fi_info",
            install="install the EFA software: "
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-start.html",
            extra_dirs=("/opt/amazon/efa/bin",),
        ),
        _spec("dcgmi", "dcgmi", None, install="sudo apt-get install -y datacenter-gpu-manager-4"),
        _spec("systemctl", "systemctl", None, install="(systemd)"),
    )
}

# Where Slurm lives on HyperPod and other common installs, besides PATH.
SLURM_DIRS = ("/opt/slurm/bin",)


def search_dirs(root: Path, extra: Iterable[str] = ()) -> list[Path]:
    path_env = os.environ.get("PATH", "") or "/usr/bin:/bin"
    dirs: list[str] = []
    for d in [*path_env.split(os.pathsep), *EXTRA_DIRS, *SLURM_DIRS, *extra]:
        if d and os.path.isabs(d) and d not in dirs:
            dirs.append(d)
    return [root / d.lstrip("/") for d in dirs]


def which(binary: str, root: Path, extra: Iterable[str] = ()) -> str | None:
    """Absolute path of ``binary`` under ``root`` (an executable file), or None."""
    for directory in search_dirs(root, extra):
        candidate = directory / binary
        try:  # a PATH directory this user may not search is skipped, as a shell does
            found = candidate.is_file() and os.access(candidate, os.X_OK)
        except OSError:
            continue
        if found:
            return str(candidate)
    return None


@dataclass
class CommandResult:
    argv: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.error is None


def run_command(argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT_S) -> CommandResult:
    """Run ``argv`` (no shell) with a timeout; never raises."""
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C")
    try:
        proc = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=env,
            check=False,
            errors="replace",
        )
    except subprocess.TimeoutExpired:
        return CommandResult(list(argv), None, "", "", error=f"timed out after {timeout:g}s")
    except OSError as exc:
        return CommandResult(list(argv), None, "", "", error=exc.strerror or str(exc))
    return CommandResult(list(argv), proc.returncode, proc.stdout, proc.stderr)


def parse_version(text: str) -> str | None:
    """The first dotted version number in ``text`` (``v1.7.22`` → ``1.7.22``)."""
    match = _VERSION_RE.search(text)
    return match.group(1) if match else None


def version_tuple(version: str) -> tuple[int, ...]:
    """``'6.8.0-1015-aws'`` → ``(6, 8, 0)``; ``'580.159.04'`` → ``(580, 159, 4)``."""
    match = re.match(r"v?(\d+(?:\.\d+)*)", version.strip())
    if not match:
        raise ValueError(f"not a version: {version!r}")
    return tuple(int(p) for p in match.group(1).split("."))


def version_at_least(version: str, minimum: str) -> bool:
    have, want = version_tuple(version), version_tuple(minimum)
    width = max(len(have), len(want))
    return have + (0,) * (width - len(have)) >= want + (0,) * (width - len(want))


def probe_tool(spec: ToolSpec, root: Path, *, want_version: bool) -> ToolInfo:
    """Find ``spec`` and, when ``want_version``, run its version command."""
    tried: ToolInfo | None = None
    for binary, args in spec.variants:
        path = which(binary, root, spec.extra_dirs)
        if path is None:
            continue
        info = ToolInfo(name=spec.name, path=path)
        if not (want_version or spec.run_to_detect) or args is None:
            return info
        result = run_command([path, *args])
        info.ran = True
        info.exit_code = result.exit_code
        text = (result.stdout or "") + "\n" + (result.stderr or "")
        info.output = "\n".join(text.strip().splitlines()[:3])[:300]
        if result.error:
            info.error = result.error
        elif result.exit_code != 0:
            info.error = f"`{binary} {' '.join(args)}` exited with {result.exit_code}"
        else:
            info.version = parse_version(text)
        if info.error:
            tried = tried or info
            continue  # e.g. `docker compose` missing: try the standalone docker-compose
        return info
    if tried is not None and spec.run_to_detect:
        return ToolInfo(name=spec.name, error=tried.error, output=tried.output)
    return tried or ToolInfo(name=spec.name)


def probe_tools(
    names: Iterable[str], root: Path, *, versions: Iterable[str] = ()
) -> dict[str, ToolInfo]:
    """Probe several tools at once (threads: the version commands run concurrently)."""
    wanted = sorted(set(names))
    with_version = set(versions)
    if not wanted:
        return {}
    specs = [TOOLS.get(n) or _spec(n, n, install=f"install {n}") for n in wanted]
    with ThreadPoolExecutor(max_workers=min(8, len(specs)), thread_name_prefix="probe") as pool:
        infos = list(
            pool.map(lambda s: probe_tool(s, root, want_version=s.name in with_version), specs)
        )
    return {info.name: info for info in infos}
