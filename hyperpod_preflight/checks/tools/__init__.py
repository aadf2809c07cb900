"""Local tool checks (area ``tools``): the command-line tools a HyperPod user needs on the
machine that runs the pre-flight, found on PATH and judged by the version each prints. They
need no AWS access (``--offline`` runs them) and change nothing; ``--skip tools`` leaves them
out of ``check``, and ``hp-preflight tools`` runs only them.

Each module registers its checks when imported; the registry imports a module when one of
its checks is selected (``registry.known_checks``, ``registry.get``), so this package
imports none of them.
"""
