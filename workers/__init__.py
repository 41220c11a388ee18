"""rq worker entry points (see `workers/jobs.py`)."""
