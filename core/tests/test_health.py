import pytest


def test_healthz_answers_without_authentication(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_broker_and_redis_answer(api_client):
    response = api_client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_readyz_reports_a_stopped_redis_as_503(api_client, settings):
    dead = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.REDIS_URL = dead
    settings.CELERY_BROKER_URL = dead
    response = api_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "not_ready"
    assert set(body["failed"]) == {"broker", "redis"}
    assert "database" not in body["failed"]
