#!/usr/bin/env python3
"""Slurm node set-up run by on_create.sh: hyperpod-preflight's reference lifecycle script.

It does two things, in this order, and nothing else:

1. reads provisioning_parameters.json and checks that it names exactly the cluster's instance
   groups (the resource config HyperPod writes on the node lists them), so that a mismatch
   stops the lifecycle run here, with the reason in /var/log/provision/provisioning.log,
   instead of leaving nodes without a Slurm role;
2. mounts FSx for Lustre at /fsx when the file gives fsx_dns_name and fsx_mountname.

HyperPod configures Slurm itself when the instance groups carry SlurmConfig (NodeType,
PartitionNames). Add your own steps at the end of main(). Standard library only, and syntax
(f-strings, no annotations) that the Python 3.8 of older HyperPod images still reads.
"""

import argparse
import json
import os
import subprocess
import sys

FSX_MOUNT_POINT = "/fsx"
FSX_OPTIONS = "relatime,flock"
FSTAB = "/etc/fstab"


def log(message):
    print("[lifecycle_script] " + message, flush=True)


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as error:
        sys.exit(f"cannot read the {what} {path}: {error}")


def group_names(resource_config):
    """The instance group names in the resource config; empty when its layout is unknown."""
    groups = resource_config.get("InstanceGroups") if isinstance(resource_config, dict) else None
    names = set()
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, dict):
            continue
        name = group.get("Name") or group.get("InstanceGroupName")
        if isinstance(name, str):
            names.add(name)
    return names


def named_groups(params, problems):
    """Every instance group the parameters name; what is malformed goes to ``problems``."""
    named = []
    for key in ("controller_group", "login_group"):
        value = params.get(key)
        if key == "controller_group" and not value:
            problems.append('"controller_group" is missing')
        if value is not None and not isinstance(value, str):
            problems.append(f'"{key}" must be a string')
        elif value:
            named.append(value)
    workers = params.get("worker_groups")
    if not isinstance(workers, list) or not workers:
        problems.append('"worker_groups" must be a non-empty list')
        workers = []
    for worker in workers:
        ok = isinstance(worker, dict) and all(
            isinstance(worker.get(k), str) and worker.get(k)
            for k in ("instance_group_name", "partition_name")
        )
        if not ok:
            problems.append(f"worker group {worker!r} needs instance_group_name and partition_name")
            continue
        named.append(worker["instance_group_name"])
    return named


def check_parameters(params, cluster_groups):
    if not isinstance(params, dict):
        return ["the provisioning parameters must be a JSON object"]
    problems = []
    named = named_groups(params, problems)
    if cluster_groups:
        for name in named:
            if name not in cluster_groups:
                problems.append(
                    '"{}" is not an instance group of this cluster ({})'.format(
                        name, ", ".join(sorted(cluster_groups))
                    )
                )
        for name in sorted(cluster_groups - set(named)):
            problems.append(f'instance group "{name}" is not named in the parameters')
    else:
        log("the resource config lists no instance groups: group names not checked")
    return problems


def mount_fsx(dns_name, mount_name):
    source = f"{dns_name}@tcp:/{mount_name}"
    if os.path.ismount(FSX_MOUNT_POINT):
        log(f"{FSX_MOUNT_POINT} is already mounted")
    else:
        os.makedirs(FSX_MOUNT_POINT, exist_ok=True)
        log(f"mounting {source} at {FSX_MOUNT_POINT}")
        command = ["mount", "-t", "lustre", "-o", FSX_OPTIONS, source, FSX_MOUNT_POINT]
        subprocess.run(command, check=True)
    with open(FSTAB, encoding="utf-8") as handle:
        present = any(line.split()[:2] == [source, FSX_MOUNT_POINT] for line in handle)
    if not present:
        with open(FSTAB, "a", encoding="utf-8") as handle:
            handle.write(f"{source} {FSX_MOUNT_POINT} lustre defaults,{FSX_OPTIONS},_netdev 0 0\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-rc", "--resource-config", required=True)
    parser.add_argument("-pp", "--provisioning-parameters", required=True)
    args = parser.parse_args(argv)

    params = load_json(args.provisioning_parameters, "provisioning parameters")
    resource_config = load_json(args.resource_config, "resource config")
    problems = check_parameters(params, group_names(resource_config))
    if problems:
        for problem in problems:
            log("ERROR: " + problem)
        sys.exit(f"{args.provisioning_parameters} does not match the cluster")
    log("provisioning parameters match the cluster's instance groups")

    dns_name, mount_name = params.get("fsx_dns_name"), params.get("fsx_mountname")
    if dns_name and mount_name:
        mount_fsx(dns_name, mount_name)
    elif dns_name or mount_name:
        sys.exit("fsx_dns_name and fsx_mountname must be given together")

    # Your own steps go here.
    log("done")


if __name__ == "__main__":
    main()
