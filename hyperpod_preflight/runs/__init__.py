"""The one run pipeline: select the checks once, gather every fact they declare at once,
judge each with a read-only view of exactly what it declared, apply ignores and fail-on,
and build one report, timed once. ``check``, the VPC audit, ``capacity``, ``host`` and the
sandbox are inputs to it."""
