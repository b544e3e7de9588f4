"""The OpenAPI schema of /api/v1/ and its Swagger UI."""

from http import HTTPStatus

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db


def api_v1_paths() -> set[str]:
    """Every route under /api/v1/, spelt as OpenAPI spells it: /api/v1/registrations/{id}/."""
    resolver = next(
        p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and str(p.pattern) == "api/v1/"
    )
    paths = set()
    for pattern in resolver.url_patterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern).replace("<uuid:pk>", "{id}")
        paths.add(f"/api/v1/{route}")
    return paths


def test_schema_lists_every_api_v1_path(client):
    response = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == HTTPStatus.OK
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Citizen account API"
    expected = api_v1_paths()
    assert {"/api/v1/registrations/{id}/code/", "/api/v1/auth/login/", "/api/v1/me/"} <= expected
    assert set(schema["paths"]) == expected


def test_schema_describes_tokens_and_error_answers(client):
    schema = yaml.safe_load(client.get(reverse("api-schema")).content)

    assert "knoxApiToken" in schema["components"]["securitySchemes"]
    login = schema["paths"]["/api/v1/auth/login/"]["post"]
    assert {"200", "400", "429"} <= set(login["responses"])
    assert login.get("security") in (None, [], [{}])  # signing in needs no token
    me = schema["paths"]["/api/v1/me/"]["get"]
    assert {"knoxApiToken": []} in me["security"]
    start = schema["paths"]["/api/v1/registrations/"]["post"]
    assert {"201", "400", "429"} <= set(start["responses"])


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert "/api/v1/registrations/{id}/code/" in yaml.safe_load(target.read_text())["paths"]


def test_swagger_ui_is_served(client):
    response = client.get(reverse("api-docs"))

    assert response.status_code == HTTPStatus.OK
    assert "swagger-ui" in response.content.decode()
    assert reverse("api-schema") in response.content.decode()
