"""Tool checks: one finding per tool the profile needs (found, and recent enough), and
Apptainer's GPU support."""

from __future__ import annotations

from ...registry import HostContext, check
from ...results import Outcome, Severity, passed, skipped, unknown
from ..commands import TOOLS, version_at_least
from ._common import facts, judged, not_in_profile, requirement, requirements


@check(
    "host.tools", "Needed tools installed (one finding per tool)", Severity.MEDIUM, needs_aws=False
)
def tools(ctx: HostContext) -> list[Outcome]:
    """Each needed tool is on PATH and recent enough; missing or older FAILs, no version UNKNOWN."""
    reqs = requirements(ctx, "host.tools")
    if not reqs:
        return not_in_profile(ctx)
    host = facts(ctx)
    out: list[Outcome] = []
    for req in reqs:
        name = str(req.params.get("tool", req.id.removeprefix("tool-")))
        spec = TOOLS.get(name)
        install = spec.install if spec else f"install {name}"
        info = host.tool(name)
        minimum = None if req.threshold is None else str(req.threshold)
        if not info.found:
            out.append(judged(req, name, f"{name} is not installed (not on PATH)", install))
            continue
        if minimum is None:
            shown = f" {info.version}" if info.version else ""
            out.append(passed(name, f"{name}{shown} at {info.path}"))
            continue
        if not info.version:
            reason = info.error or "no version in its output"
            out.append(
                unknown(
                    name,
                    f"could not tell the version of {name}: {reason}",
                    f"check by hand: {info.path} --version",
                    output=info.output,
                )
            )
            continue
        if not version_at_least(info.version, minimum):
            out.append(
                judged(
                    req,
                    name,
                    f"{name} {info.version} is older than {minimum}",
                    install,
                    version=info.version,
                    path=info.path,
                )
            )
        else:
            out.append(passed(name, f"{name} {info.version} (>= {minimum}) at {info.path}"))
    return out


@check("host.apptainer-nv", "Apptainer can use the GPUs (--nv)", Severity.MEDIUM, needs_aws=False)
def apptainer_nv(ctx: HostContext) -> list[Outcome]:
    """Installed Apptainer has nvliblist.conf or nvidia-container-cli for --nv; else FAIL."""
    req = requirement(ctx, "host.apptainer-nv")
    if req is None:
        return not_in_profile(ctx)
    host = facts(ctx)
    if not host.tool("apptainer").found:
        return [skipped("apptainer", "apptainer is not installed (see host.tools)")]
    if host.apptainer_nvliblist:
        return [passed("apptainer", f"--nv library list at {host.apptainer_nvliblist}")]
    if host.tool("nvidia-container-cli").found:
        return [passed("apptainer", "nvidia-container-cli present (apptainer --nvccli)")]
    if host.apptainer_nvliblist_error:
        return [
            unknown(
                "apptainer",
                f"could not tell whether nvliblist.conf exists: {host.apptainer_nvliblist_error}",
                "run as a user that may read the apptainer install (its etc/apptainer)",
            )
        ]
    return [
        judged(
            req,
            "apptainer",
            "neither nvliblist.conf nor nvidia-container-cli found: "
            "apptainer --nv cannot bind the driver",
            "reinstall apptainer from its "
            "package (it ships etc/apptainer/nvliblist.conf) or install "
            "nvidia-container-toolkit",
        )
    ]
