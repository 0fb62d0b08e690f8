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


@pytest.mark.django_db
def test_readyz_names_what_failed_without_exception_text(api_client, settings, caplog):
    dead = "redis://127.0.0.1:1/0"
    settings.REDIS_URL = dead
    settings.CELERY_BROKER_URL = dead

    body = api_client.get("/readyz").json()

    assert body["failed"] == ["broker", "redis"]
    assert body["detail"] == "Not ready: broker, redis unavailable."
    text = str(body)
    assert "Error" not in text
    assert "127.0.0.1" not in text
    assert "refused" not in text.lower()
    assert "redis: ConnectionError" in caplog.text  # the details are logged
