"""Hostile and random input never makes the API answer 5xx (P4)."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import bearer

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TEXT = st.text(max_size=300)


@FUZZ
@given(
    data=st.binary(max_size=2000),
    name=TEXT,
    reference=TEXT,
    destination=TEXT,
    notify=TEXT,
    idem=st.one_of(st.none(), st.text(max_size=300)),
)
def test_random_uploads_answer_202_or_4xx(
    client: FlaskClient,
    tenant: tuple[str, str],
    data: bytes,
    name: str,
    reference: str,
    destination: str,
    notify: str,
    idem: str | None,
) -> None:
    _, key = tenant
    headers = bearer(key)
    if idem is not None and idem.isascii() and "\n" not in idem and "\r" not in idem:
        headers["Idempotency-Key"] = idem
    response = client.post(
        "/v1/shipments",
        data={
            "documents": [(io.BytesIO(data), name)],
            "reference": reference,
            "destination": destination,
            "notify": notify,
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 202 or 400 <= response.status_code < 500, response.data
    assert "error" in response.get_json() or response.status_code == 202


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=20,
)


@FUZZ
@given(body=st.one_of(JSONISH, st.fixed_dictionaries({"codes": st.lists(TEXT, max_size=20)})))
def test_random_code_checks_answer_200_or_4xx(
    client: FlaskClient, tenant: tuple[str, str], body: Any
) -> None:
    _, key = tenant
    response = client.post("/v1/codes/check", json=body, headers=bearer(key))
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.data


@FUZZ
@given(
    path=st.sampled_from(["/v1/shipments", "/v1/shipments/x", "/v1/shipments/x/report"]),
    query=st.dictionaries(
        st.sampled_from(
            ["status", "verdict", "limit", "cursor", "created_after", "format", "lang"]
        ),
        TEXT,
        max_size=4,
    ),
)
def test_random_queries_answer_4xx_not_5xx(
    client: FlaskClient, tenant: tuple[str, str], path: str, query: dict[str, str]
) -> None:
    _, key = tenant
    response = client.get(path, query_string=query, headers=bearer(key))
    assert response.status_code < 500, response.data


@FUZZ
@given(
    data=st.binary(max_size=3000),
    prefix=st.sampled_from([b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"]),
)
def test_random_photos_answer_4xx(
    client: FlaskClient, tenant: tuple[str, str], data: bytes, prefix: bytes
) -> None:
    _, key = tenant
    response = client.post("/v1/scans", data=prefix + data, headers=bearer(key))
    assert 200 <= response.status_code < 500, response.data
