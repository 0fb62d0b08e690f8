import pytest

pytestmark = pytest.mark.urls("core.tests.urls")


def test_unknown_api_path_answers_json_404(api_client):
    response = api_client.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_wrong_method_on_plain_view_answers_json_405(api_client):
    response = api_client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"


def test_wrong_method_on_api_view_answers_json_405(api_client):
    response = api_client.delete("/api/test/echo/")
    assert response.status_code == 405
    assert response.json() == {
        "detail": 'Method "DELETE" not allowed.',
        "code": "method_not_allowed",
    }


def test_validation_error_names_the_field_and_keeps_field_errors(api_client):
    response = api_client.post("/api/test/echo/", {"amount": "-1", "name": "x"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "min_value"
    assert body["detail"].startswith("amount: ")
    assert body["amount"] == ["Ensure this value is greater than or equal to 0."]


def test_missing_field_error(api_client):
    response = api_client.post("/api/test/echo/", {"amount": "1"}, format="json")
    assert response.status_code == 400
    assert response.json()["name"] == ["This field is required."]
    assert response.json()["code"] == "required"


def test_malformed_json_answers_400_not_500(api_client):
    response = api_client.post("/api/test/echo/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_unhandled_crash_answers_json_500(api_client):
    api_client.raise_request_exception = False
    response = api_client.get("/api/test/crash/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error.", "code": "server_error"}


@pytest.mark.django_db
def test_anonymous_gets_401_with_www_authenticate(api_client):
    response = api_client.get("/api/test/private/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_bad_bearer_header_keeps_the_authentication_error_code(api_client):
    response = api_client.get("/api/test/private/", HTTP_AUTHORIZATION="Bearer")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "bad_authorization_header"
    assert body["detail"] == "Authorization header must contain two space-delimited values"


@pytest.mark.django_db
def test_invalid_jwt_answers_token_not_valid(api_client):
    response = api_client.get("/api/test/private/", HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "token_not_valid"
    assert not body["detail"].startswith("detail:")
