"""Lifecycle script checks (area ``lifecycle``): the scripts under each ``SourceS3Uri`` prefix,
linted as HyperPod will run them, from the entry scripts the config names (``OnCreate``,
``OnInitComplete``): line endings, encodings, syntax, files they run or read that are not in
the prefix, secrets, downloads from the internet while the subnets have no egress, and the
Slurm ``provisioning_parameters.json`` against the config's groups.

The prefix is listed once and only the files the entry scripts reach are fetched, each at
most 1 MiB (a ranged GET). The lint itself is pure (:mod:`~hyperpod_preflight.analysis.lifecycle`);
``hp-preflight lifecycle lint PATH`` runs the same lint on a local folder.

Each module registers its checks when imported; the registry imports a module when one of
its checks is selected (``registry.known_checks``, ``registry.get``), so this package
imports none of them.
"""
