"""botocore's data files (service models, paginators, endpoint rule sets, ``endpoints.json``)
decoded once per botocore version and kept in the user cache directory.

botocore decodes each JSON file it needs on every run, into ordered dicts: EC2's service
model alone is ~3 MB of JSON (≈ 75 ms of CPU here), and a ``check`` reads seven services.
:class:`CachingFileLoader` stands in for the loader's ``file_loader`` in the sessions the
facts layer makes itself (:func:`install`): a file is decoded once, then read back from a
``marshal`` copy in ``$XDG_CACHE_HOME/hyperpod-preflight/botocore-data-<botocore
version>-py<X.Y>/`` (5 to 10 times faster). The copy is keyed by the file's path, size and
modification time and this module's :data:`_FORMAT`; a mismatching, unreadable or missing
copy is decoded from the file again (and rewritten); an unwritable folder just means no copy.
The list of services botocore builds by walking its data folder is kept there too, while the
loader searches only the folders of installed packages.

The run's own session also keeps, of each service's model, only the operations the facts
layer calls (:data:`OPERATIONS`) and the shapes they reach: botocore builds a client class
with a method per operation of the model (EC2: 700+), so a client of the trimmed model costs
a fraction. A call outside :data:`OPERATIONS` would find no method: the test beside this
module holds the list to the IAM policies in ``policies/``, which a test holds to the source.
What the loader returns is the same data (plain dicts, which keep their order, instead of
``OrderedDict``).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cache import cache_dir, read_keyed, write_keyed

if TYPE_CHECKING:
    import boto3
    import botocore.session

_FORMAT = 1


def cache_folder() -> Path:
    """Where the decoded copies live (one folder per botocore and Python version: marshal's
    format belongs to the Python version)."""
    import botocore

    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return cache_dir() / f"botocore-data-{botocore.__version__}-py{python}"


# Every operation the facts layer calls, per botocore service: the IAM actions of policies/
# (hp-preflight-readonly.json and hp-preflight-quota-requests.json), as operations
# (tests/facts/test_facts_data_cache.py holds the two to each other and to the source). A
# client of the run's own session knows these operations only: EC2's client class is then
# built for 16 operations instead of 700+, SageMaker's for 7 instead of 400+.
OPERATIONS: dict[str, frozenset[str]] = {
    "cloudwatch": frozenset({"DescribeAlarms"}),
    "ec2": frozenset(
        {
            "DescribeAddresses",
            "DescribeAvailabilityZones",
            "DescribeImages",
            "DescribeInstanceTypeOfferings",
            "DescribeInstanceTypes",
            "DescribeInternetGateways",
            "DescribeNatGateways",
            "DescribeNetworkInterfaces",
            "DescribeRouteTables",
            "DescribeSecurityGroups",
            "DescribeSubnets",
            "DescribeTransitGatewayAttachments",
            "DescribeVpcAttribute",
            "DescribeVpcEndpoints",
            "DescribeVpcPeeringConnections",
            "DescribeVpcs",
        }
    ),
    "eks": frozenset(
        {
            "DescribeAccessEntry",
            "DescribeAddon",
            "DescribeCluster",
            "ListAccessEntries",
            "ListAssociatedAccessPolicies",
        }
    ),
    "fsx": frozenset({"DescribeFileSystems"}),
    "iam": frozenset(
        {
            "GetPolicy",
            "GetPolicyVersion",
            "GetRole",
            "GetRolePolicy",
            "ListAttachedRolePolicies",
            "ListRolePolicies",
            "SimulatePrincipalPolicy",
        }
    ),
    "kms": frozenset({"DescribeKey", "GetKeyPolicy", "ListGrants"}),
    "logs": frozenset({"FilterLogEvents"}),
    "s3": frozenset(
        {
            "GetBucketEncryption",
            "GetBucketLocation",
            "GetBucketPolicy",
            "GetObject",
            "GetPublicAccessBlock",
            "HeadObject",
            "ListObjectsV2",
        }
    ),
    "s3control": frozenset({"GetPublicAccessBlock"}),
    "sagemaker": frozenset(
        {
            "DescribeCluster",
            "DescribeClusterEvent",
            "DescribeTrainingPlan",
            "ListClusterEvents",
            "ListClusterNodes",
            "ListClusters",
            "SearchTrainingPlanOfferings",
        }
    ),
    "service-quotas": frozenset(
        {
            "GetAWSDefaultServiceQuota",
            "GetRequestedServiceQuotaChange",
            "GetServiceQuota",
            "ListAWSDefaultServiceQuotas",
            "ListRequestedServiceQuotaChangeHistoryByQuota",
            "ListServiceQuotas",
            "RequestServiceQuotaIncrease",
        }
    ),
    "sts": frozenset({"GetCallerIdentity"}),
}


class CachingFileLoader:
    """A botocore file loader (``exists``/``load_file``) that keeps decoded copies; with
    ``keep`` (service → operations), a service's ``service-2`` model holds only those
    operations and the shapes they reach."""

    def __init__(
        self,
        inner: Any,
        folder: Path | None = None,
        keep: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.inner = inner
        self.folder = folder if folder is not None else cache_folder()
        self.keep = keep or {}

    def exists(self, file_path: str) -> bool:
        return bool(self.inner.exists(file_path))

    def load_file(self, file_path: str) -> Any:
        found = _source(file_path)
        if found is None:
            return self.inner.load_file(file_path)
        source, stat = found
        kept = self._kept_operations(file_path)
        key = (_FORMAT, source, stat.st_size, stat.st_mtime_ns, kept)
        copy = self.folder / (
            hashlib.sha256(repr(key[1:2] + key[4:]).encode()).hexdigest()[:32] + ".marshal"
        )
        data = read_keyed(copy, key)
        if data is not None:
            return data
        data = self.inner.load_file(file_path)
        if data is not None and kept:
            data = _kept_part(data, kept)
        if data is not None:
            _store(copy, key, data)
        return data

    def _kept_operations(self, file_path: str) -> tuple[str, ...]:
        """The operations kept of ``file_path`` (``<service>/<version>/service-2``); () for
        every other file (kept whole)."""
        parts = Path(file_path).parts
        if len(parts) < 3 or parts[-1] != "service-2":
            return ()
        return tuple(sorted(self.keep.get(parts[-3], ())))


def _kept_part(full: Any, operations: tuple[str, ...]) -> Any:
    """``full`` (a ``service-2`` model) reduced to ``operations`` (those it has) and the
    shapes they reach; ``full`` itself when it is not a service model."""
    from ..sagemaker_model import kept_description

    if not isinstance(full, dict) or not isinstance(full.get("operations"), dict):
        return full
    present = [op for op in operations if op in full["operations"]]
    kept = kept_description(full, present, ())
    return {**full, "operations": kept["operations"], "shapes": kept["shapes"]}


def _source(file_path: str) -> tuple[str, os.stat_result] | None:
    """The file botocore's JSON loader would read for ``file_path`` (it tries ``.json``,
    then ``.json.gz``), and its stat; None when neither is there."""
    for suffix in (".json", ".json.gz"):
        path = file_path + suffix
        try:
            return path, os.stat(path)
        except OSError:
            continue
    return None


def _plain(value: Any) -> Any:
    """``value`` with every mapping a plain dict (marshal takes no ``OrderedDict``)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _store(copy: Path, key: tuple[Any, ...], data: Any) -> None:
    write_keyed(copy, key, _plain(data))


