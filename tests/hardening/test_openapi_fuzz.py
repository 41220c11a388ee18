"""P4 at the HTTP surface: schemathesis generates requests from `/v1/openapi.json` and the
gateway answers every one of them without a 5xx (in process, against the WSGI app)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from gateway.services import ServiceOptions
from tests.factories import TextChecker, app_for, bearer, make_services, new_tenant, post_shipment

pytestmark = pytest.mark.timeout(120)

_STATE: dict[str, Any] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The service's OpenAPI document, loaded from the app itself, with a tenant's key."""
    options = ServiceOptions(rate_limit=1_000_000, rate_burst=1_000_000)
    svc = make_services(tmp_path_factory.mktemp("fuzz"), checker=TextChecker(), options=options)
    app = app_for(svc)
    _tenant, key = new_tenant(svc)
    shipped = post_shipment(app.test_client(), key, [("m.csv", b"code\nKEY:fuzz-1\n")])
    assert shipped.status_code == 202
    _STATE["key"] = key
    yield schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    svc.close()


def test_no_generated_request_gets_a_5xx(api_schema: Any) -> None:
    # schemathesis' own pytest plugin does not load under this pytest, so each operation's
    # strategy is driven by hypothesis directly
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 5
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for operation in operations:

        @settings(
            max_examples=60,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = case.call(headers=bearer(_STATE["key"]))
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:300]}"
                )

        run()
    assert not failures, "\n".join(failures[:10])
    # the fuzzing really ran: many requests, and some of them were good enough to succeed
    assert sum(statuses.values()) >= 5 * len(operations), statuses
    assert any(200 <= code < 300 for code in statuses), statuses
