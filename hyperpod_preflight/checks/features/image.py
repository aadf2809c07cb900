"""``capacity.custom-ami``: each instance group's ``ImageId`` names an AMI this account can
launch in the region, that is available, whose architecture every instance type of the
group runs, and that meets HyperPod's custom-AMI rules.

The rules, from the ``ImageId`` member of ``ClusterInstanceGroupSpecification`` (AWS API
reference, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ClusterInstanceGroupSpecification.html):
"If you choose to use a custom AMI (CustomAmiId), ensure it meets the following
requirements: Encryption: The custom AMI must be unencrypted. Ownership: The custom AMI must
be owned by the same AWS account that is creating the HyperPod cluster. Volume support: Only
the primary AMI snapshot volume is supported". ``default`` and HyperPod's public AMIs
(public, owned by Amazon) are exempt from the ownership and volume rules.
"""

from __future__ import annotations

from typing import Any

from ...planner import ClusterPlan
from ...registry import CheckContext, Request, check, need
from ...results import Outcome, Severity, failed, passed, skipped, warned
from ...shell import arg
from ...spec import ClusterSpec, strip_ml
from ...spec.raw import raw_groups
from .. import _needs

DOCS = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ClusterInstanceGroupSpecification.html"
BAD_STATES = frozenset({"invalid", "deregistered", "failed", "error", "disabled"})


def _ebs_volumes(image: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in image.get("BlockDeviceMappings") or () if isinstance(m.get("Ebs"), dict)]


def _is_public_amazon(image: dict[str, Any]) -> bool:
    return bool(image.get("Public")) and image.get("ImageOwnerAlias") == "amazon"


def image_problems(
    image: dict[str, Any], account: str | None, types: dict[str, dict[str, Any] | None]
) -> tuple[list[str], list[str]]:
    """(failures, warnings) of one AMI for one group; ``types`` maps each of the group's
    EC2 types to its ``DescribeInstanceTypes`` entry (None when EC2 does not know it)."""
    fails: list[str] = []
    warns: list[str] = []
    image_id = image.get("ImageId", "?")
    state = str(image.get("State", ""))
    if state in BAD_STATES:
        fails.append(f"{image_id} is {state}")
    elif state != "available":
        warns.append(f"{image_id} is {state or 'in an unknown state'}, not yet available")
    arch = image.get("Architecture")
    for ec2_type, info in types.items():
        supported = ((info or {}).get("ProcessorInfo") or {}).get("SupportedArchitectures")
        if not supported or not arch:
            warns.append(f"could not tell whether {ec2_type} runs a {arch or '?'} image")
        elif arch not in supported:
            fails.append(f"{image_id} is {arch}, {ec2_type} runs {', '.join(supported)}")
    if _is_public_amazon(image):
        return fails, warns
    if not account or not image.get("OwnerId"):
        warns.append(
            f"could not tell whether {image_id} is owned by this account "
            f"(owner {image.get('OwnerId') or 'not given'}, account {account or 'not known'})"
        )
    elif image["OwnerId"] != account:
        fails.append(
            f"{image_id} is owned by {image['OwnerId']}, not by this account ({account}): "
            "copy it into this account"
        )
    volumes = _ebs_volumes(image)
    if any(v["Ebs"].get("Encrypted") for v in volumes):
        fails.append(f"{image_id} has encrypted snapshots: HyperPod needs an unencrypted AMI")
    if len(volumes) > 1:
        fails.append(
            f"{image_id} has {len(volumes)} EBS volumes: only the primary snapshot volume is "
            "supported"
        )
    return fails, warns


def _ami_needs(spec: ClusterSpec, plan: ClusterPlan) -> list[Request]:
    """The custom AMIs, the config's instance types (the run's own read) and the caller."""
    images = [
        str(raw["ImageId"])
        for _, raw in raw_groups(spec)
        if raw.get("ImageId") not in (None, "", "default")
    ]
    if not images:
        return []
    return [need("images", images), need("identity_arn"), *_needs.instance_types(spec)]


@check(
    "capacity.custom-ami",
    "Each group's custom AMI exists, is available, fits its instance types and HyperPod's rules",
    Severity.CRITICAL,
    needs=_ami_needs,
)
def custom_ami(ctx: CheckContext) -> list[Outcome]:
    """Each ImageId exists, is available, matches the group's types and HyperPod's rules."""
    uses = [
        (group, str(raw["ImageId"]))
        for group, raw in raw_groups(ctx.spec)
        if raw.get("ImageId") and raw["ImageId"] != "default"
    ]
    if not uses:
        return [skipped("-", "no instance group names a custom ImageId")]
    images = ctx.aws.images(image_id for _, image_id in uses)
    # Every type of the config, as the run's own read asks for them: one shared call.
    all_types = tuple(dict.fromkeys(t for g in ctx.spec.instance_groups for t in g.ec2_types))
    infos = ctx.aws.instance_types(all_types) if all_types else {}
    account = ctx.aws.account or ctx.aws.caller_identity().get("Account")
    out: list[Outcome] = []
    for group, image_id in uses:
        image = images.get(image_id)
        if image is None:
            out.append(
                failed(
                    group.name,
                    f"group {group.name}: AMI {image_id} does not exist in {ctx.aws.region}, "
                    "or this account cannot launch it",
                    f"Fix ImageId, or copy the AMI into {ctx.aws.region}: `aws ec2 copy-image "
                    f"--source-image-id {arg(image_id)} --source-region <region> --region "
                    f"{arg(ctx.aws.region)} --name <name>`.",
                    image_id=image_id,
                )
            )
            continue
        types = {strip_ml(t): infos.get(strip_ml(t)) for t in group.types}
        fails, warns = image_problems(image, account, types)
        figures: dict[str, Any] = {
            "image_id": image_id,
            "architecture": image.get("Architecture"),
            "state": image.get("State"),
        }
        if fails:
            out.append(
                failed(
                    group.name,
                    f"group {group.name}: {'; '.join(fails + warns)} (HyperPod custom-AMI "
                    f"rules: {DOCS})",
                    "Build the AMI from a HyperPod base AMI for the group's architecture, in "
                    "this account, unencrypted, with one volume; or set ImageId to default.",
                    **figures,
                )
            )
        elif warns:
            out.append(warned(group.name, f"group {group.name}: {'; '.join(warns)}", "", **figures))
        else:
            out.append(
                passed(
                    group.name,
                    f"{image_id} is available, {image.get('Architecture')}, and fits "
                    f"{', '.join(group.types)}",
                    **figures,
                )
            )
    return out
