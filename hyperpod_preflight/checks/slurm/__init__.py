"""Slurm checks (area ``slurm``): the FSx file systems a cluster mounts (from its instance
groups' ``InstanceStorageConfigs`` and the lifecycle ``provisioning_parameters.json``) and
the agreement of ``SlurmConfig`` with that parameters file. Importing the package registers
every slurm check.
"""

from . import fsx, provisioning

__all__ = ["fsx", "provisioning"]
