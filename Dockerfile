FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/app/var
WORKDIR /app

# gettext: compilemessages builds the Russian translations below.
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
# Every package pinned with its hash (the lock from `make lock`): the image gets what was tested.
RUN pip install --require-hashes -r requirements.txt

COPY . .
RUN DEBUG=true python manage.py compilemessages --ignore=.venv --ignore=var --verbosity 0 \
    && DEBUG=true python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --create-home app && mkdir -p /app/var && chown -R app /app/var
USER app

EXPOSE 8000
# The compose file and the k8s manifests pick the process (web, ws, worker, beat).
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2"]
