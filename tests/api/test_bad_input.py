"""Malformed requests get a 4xx with a message, never a server error, on every endpoint."""

from __future__ import annotations

import pytest

POSTS = ["/api/v1/contacts/", "/api/v1/cases/", "/api/v1/calls/"]


@pytest.mark.parametrize("url", POSTS)
@pytest.mark.parametrize(
    "raw",
    [
        "",
        "{",
        "[" * 100_000,
        '{"a": NaN}',
        "1" * 5000,
        '"\\ud800"',
        '{"channel": "\\u0000"}',
        "true",
    ],
)
def test_malformed_json_is_a_400(world_a, api_a, url, raw):
    response = api_a.post(url, raw=raw)
    assert response.status_code == 400, response.content[:200]
    assert isinstance(response.json(), dict)


def test_invalid_utf8_wrong_content_type_and_oversized_bodies(world_a, api_a):
    bad_bytes = api_a.client.post(
        "/api/v1/cases/", b'{"subject": "\xff"}', content_type="application/json", **api_a.headers
    )
    assert bad_bytes.status_code == 400
    form = api_a.client.post("/api/v1/cases/", {"subject": "x"}, **api_a.headers)
    assert form.status_code == 415
    huge = api_a.post("/api/v1/calls/", raw="[" + ",".join(["{}"] * 3_000_000) + "]")
    assert huge.status_code == 413


def test_unsupported_methods_are_405(world_a, api_a):
    assert api_a.client.delete("/api/v1/cases/", **api_a.headers).status_code == 405
    assert api_a.client.put("/api/v1/services/", **api_a.headers).status_code == 405
    assert api_a.client.options("/api/v1/cases/", **api_a.headers).status_code == 405
    assert api_a.post("/api/v1/services/", {}).status_code == 405


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/services/", {"q": "\x00", "unit": "99999999999999999999999"}),
        ("/api/v1/services/", {"bookable": "\x00"}),
        ("/api/v1/search/", {"q": "\x00"}),
        ("/api/v1/contacts/", {"started_after": "99999-01-01", "channel": "\x00"}),
        ("/api/v1/contacts/", {"started_after": "9999-12-31T23:59:59-23:59"}),
        ("/api/v1/cases/", {"org_unit": "-1", "service": "1.5", "ordering": "\x00"}),
    ],
)
def test_bad_query_parameters_are_a_400(world_a, api_a, url, params):
    response = api_a.get(url, params)
    assert response.status_code == 400, response.content[:200]
    assert set(response.json()) <= set(params)


def test_huge_ids_in_paths_are_not_found(world_a, api_a):
    for url in ("/api/v1/services/", "/api/v1/contacts/"):
        assert api_a.get(f"{url}{10**30}/").status_code == 404
    assert api_a.get("/api/v1/cases/" + "9" * 40 + "/").status_code == 404


def test_lone_surrogates_and_nul_characters_in_text_are_field_errors(world_a, api_a):
    unit = world_a.units["office"].pk
    for subject in ('"\\ud800"', '"a\\u0000b"'):
        raw = f'{{"channel": "web", "org_unit": {unit}, "subject": {subject}}}'
        response = api_a.post("/api/v1/cases/", raw=raw)
        assert response.status_code == 400 and set(response.json()) == {"subject"}
    raw = '{"call_id": "\\ud800", "arrived_at": "2025-01-01T10:00", "ended_at": "2025-01-01T10:01"}'
    assert set(api_a.post("/api/v1/calls/", raw=raw).json()) == {"call_id"}
