"""`python -m workers`: the rq worker (the entry points live in `gateway.workers`)."""
