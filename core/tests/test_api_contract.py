"""The API answers what /api/schema/ says: schemathesis over every operation of a live server.

The server is a real uvicorn process on the test database with the demo data, so path ids
resolve. schemathesis runs every check (server errors, undocumented status codes, schema-violating
requests accepted, schema-valid requests rejected, response bodies and headers) with a fixed seed
and a bounded number of examples per operation. Each operation is called as the role it serves.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.core.files import File
from django.core.management import call_command
from django.db.models import Model, QuerySet
from rest_framework.authtoken.models import Token

from core.openapi import BUSINESS_RULES, IDEMPOTENCY, IDEMPOTENCY_HEADER
from core.testing import asgi_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MAX_EXAMPLES = 15  # per operation and phase: about 3 minutes on a busy 2-core machine
SEED = 20261201

# Operations left out, with the reason.
EXCLUDED = {
    ("POST", "/auth/logout/"): "destroys the token every other operation is called with",
    ("POST", "/api/v1/auth/logout/"): "blacklists a refresh token; nothing else to check",
}

# Who calls an operation (the first matching prefix wins; the default is the operator, who as
# a superuser may do anything).
ROLES = [
    (r"^/api/(checks|add_checks)", "pos"),
    (r"^/api/(analytics|places)", "analyst"),
    (r"^/api/(profile|login|verify)", "alice"),
    (r"^/api/v1/(users/me|accounts|actions|transactions|transfers|withdrawals|history)", "alice"),
    (r"^/api/v1/services/\{id\}/purchase", "alice"),
    (r"^/api/v1/me/", "alice"),  # a resident of flat 1 of the demo's first house
    (r"^/stores/\{store_id\}($|/group_op|/clean)", "bob"),
]

# A schema-valid request may be refused only by a business rule the operation documents: they
# are listed, operation by operation with the reason, in core.openapi.BUSINESS_RULES, which
# also writes them into each operation's refusal in the schema.

# A 5xx that is documented and not a fault: the operation depends on data from outside.
DEPENDENCY_ERRORS: dict[tuple[str, str], tuple[list[int], str]] = {
    ("GET", "/api/v1/accounts/"): ([503], "no exchange rate stored yet for that ISO currency"),
    ("GET", "/api/v1/accounts/{id}/"): ([503], "no exchange rate stored yet for that currency"),
    ("GET", "/api/v1/history/"): ([503], "no exchange rate stored yet for that ISO currency"),
}


# Checks switched off for one operation, with why (none at the moment).
CHECKS_OFF: dict[tuple[str, str], tuple[str, str]] = {}


def _role(path: str) -> str:
    for pattern, role in ROLES:
        if re.search(pattern, path):
            return role
    return "operator"


M = TypeVar("M", bound=Model)


def _first(queryset: "QuerySet[M, M]") -> M:
    """The queryset's first row, which the demo data always has."""
    row = queryset.first()
    assert row is not None, queryset.model
    return row


def _prepare_data() -> dict[str, Any]:
    """The demo data plus one of everything the path parameters name; returns their ids."""
    from accounts.models import Account, Service, User
    from billing import runs as billing_runs
    from billing import services as billing
    from billing.models import Charge, RentRun
    from housing.models import Flat, MeterReading, Tariff, WaterMeter
    from imports.exports import template_file
    from imports.services import start_import
    from receipts.services.points_of_sale import assign_place
    from residents.models import Residency
    from residents.services import link_resident

    with open(os.devnull, "w") as devnull:
        call_command("seed_demo_data", force=True, stdout=devnull, stderr=devnull)
    alice = User.objects.get(username="alice")
    home = _first(Residency.objects.filter(user=alice).select_related("flat")).flat
    house = home.house
    run, _ = billing.start_rent_run(house=house, year=2026, month=10)
    billing_runs.execute_run(run_id=run.pk, pause=0)
    tokens = {
        name: Token.objects.get_or_create(user=User.objects.get(username=username))[0].key
        for name, username in {
            "operator": "operator",
            "analyst": "analyst",
            "alice": "alice",
            "bob": "bob",
            "pos": "pos",
        }.items()
    }
    # DELETE operations get objects of their own, so that alice stays a resident and the
    # demo point of sale keeps its places.
    bob = User.objects.get(username="bob")
    spare, _ = link_resident(
        flat=_first(Flat.objects.filter(house=house).exclude(pk=home.pk)), user=bob
    )
    spare_pos = User.objects.create_user(username="pos-contract", password="x" * 20)
    spare_pos.groups.set(User.objects.get(username="pos").groups.all())
    assign_place(user=spare_pos, place_code="contract-place")
    template = template_file("houses")  # a dry run of the template's example row
    upload = File(template, name="houses.xlsx")
    job, _ = start_import(upload=upload, kind="houses", dry_run=True, user=None)
    return {
        "tokens": tokens,
        "ids": {
            "/api/v1/houses/{id}/": house.pk,
            "/api/v1/houses/{house_id}/": house.pk,
            "/api/v1/flats/{id}/": _first(Flat.objects.filter(house=house)).pk,
            "/api/v1/meters/{id}/": _first(WaterMeter.objects.all()).pk,
            "/api/v1/readings/{id}/": _first(MeterReading.objects.all()).pk,
            "/api/v1/tariffs/{id}/": _first(Tariff.objects.all()).pk,
            "/api/v1/rent-runs/{id}/": str(_first(RentRun.objects.all()).pk),
            "/api/v1/charges/{id}/": _first(Charge.objects.all()).pk,
            "/api/v1/services/{id}/": _first(Service.objects.order_by("pk")).pk,
            "/api/v1/accounts/{id}/": _first(Account.objects.filter(user=alice)).pk,
            "/api/v1/users/{id}/": alice.pk,
            "/payment/progress/{task_id}/": str(run.pk),
            "/stores/{store_id}/items/{item_id}/": ("abc111", "apple"),
            "/stores/{store_id}": "abc111",
            "/api/analytics/{place_id}/": "011",
            "/api/v1/me/flats/{flat_id}/": home.pk,
            "/api/v1/me/charges/{charge_id}/": _first(Charge.objects.filter(flat=home)).pk,
            "/api/v1/me/readings/{reading_id}/": _first(
                MeterReading.objects.filter(meter__flat=home)
            ).pk,
            "/api/v1/residencies/{id}/": spare.pk,
            "/api/v1/imports/{id}/": str(job.pk),
            "/api/points-of-sale/{user_id}/places/{place_id}/": (spare_pos.pk, "contract-place"),
            "/api/points-of-sale/{user_id}/": spare_pos.pk,
        },
    }


