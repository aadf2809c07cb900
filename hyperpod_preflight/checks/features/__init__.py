"""Checks of the newer CreateCluster features: a custom AMI (``ImageId``), autoscaling
(``AutoScaling``, ``ClusterRole``, ``NodeProvisioningMode``), the training-plan window and
``ScheduledUpdateConfig``. Their ids live in the area of the fact they judge (``config``,
``capacity``).

Each module registers its checks when imported; the registry imports a module when one of
its checks is selected (``registry.known_checks``, ``registry.get``), so this package
imports none of them.
"""
