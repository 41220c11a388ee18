"""What the queue runs: one shipment through the pipeline, the outbox and the maintenance loops.

The database is the record of truth. A job takes a bare shipment id, re-loads everything,
and is safe to run twice: a final status is never left, the report is upserted by shipment id
and outbox rows are unique per report and recipient. With `GATEWAY_REDIS_URL` jobs go to rq
workers (`gateway worker`, entry points in `gateway.workers`); without it an in-process thread
pool runs the same code.

- `run`: one shipment to a final status (`run_shipment`), its report and outbox rows;
- `outbox`: delivery of the outbox rows (email and webhooks), with claims and backoff;
- `maintenance`: the reconciler, the start-up resubmission and the daemon loops;
- `executors`: where jobs run (`InlineExecutor`, `RqExecutor`).
"""
