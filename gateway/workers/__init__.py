"""The worker side of the queue: rq entry points (`jobs`) and the `gateway worker` command."""
