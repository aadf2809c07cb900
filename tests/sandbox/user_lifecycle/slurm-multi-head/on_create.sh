#!/bin/bash
# A user's own OnCreate script (test fixture): logs, then hands over to setup_node.py.
set -euo pipefail
cd "$(dirname "$0")"
echo "on_create: starting on $(hostname)"
python3 setup_node.py --params provisioning_parameters.json
echo "on_create: done"
