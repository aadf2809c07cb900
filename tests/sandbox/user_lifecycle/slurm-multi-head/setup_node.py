#!/usr/bin/env python3
"""A user's own node set-up (test fixture): reads provisioning_parameters.json and mounts
the FSx for Lustre file system it names at /fsx."""

import argparse
import json
import subprocess


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", required=True)
    args = parser.parse_args()
    with open(args.params) as handle:
        params = json.load(handle)
    dns_name = params.get("fsx_dns_name")
    mount_name = params.get("fsx_mountname")
    if dns_name and mount_name:
        subprocess.run(["mkdir", "-p", "/fsx"], check=True)
        source = dns_name + "@tcp:/" + mount_name
        subprocess.run(["mount", "-t", "lustre", source, "/fsx"], check=True)


if __name__ == "__main__":
    main()
