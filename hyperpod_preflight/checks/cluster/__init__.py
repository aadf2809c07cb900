"""Live-cluster checks (area ``cluster``), run only by ``hp-preflight diagnose``: the
cluster's status and failure message, its nodes per instance group, its recent events and
the lifecycle logs of failed instances, each mapped to the pre-flight checks that catch the
usual cause (``analysis/symptoms.json``).

Each module registers its checks when imported; the registry imports a module when one of
its checks is selected (``registry.known_checks``, ``registry.get``), so this package
imports none of them.
"""
