import ast
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from rest_framework import exceptions as drf

from core import errors
from core.tests import urls as test_urls

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


# --- Application errors (core.errors) -> one mapping in core.exceptions ----------------------

ROOT = Path(__file__).resolve().parents[2]


def _raise(client, monkeypatch, make_error, path="/api/test/raise/"):
    monkeypatch.setattr(test_urls, "TO_RAISE", make_error)
    return client.get(path)


def _answer(response) -> tuple[int, dict, dict]:
    headers = {
        name: response[name] for name in ("Retry-After", "WWW-Authenticate") if name in response
    }
    return response.status_code, response.json(), headers


MAPPING = [
    (
        lambda: errors.Invalid("Must be greater than 0.", field="amount"),
        400,
        {
            "detail": "amount: Must be greater than 0.",
            "code": "invalid",
            "amount": ["Must be greater than 0."],
        },
        {},
    ),
    (
        lambda: errors.Invalid(
            fields={"password1": ["Too short.", "Too common."]}, code="password_too_short"
        ),
        400,
        {
            "detail": "password1: Too short.",
            "code": "password_too_short",
            "password1": ["Too short.", "Too common."],
        },
        {},
    ),
    (
        lambda: errors.Invalid("Taken.", field="non_field_errors", code="unique"),
        400,
        {"detail": "Taken.", "code": "unique", "non_field_errors": ["Taken."]},
        {},
    ),
    (
        lambda: errors.Unauthenticated("Token is blacklisted", code="token_not_valid"),
        401,
        {"detail": "Token is blacklisted", "code": "token_not_valid"},
        {"WWW-Authenticate": "Token"},
    ),
    (
        lambda: errors.InsufficientFunds(),
        402,
        {"detail": "Not enough money.", "code": "insufficient_funds"},
        {},
    ),
    (
        lambda: errors.Forbidden("This account is disabled.", code="account_disabled"),
        403,
        {"detail": "This account is disabled.", "code": "account_disabled"},
        {},
    ),
    (lambda: errors.NotFound(), 404, {"detail": "Not found.", "code": "not_found"}, {}),
    (
        lambda: errors.Conflict(
            "Closed.", code="outside_reading_window", extra={"window": {"opens": "2026-11-15"}}
        ),
        409,
        {"detail": "Closed.", "code": "outside_reading_window", "window": {"opens": "2026-11-15"}},
        {},
    ),
    (
        lambda: errors.PayloadTooLarge(),
        413,
        {"detail": "The request body is too large.", "code": "payload_too_large"},
        {},
    ),
    (
        lambda: errors.Unprocessable("Key reused.", code="idempotency_key_reused"),
        422,
        {"detail": "Key reused.", "code": "idempotency_key_reused"},
        {},
    ),
    (
        lambda: errors.RateLimited("Slow down.", retry_after=14.2, code="too_many_codes"),
        429,
        {"detail": "Slow down. Expected available in 15 seconds.", "code": "too_many_codes"},
        {"Retry-After": "15"},
    ),
    (
        lambda: errors.InternalError(),
        500,
        {"detail": "A server error occurred.", "code": "error"},
        {},
    ),
    (
        lambda: errors.Unavailable("Busy.", code="account_busy", retry_after=1),
        503,
        {"detail": "Busy.", "code": "account_busy"},
        {"Retry-After": "1"},
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make_error", "status", "body", "headers"), MAPPING, ids=[str(m[1]) for m in MAPPING]
)
def test_each_application_error_answers_its_status_body_and_headers(
    api_client, monkeypatch, make_error, status, body, headers
):
    response = _raise(api_client, monkeypatch, make_error)
    assert _answer(response) == (status, body, headers)
    assert list(response.json()) == list(body)  # detail, code, then the rest, in that order


@pytest.mark.django_db
def test_unauthenticated_without_an_auth_scheme_is_403_as_drf_answers_it(api_client, monkeypatch):
    make = lambda: errors.Unauthenticated("Bad token.", code="token_not_valid")  # noqa: E731
    response = _raise(api_client, monkeypatch, make, path="/api/test/raise-without-auth/")
    assert _answer(response) == (403, {"detail": "Bad token.", "code": "token_not_valid"}, {})


class _DrfConflict(drf.APIException):
    """What core.exceptions.Conflict was before the application errors."""

    status_code = 409
    default_code = "conflict"


# Each application error next to the DRF exception the code raised before: same answer.
SAME_AS_DRF = [
    (
        lambda: errors.Invalid("Must be greater than 0.", field="amount"),
        lambda: drf.ValidationError({"amount": ["Must be greater than 0."]}),
    ),
    (
        lambda: errors.Invalid("Wrong code.", field="token", code="invalid_code"),
        lambda: drf.ValidationError(
            {"token": [drf.ErrorDetail("Wrong code.", code="invalid_code")]}
        ),
    ),
    (
        lambda: errors.NotFound("No such account of yours.", field="account"),
        lambda: drf.NotFound({"account": ["No such account of yours."]}),
    ),
    (
        lambda: errors.Conflict(
            fields={"transaction_id": ["Already accepted."]}, code="transaction_id_conflict"
        ),
        lambda: _DrfConflict(
            {"transaction_id": ["Already accepted."]}, code="transaction_id_conflict"
        ),
    ),
    (lambda: errors.NotFound("No such service."), lambda: drf.NotFound("No such service.")),
    (
        lambda: errors.Forbidden("Only a superuser.", code="superuser_required"),
        lambda: drf.PermissionDenied("Only a superuser.", code="superuser_required"),
    ),
    (
        lambda: errors.Unauthenticated("Token is blacklisted", code="token_not_valid"),
        lambda: drf.AuthenticationFailed("Token is blacklisted", code="token_not_valid"),
    ),
    (
        lambda: errors.RateLimited("Locked.", retry_after=86278.4, code="signin_locked"),
        lambda: drf.Throttled(wait=86278.4, detail="Locked.", code="signin_locked"),
    ),
    (
        lambda: errors.RateLimited("Wait.", retry_after=1, code="code_resend_too_soon"),
        lambda: drf.Throttled(wait=1, detail="Wait.", code="code_resend_too_soon"),
    ),
    (
        lambda: errors.InternalError("Could not create the account; try again."),
        lambda: drf.APIException("Could not create the account; try again."),
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(
    ("make_error", "make_drf"), SAME_AS_DRF, ids=[type(m[1]()).__name__ for m in SAME_AS_DRF]
)
def test_application_errors_answer_exactly_as_the_drf_exceptions_they_replace(
    api_client, monkeypatch, make_error, make_drf, language
):
    with translation.override(language):
        ours = _raise(api_client, monkeypatch, make_error)
        theirs = _raise(api_client, monkeypatch, make_drf)
    assert ours.content == theirs.content
    assert _answer(ours) == _answer(theirs)


@pytest.mark.django_db
def test_django_validation_error_keeps_its_400_invalid_answer(api_client, monkeypatch):
    make = lambda: DjangoValidationError({"month": ["2031-01 is in the future."]})  # noqa: E731
    response = _raise(api_client, monkeypatch, make)
    assert _answer(response) == (
        400,
        {
            "detail": "month: 2031-01 is in the future.",
            "code": "invalid",
            "month": ["2031-01 is in the future."],
        },
        {},
    )


def _imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_domain_layer_does_not_import_rest_framework():
    """core.errors, every app's errors.py, services and selectors stay free of the HTTP layer."""
    domain = [ROOT / "core" / "errors.py"]
    for pattern in (
        "*/errors.py",
        "*/*/errors.py",
        "*/services.py",
        "*/*/services.py",
        "*/services/*.py",
        "*/selectors.py",
        "*/*/selectors.py",
    ):
        domain += [p for p in ROOT.glob(pattern) if ".venv" not in p.parts]
    assert len(domain) > 15
    offenders = {
        str(path.relative_to(ROOT))
        for path in domain
        if any(name.split(".")[0].startswith("rest_framework") for name in _imports_of(path))
    }
    assert offenders == set()
