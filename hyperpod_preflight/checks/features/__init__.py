"""Checks of the newer CreateCluster features: a custom AMI (``ImageId``), autoscaling
(``AutoScaling``, ``ClusterRole``, ``NodeProvisioningMode``), the training-plan window and
``ScheduledUpdateConfig``. Their ids live in the area of the fact they judge (``config``,
``capacity``). Importing the package registers every one of them.
"""

from . import autoscaling, image, scheduled_update, training_plan_window

__all__ = ["autoscaling", "image", "scheduled_update", "training_plan_window"]
