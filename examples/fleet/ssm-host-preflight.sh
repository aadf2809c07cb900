#!/bin/bash
# Run `hp-preflight host` on every node of a SageMaker HyperPod cluster through AWS Systems
# Manager, save one JSON report per node, and aggregate them.
#
#   examples/fleet/ssm-host-preflight.sh my-cluster [instance-group] [region]
#
# HyperPod nodes are SSM targets named sagemaker-cluster:<cluster-id>_<group>-<instance-id>,
# where <cluster-id> is the last part of the cluster ARN (not its name). `aws ssm
# send-command` does not accept these targets; `aws ssm start-session` with the
# AWS-StartNonInteractiveCommand document does (it needs the session-manager-plugin).
# Sessions start at about 3 per second per account: the loop paces itself.
#
# Needs: aws CLI v2, session-manager-plugin, jq; hp-preflight installed on the nodes
# (HP below, e.g. a venv on /fsx) and on this machine (for the aggregate).
set -euo pipefail

CLUSTER=${1:?usage: $0 CLUSTER_NAME [INSTANCE_GROUP] [REGION]}
GROUP=${2:-}
REGION=${3:-${AWS_REGION:-us-west-2}}
HP=${HP:-/fsx/hp-venv/bin/hp-preflight}
PROFILE=${PROFILE:-hyperpod-node}
DEEP=${DEEP:-}   # e.g. 90: add --deep --deep-seconds 90 (needs torch where HP runs)
REPORTS=${REPORTS:-reports/$CLUSTER}
mkdir -p "$REPORTS"

CLUSTER_ARN=$(aws sagemaker describe-cluster --cluster-name "$CLUSTER" --region "$REGION" \
  --query ClusterArn --output text)
CLUSTER_ID=${CLUSTER_ARN##*/}

# Every node (the CLI pages for us), optionally one instance group.
aws sagemaker list-cluster-nodes --cluster-name "$CLUSTER" --region "$REGION" \
  ${GROUP:+--instance-group-name-contains "$GROUP"} \
  --query 'ClusterNodeSummaries[].[InstanceGroupName,InstanceId,InstanceType]' \
  --output text > "$REPORTS/nodes.txt"

params=$(mktemp)
trap 'rm -f "$params"' EXIT

while read -r group instance type; do
  target="sagemaker-cluster:${CLUSTER_ID}_${group}-${instance}"
  # What the node runs: its JSON report between two markers (the session adds lines).
  jq -n --arg cmd "echo @@HP-BEGIN@@; $HP host --profile $PROFILE --instance-type $type \
${DEEP:+--deep --deep-seconds $DEEP }--output json; echo @@HP-END@@" '{command: [$cmd]}' > "$params"
  echo "== $target" >&2
  aws ssm start-session --region "$REGION" --target "$target" \
      --document-name AWS-StartNonInteractiveCommand --parameters "file://$params" </dev/null \
    | tr -d '\r' | sed -n '/@@HP-BEGIN@@/,/@@HP-END@@/p' | sed '1d;$d' \
    > "$REPORTS/$instance.json" || echo "$target: session failed" >&2
  [ -s "$REPORTS/$instance.json" ] || { echo "$target: no report" >&2; rm -f "$REPORTS/$instance.json"; }
  sleep 0.4
done < "$REPORTS/nodes.txt"
rm -f "$REPORTS/nodes.txt"

hp-preflight host aggregate "$REPORTS"
