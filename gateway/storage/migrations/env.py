"""Alembic environment: runs on the connection handed over by `gateway.storage.db.upgrade`."""

from __future__ import annotations

from alembic import context

import gateway.storage.models  # noqa: F401  (registers every table on Base.metadata)
from gateway.storage.base import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
