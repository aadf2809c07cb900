#!/bin/bash
# OnCreate entry script for a Slurm HyperPod cluster: hyperpod-preflight's reference.
# HyperPod downloads the LifeCycleConfig.SourceS3Uri prefix to each node and runs this file
# there. Everything it prints goes to /var/log/provision/provisioning.log as well.
set -euo pipefail

LOG_DIR=/var/log/provision
mkdir -p "$LOG_DIR"
exec > >(tee -a "$LOG_DIR/provisioning.log") 2>&1

# Run from this script's directory, whatever the caller's working directory is.
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$SCRIPT_DIR"

RESOURCE_CONFIG="${SAGEMAKER_RESOURCE_CONFIG_PATH:-/opt/ml/config/resource_config.json}"
echo "[on_create] $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname): resource config ${RESOURCE_CONFIG}"

python3 -u lifecycle_script.py -rc "$RESOURCE_CONFIG" -pp provisioning_parameters.json

echo "[on_create] $(date -u +%Y-%m-%dT%H:%M:%SZ) done"
