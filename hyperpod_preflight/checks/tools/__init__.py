"""Local tool checks (area ``tools``): the command-line tools a HyperPod user needs on the
machine that runs the pre-flight, found on PATH and judged by the version each prints. They
need no AWS access (``--offline`` runs them) and change nothing; ``--skip tools`` leaves them
out of ``check``, and ``hp-preflight tools`` runs only them.
"""

from . import commands

__all__ = ["commands"]
