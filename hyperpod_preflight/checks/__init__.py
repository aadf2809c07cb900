"""Account checks, one package or module per area (config, network, capacity, quotas, s3,
lifecycle, ...): functions of (spec, plan, facts, analysis) that return outcomes and do no
I/O of their own. Importing an area registers its checks (see ``registry``)."""
