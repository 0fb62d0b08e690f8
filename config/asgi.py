"""ASGI entry point: websockets through Channels, plain HTTP through Django.

In production a reverse proxy sends only /ws/ here and REST to gunicorn (faster for sync
views); the quick start serves everything from this one process.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django advises no persistent connections under an async server (each request may run in
# another thread); gunicorn and the Celery worker keep theirs.
os.environ.setdefault("DB_CONN_MAX_AGE", "0")
django_asgi_app = get_asgi_application()  # sets Django up before routing imports models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from core.bodylimit import BodyLimitASGI  # noqa: E402
from core.channels_auth import AllowedHostsOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Django spools a whole body before its middleware runs: limits are checked first.
        "http": BodyLimitASGI(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)

# Everything loaded so far lives as long as the process: keep the collector from walking it on
# every full collection (each walk stalls all websocket pushes of this process).
gc.freeze()
