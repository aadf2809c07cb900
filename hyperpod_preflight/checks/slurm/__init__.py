"""Slurm checks (area ``slurm``): the FSx file systems a cluster mounts (from its instance
groups' ``InstanceStorageConfigs`` and the lifecycle ``provisioning_parameters.json``) and
the agreement of ``SlurmConfig`` with that parameters file.

Each module registers its checks when imported; the registry imports a module when one of
its checks is selected (``registry.known_checks``, ``registry.get``), so this package
imports none of them.
"""