def _path_parameters(path: str, ids: dict) -> dict:
    for prefix, value in ids.items():
        names = re.findall(r"\{(\w+)\}", prefix)
        if path.startswith(prefix.split("{" + names[-1] + "}")[0] + "{" + names[-1] + "}"):
            values = value if isinstance(value, tuple) else (value,)
            return {f"path.{name}": v for name, v in zip(names, values, strict=True)}
    return {}


def _config(schema: dict, data: dict, report: Path) -> str:
    lines = [
        f"seed = {SEED}",
        "workers = 1",
        "request-timeout = 30",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        # Every operation refuses text with a NUL character (400 `nul_character`, stated in each
        # 400 of the schema and tested in test_hostile_input.py); a JSON Schema cannot say so
        # for every string and object key, so such schema-valid bodies are not generated.
        "allow-x00 = false",
        "[phases.stateful]",
        "enabled = false",
        "[checks]",
        "enabled = true",  # every check (as --checks all), less the CHECKS_OFF below
        "[reports.junit]",
        "enabled = false",
    ]
    for path, operations in schema["paths"].items():
        for method in operations:
            key = (method.upper(), path)
            lines += [
                "[[operations]]",
                # One filter: separate method and path filters would match either (OR).
                f"include-name = {json.dumps(f'{method.upper()} {path}')}",
            ]
            if key in EXCLUDED:
                lines.append("enabled = false")
                continue
            token = data["tokens"][_role(path)]
            lines.append(f'headers = {{ Authorization = "Token {token}" }}')
            parameters = _path_parameters(path, data["ids"])
            if parameters:
                inline = ", ".join(
                    f"{json.dumps(k)} = {json.dumps(v)}" for k, v in parameters.items()
                )
                lines.append(f"parameters = {{ {inline} }}")
            if key in CHECKS_OFF:
                lines.append(f"checks.{CHECKS_OFF[key][0]}.enabled = false")
            if key in DEPENDENCY_ERRORS:
                statuses, _reason = DEPENDENCY_ERRORS[key]
                allowed = ["2xx", "3xx", "4xx", *map(str, statuses)]
                lines.append(f"checks.not_a_server_error.expected-statuses = {json.dumps(allowed)}")
            rules = dict(BUSINESS_RULES.get(key, {}))
            headers = [p["name"] for p in operations[method].get("parameters", [])]
            if IDEMPOTENCY_HEADER in headers:
                rules[422] = IDEMPOTENCY  # the generated keys repeat with other bodies
            if rules:
                allowed = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
                allowed += [str(status) for status in rules]
                lines.append(
                    f"checks.positive_data_acceptance.expected-statuses = {json.dumps(allowed)}"
                )
    return "\n".join(lines) + "\n"


@pytest.fixture
def live_server_url(transactional_db):
    data = _prepare_data()
    # The sign-in throttles are checked by their own tests; here they would turn every sign-in
    # call after the 60th into a 429.
    with asgi_server(THROTTLE_SIGNIN_IP="100000/min", THROTTLE_SIGNIN_ACCOUNT="100000/min") as (
        url,
        log,
    ):
        yield url, data, log


def test_every_operation_answers_what_the_schema_says(live_server_url):
    url, data, server_log = live_server_url
    import httpx

    schema = httpx.get(f"{url}/api/schema/", headers={"Accept": "application/json"}).json()
    workdir = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    config = workdir / "schemathesis.toml"
    config.write_text(_config(schema, data, workdir / "report"))
    cli = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [str(cli), "--config-file", str(config), "run", f"{url}/api/schema/?format=json",
         "--phases", "examples,coverage,fuzzing", "--no-shrink"],
        cwd=workdir, env={**os.environ, "NO_COLOR": "1"}, capture_output=True, text=True,
        timeout=840,
    )  # fmt: skip
    output = result.stdout + result.stderr
    (workdir / "output.txt").write_text(output)
    summary = [line for line in output.splitlines() if re.search(r"\d+ (passed|failures?)", line)]
    print(f"schemathesis ({workdir}/output.txt):", *summary[-2:], sep="\n")
    failures = output.partition("FAILURES")[2] or output
    assert result.returncode == 0, failures[:30000] + "\n--- server ---\n" + _errors(server_log)


def _errors(log: Path) -> str:
    """The server's tracebacks (its 4xx warnings are expected here)."""
    text = log.read_text(errors="replace")
    return "\n".join(block for block in text.split("\n20") if "Traceback" in block)[-10000:]
