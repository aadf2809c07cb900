"""Gate a HyperPod cluster creation on hp-preflight, from a provisioning script.

    python examples/provision_with_preflight.py cluster-config.json [--request-quotas]

Runs the account pre-flight; on any FAIL prints each finding with its fix and exits 1. With
--request-quotas it also submits the missing quota increases (the only thing that changes
the account) and waits up to 10 minutes for them. It never creates the cluster: it prints
the command to run once everything passes.
"""

from __future__ import annotations

import argparse
import sys

import hyperpod_preflight as hp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config")
    parser.add_argument("--request-quotas", action="store_true")
    args = parser.parse_args()
    try:
        spec = hp.load_spec(args.config)
        report = hp.run_preflight(spec)
    except hp.PreflightError as exc:
        print(f"pre-flight could not run: {exc}", file=sys.stderr)
        return exc.exit_code

    failures = report.by_status(hp.Status.FAIL)
    for f in failures:
        print(f"FAIL {f.check_id} [{f.resource}]: {f.message}\n  fix: {f.remediation}")
    if args.request_quotas and any(f.area == "quotas" for f in failures):
        plans = [p for p in hp.plan_quota_requests(spec) if p.action == "submit"]
        for result in hp.submit_quota_requests(plans, wait=True, timeout_s=600):
            print(
                f"quota {result.quota_name}: {result.action} {result.status or ''} "
                f"case {result.case_id or '-'}"
            )
    if failures:
        return 1
    print(f"pre-flight passed ({len(report.results)} findings); create the cluster with:")
    print(f"  aws sagemaker create-cluster --cli-input-json file://{args.config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
