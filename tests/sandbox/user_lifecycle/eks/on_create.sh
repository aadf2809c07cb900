#!/bin/bash
# A user's own OnCreate script for an EKS-orchestrated cluster (test fixture).
set -euo pipefail
echo "on_create: node $(hostname) joining"
if [ -d /opt/sagemaker ]; then
    df -h /opt/sagemaker
fi
echo "on_create: done"
