"""The transactional outbox: report emails and webhooks, claimed, sent and retried."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import update

from gateway.metrics import METRICS
from gateway.storage.models import OutboxMessage
from gateway.storage.repo import Admin, aware

if TYPE_CHECKING:
    from gateway.services import Services

SENDING_LEASE = dt.timedelta(minutes=10)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 15 * 2 ** max(0, attempts - 1)))


def deliver_outbox(
    services: Services, *, shipment_id: str | None = None, limit: int = 100
) -> dict[str, int]:
    """Try every due outbox message (of one shipment, or all); returns counts by outcome.

    A message is claimed (`pending` -> `sending`) by a conditional update before it is sent,
    so two delivery loops never send the same message; a claim older than the lease (a crash
    mid-send) goes back to `pending`.
    """
    from gateway.mail import deliver

    now = services.clock()
    outcome: dict[str, int] = {}
    with services.sessions.begin() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending")
            .where(OutboxMessage.next_attempt_at < now - SENDING_LEASE)
            .values(status="pending")
        )
    with services.sessions() as session:
        if shipment_id is None:
            ids = Admin(session, services.pepper).due_outbox(now, limit)
        else:
            ids = [
                m.id
                for m in session.query(OutboxMessage).filter(
                    OutboxMessage.shipment_id == shipment_id, OutboxMessage.status == "pending"
                )
            ]
    for message_id in ids:
        with services.sessions.begin() as session:
            claimed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
                .where(OutboxMessage.next_attempt_at <= now)
                .values(status="sending", next_attempt_at=services.clock())
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                continue
        with services.sessions() as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            try:
                sent_id = deliver(services, session, message)
            except Exception as exc:  # any failure: retry later with backoff, never lose it
                message.attempts += 1
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                give_up = services.clock() - aware(message.created_at) > dt.timedelta(
                    hours=services.options.mail_retry_hours
                )
                message.status = "undeliverable" if give_up else "pending"
                message.next_attempt_at = services.clock() + _backoff(message.attempts)
                result = message.status
            else:
                message.status = "sent"
                message.sent_at = services.clock()
                message.message_id = sent_id
                message.attempts += 1
                result = "sent"
            session.commit()
        METRICS.inc("gateway_outbox_total", kind=message.kind, outcome=result)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome
