"""What kind of document a parsed config is, told from its data alone: a Terraform plan or a
CloudFormation template (else a CreateCluster JSON). A leaf without PyYAML, so that reading a
CreateCluster JSON never imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TEMPLATE_KEYS = ("AWSTemplateFormatVersion", "Resources")


def is_plan(data: Any) -> bool:
    """A Terraform plan JSON (``terraform show -json``)."""
    return isinstance(data, dict) and (
        "resource_changes" in data or ("terraform_version" in data and "planned_values" in data)
    )


def is_template_data(data: Any) -> bool:
    """A CloudFormation template as parsed data: a mapping with ``Resources`` or the format
    version."""
    return isinstance(data, Mapping) and any(key in data for key in TEMPLATE_KEYS)
