import json
import re

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


@pytest.fixture
def schema(api_client, db) -> dict:
    return api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_has_one_domain_tag_a_summary_and_a_description(schema):
    from core.openapi import TAGS

    names = [name for name, _description, _patterns in TAGS]
    assert [tag["name"] for tag in schema["tags"]] == names
    assert all(len(tag["description"]) > 80 for tag in schema["tags"])
    for label, operation in _operations(schema):
        assert len(operation["tags"]) == 1, label
        assert operation["tags"][0] in names, label
        assert operation.get("summary"), label
        assert operation.get("description"), label


def test_the_schema_has_no_project_history_words(schema):
    text = json.dumps(schema, ensure_ascii=False)
    assert not re.search(r"(?i)seed \d|seed example|design\.md", text)


def test_error_responses_have_the_error_body_and_an_example(schema):
    for label, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            media = response.get("content", {}).get("application/json")
            assert media, (label, status)
            assert media.get("examples") or media.get("example") or "$ref" in media["schema"], (
                label,
                status,
            )


def test_protected_operations_document_401_and_lists_their_page_404(schema):
    for label, operation in _operations(schema):
        security = operation.get("security", [])
        if security and {} not in security:
            assert {"401", "403"} <= set(operation["responses"]), label
        if any(p["name"] == "page" for p in operation.get("parameters", [])):
            assert {"400", "404"} <= set(operation["responses"]), label


def test_authorize_dialog_explains_each_scheme(schema):
    schemes = schema["components"]["securitySchemes"]
    assert "`Token " in schemes["tokenAuth"]["description"]
    assert "Bearer" in schemes["jwtAuth"]["description"]
    assert "CSRF" in schemes["cookieAuth"]["description"]


def test_markup_like_words_in_descriptions_are_code_not_html(schema):
    """Swagger UI renders Markdown with HTML: a bare <field> would vanish from the page."""
    texts = [schema["info"]["description"]]
    texts += [op.get("description", "") for _label, op in _operations(schema)]
    texts += [
        r.get("description", "") for _l, op in _operations(schema) for r in op["responses"].values()
    ]
    for text in texts:
        outside_code = re.sub(r"`[^`]*`", "", text)
        assert not re.search(r"<[a-z_ ]+>", outside_code), text


def test_request_bodies_are_json_except_the_sign_in_forms(schema):
    for label, operation in _operations(schema):
        content = operation.get("requestBody", {}).get("content", {})
        if "multipart/form-data" in content:  # a file upload
            assert label == "POST /api/v1/imports/", label
        if "application/x-www-form-urlencoded" in content:
            assert re.search(r" /(auth/|api/v1/auth/)", label), label


def test_objects_have_realistic_examples(schema):
    components = schema["components"]["schemas"]
    assert components["ReceiptInRequest"]["example"]["place_name"] == "Магазин №1"
    assert components["House"]["example"]["street"]["name"] == "Садовая улица"
    for name in ("Account", "Transfer", "Tariff", "Charge", "RentRun", "PlaceAnalytics", "Me"):
        assert components[name]["example"], name


def test_chart_operation_documents_svg(schema):
    responses = schema["paths"]["/api/analytics/{place_id}/chart.svg"]["get"]["responses"]
    assert "image/svg+xml" in responses["200"]["content"]


def test_path_ids_are_integers_also_with_a_digit_limit(schema):
    """`(?P<flat_id>[0-9]{1,18})` is an id like `<int:pk>`: an integer, not a patterned string."""
    for path in ("/api/v1/me/flats/{flat_id}/", "/api/v1/houses/{house_id}/payments/"):
        [parameter] = [p for p in schema["paths"][path]["get"]["parameters"] if p["in"] == "path"]
        assert parameter["schema"] == {"type": "integer"}, path


def test_answers_that_may_lack_a_field_say_so(schema):
    components = schema["components"]["schemas"]
    # An assignment made in the shell or by a deleted operator has no `assigned_by`.
    assert components["PointOfSalePlace"]["properties"]["assigned_by"]["nullable"] is True
    # `rent_started` and `reading_closed` conflicts come without the reading window.
    assert "window" not in components["ReadingWindowError"]["required"]
