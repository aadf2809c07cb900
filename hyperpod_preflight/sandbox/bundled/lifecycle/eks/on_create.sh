#!/bin/bash
# OnCreate entry script for an EKS-orchestrated HyperPod cluster: hyperpod-preflight's
# reference. HyperPod joins the node to the EKS cluster itself; this script records what the
# node looks like and is the place for node-level additions that are safe on every node.
# Everything it prints goes to /var/log/provision/provisioning.log as well.
set -euo pipefail

LOG_DIR=/var/log/provision
mkdir -p "$LOG_DIR"
exec > >(tee -a "$LOG_DIR/provisioning.log") 2>&1

log() {
    echo "[on_create] $(date -u +%Y-%m-%dT%H:%M:%SZ) $*"
}

log "node $(hostname), kernel $(uname -r)"

RESOURCE_CONFIG="${SAGEMAKER_RESOURCE_CONFIG_PATH:-/opt/ml/config/resource_config.json}"
if [[ -r "$RESOURCE_CONFIG" ]]; then
    log "resource config: $RESOURCE_CONFIG"
else
    log "no resource config at $RESOURCE_CONFIG"
fi

# InstanceStorageConfigs' EBS volume is mounted at /opt/sagemaker.
if mountpoint -q /opt/sagemaker; then
    log "/opt/sagemaker: $(df -h --output=size,avail /opt/sagemaker | tail -n 1)"
fi

# Your own steps go here.
log "done"
