import pytest


@pytest.mark.parametrize("path", ["/api/docs/", "/swagger/", "/api/redoc/", "/redoc/"])
def test_documentation_pages_are_public(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 200
    assert b"<html" in response.content.lower()


@pytest.mark.django_db
def test_openapi_schema_is_public_and_lists_the_api(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"]