def install(
    session: boto3.Session | botocore.session.Session,
    keep: dict[str, frozenset[str]] | None = None,
) -> None:
    """Give ``session``'s (a boto3 or botocore session) data loader a
    :class:`CachingFileLoader` (keeping only ``keep``'s operations of those services); a
    session whose loader cannot take one is left as it is."""
    botocore_session = getattr(session, "_session", session)
    try:
        loader = botocore_session.get_component("data_loader")
    except Exception:  # not a botocore session: nothing to do
        return
    inner = getattr(loader, "file_loader", None)
    if inner is None or isinstance(inner, CachingFileLoader):
        return
    loader.file_loader = CachingFileLoader(inner, keep=keep)
    _keep_service_listings(loader)


def _keep_service_listings(loader: Any) -> None:
    """botocore lists every service folder (≈ 400, each folder's versions looked into) once
    per kind of file it loads; while the loader searches only the folders installed packages
    ship (botocore's and boto3's ``data``: fixed for their versions), the listing is kept
    beside the copies."""
    try:
        import boto3
        import botocore.loaders

        shipped = {
            os.path.realpath(botocore.loaders.Loader.BUILTIN_DATA_PATH),
            os.path.realpath(os.path.join(os.path.dirname(boto3.__file__), "data")),
        }
        paths = [os.path.realpath(p) for p in loader.search_paths if os.path.isdir(p)]
    except Exception:  # another kind of loader: leave it as it is
        return
    if not paths or not set(paths) <= shipped:
        return  # a folder of the user's (~/.aws/models, AWS_DATA_PATH) may change any time
    original = loader.list_available_services
    folder = cache_folder()
    known: dict[str, Any] = {}
    lock = threading.Lock()

    def list_available_services(type_name: str) -> Any:
        with lock:
            if type_name in known:
                return known[type_name]
        key = (_FORMAT, "services", type_name, tuple(paths), boto3.__version__)
        copy = folder / f"services-{hashlib.sha256(repr(key).encode()).hexdigest()[:16]}.marshal"
        found = read_keyed(copy, key)
        if not isinstance(found, list):
            found = list(original(type_name))
            _store(copy, key, found)
        with lock:
            known[type_name] = found
        return found

    loader.list_available_services = list_available_services
