"""OpenAPI pieces shared by every app, and the schema's finishing pass.

`finish_schema` (a drf-spectacular postprocessing hook) makes the schema say what the code does
in the places that are the same for every operation: the error statuses each operation can
answer (with the error body's schema and an example), the tags per domain, the request content
types, and how to use each sign-in scheme in Swagger UI's Authorize dialog.
"""

import re
from typing import TYPE_CHECKING, Any, cast

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import Direction, OpenApiExample, OpenApiResponse
from rest_framework import serializers
from rest_framework.request import Request

if TYPE_CHECKING:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.openapi import AutoSchema

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ERROR_FORMAT = "`{detail, code, <field>: [...]}`"

# The errors of an endpoint that any signed-in user may read and operators may change.
OPERATOR_API_ERRORS = {
    400: OpenApiResponse(description=f"Validation error: {ERROR_FORMAT}"),
    401: OpenApiResponse(description="Not signed in."),
    403: OpenApiResponse(description="Not an operator (staff)."),
    404: OpenApiResponse(description="Not found."),
}

ERROR_COMPONENT = "ApiError"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a readable message, a machine-readable code and, for invalid "
    "input, the messages of each invalid field (a list, or an object for nested fields).",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for people."},
        "code": {"type": "string", "description": "What went wrong, for programs."},
    },
    "required": ["detail", "code"],
    "additionalProperties": True,
}


# Every error's body in the schema: the `ApiError` component (finish_schema replaces it with
# ERROR_SCHEMA). Errors with more keys (stores' `errors`, residents' `window`) subclass it. No
# docstring: drf-spectacular would copy it into the subclasses' descriptions.
class ApiErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.CharField()


def api_error(
    description: str,
    serializer: type[serializers.Serializer[Any]] = ApiErrorSerializer,
    example: dict[str, Any] | None = None,
) -> OpenApiResponse:
    """An operation's error response: the error body, described for that operation (without
    an `example`, finish_schema adds the standard one of its status)."""
    examples = [OpenApiExample("Error", value=example)] if example else None
    return OpenApiResponse(serializer, description=description, examples=examples)


# status: (description, example body)
STANDARD_ERRORS = {
    400: (
        f"Invalid input: {ERROR_FORMAT}. `detail` repeats the first field's first message. "
        "Text with a NUL character (U+0000) anywhere in the body, URL or query is refused "
        "as `nul_character`; JSON nested deeper than JSON_MAX_DEPTH as `nesting_too_deep`.",
        {
            "detail": "month: Ensure this value is less than or equal to 12.",
            "code": "max_value",
            "month": ["Ensure this value is less than or equal to 12."],
        },
    ),
    401: (
        "Not signed in, or the token is invalid or expired.",
        {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"},
    ),
    402: (
        "Not enough money on the account.",
        {"detail": "Not enough money.", "code": "insufficient_funds"},
    ),
    403: (
        "Signed in without the role this operation needs (or a session without its CSRF token).",
        {
            "detail": "You do not have permission to perform this action.",
            "code": "permission_denied",
        },
    ),
    404: (
        "No such object (or a page past the last one).",
        {"detail": "Not found.", "code": "not_found"},
    ),
    409: (
        "The request conflicts with the current state.",
        {"detail": "The request conflicts with the current state.", "code": "conflict"},
    ),
    413: (
        "The request body is too large.",
        {"detail": "The request body is too large.", "code": "payload_too_large"},
    ),
    422: (
        "Well-formed, but cannot be carried out.",
        {"detail": "The request cannot be processed.", "code": "unprocessable"},
    ),
    429: (
        "Too many requests: wait the number of seconds in `Retry-After`.",
        {"detail": "Request was throttled. Expected available in 42 seconds.", "code": "throttled"},
    ),
    503: (
        "A dependency (database, Redis, the broker) is unavailable; try again later.",
        {"detail": "A dependency is unavailable, try again later.", "code": "service_unavailable"},
    ),
}

# Tags in the order Swagger UI and Redoc show them: (name, description, path patterns).
TAGS = [
    (
        "Houses and flats",
        "The housing registry: streets, houses and their flats with areas in m². Anyone signed "
        "in reads it; operators (staff) change it. `/api/v1/houses/` and `/api/v1/flats/` are "
        "the resource API; `/api/homes/...` are the compatible endpoints with their own "
        "documented shapes (numbers as JSON numbers, the street as `{street_name}`).",
        [r"^/api/v1/houses/(\{id\}/)?$", r"^/api/v1/flats/", r"^/api/homes/"],
    ),
    (
        "Meters and readings",
        "Water meters installed in flats and their monthly cumulative readings in m³. A "
        "reading may not go below the meter's earlier one. Operators enter a whole house's "
        "month at once with `POST /api/v1/readings/bulk/`; `/api/water-checkers/...` are the "
        "compatible endpoints.",
        [r"^/api/v1/meters/", r"^/api/v1/readings/", r"^/api/water-checkers/"],
    ),
    (
        "Tariffs",
        "Prices in roubles: water per m³ and upkeep per m² of a flat. A global tariff applies "
        "to every house, a house's own one beats it; the tariff in force on the first day of "
        "a month prices that month.",
        [r"^/api/v1/tariffs/"],
    ),
    (
        "Rent",
        "Monthly rent of a house: a run computes one line per flat (water by the readings, "
        "upkeep by the area) in the background and can be followed while it works. Charges "
        "and statements (JSON or xlsx) read the result. `/payment/...` are the compatible "
        "endpoints.",
        [
            r"^/api/v1/rent-runs/",
            r"^/api/v1/charges/",
            r"^/api/v1/houses/\{house_id\}/",
            r"^/payment/",
        ],
    ),  # fmt: skip
    (
        "Residents",
        "What a resident sees of their own flats: a user becomes a resident when an operator "
        "links them to a flat or when they redeem a one-time flat code. Residents read their "
        "flats, meters and charges, submit the month's water readings while the reading window "
        "is open, and pay a charge from their balance. Operators manage residencies and codes.",
        [r"^/api/v1/(me|flat-codes|residencies)/"],
    ),
    (
        "Imports and exports",
        "Operators upload xlsx or CSV files (readings, houses, tariffs) that a background job "
        "checks and imports, all or nothing or the valid rows only, with a dry run first if "
        "wanted; the failed rows come back as xlsx. Exports stream the registry, tariffs, or a "
        "month's readings or charges as xlsx or CSV, in the import's columns.",
        [r"^/api/v1/(imports|exports)/"],
    ),
    (
        "Sign-in",
        "Three ways in. Username and password give a DRF token (`Authorization: Token "
        "<key>`); a phone number and a 4-digit SMS code give a DRF token too; an e-mail "
        "address and a 6-digit code give a JWT pair (`Authorization: Bearer <access>`). "
        "Registration, sign-in and code requests are throttled per address and per account.",
        [r"^/auth/", r"^/api/(login|verify)/", r"^/api/v1/auth/"],
    ),
    (
        "Users and roles",
        "Your own profile and invite codes, and for operators the users with their roles: "
        "operator (staff), analyst (reads receipts analytics), storekeeper (changes stock), "
        "point of sale (posts receipts).",
        [r"^/api/profile/", r"^/api/v1/users/"],
    ),
    (
        "Balances",
        "Money accounts in roubles: deposits, purchases of services, transfers between "
        "accounts, withdrawals and the history of all of them. Amounts are decimal strings "
        "with 2 places; a repeated write with the same `Idempotency-Key` is answered once.",
        [r"^/api/v1/(accounts|actions|transactions|transfers|withdrawals|history|services)/"],
    ),
    (
        "Receipts",
        "Points of sale post cash receipts (one, or many at once); each receipt is checked, "
        "stored once per `transaction_id` and counted in the analytics by a background worker. "
        "A point of sale posts only for the places an operator assigned to it "
        "(`/api/points-of-sale/...`).",
        [r"^/api/(checks|add_checks)/", r"^/api/points-of-sale/"],
    ),
    (
        "Analytics",
        "What the receipts add up to, per place of purchase: purchases, takings, average "
        "receipt, VAT and tips, per category and per hour, and an SVG chart of the last 24 "
        "hours. For analysts.",
        [r"^/api/(analytics|places)/"],
    ),
    (
        "Stores",
        "Warehouse stock per store: supplies, sales, write-offs and group operations, the "
        "journal of movements, an xlsx report; changes are pushed to websocket listeners. "
        "Anyone signed in reads; storekeepers change stock.",
        [r"^/stores"],
    ),
]

# Request bodies are JSON. The sign-in endpoints also take an HTML form, as their clients send.
FORM_BODIES = re.compile(r"^/(auth/(login|registration)|api/v1/auth/(email|token))/$")

SECURITY_SCHEMES = {
    "tokenAuth": "A DRF token from `POST /auth/login/` (username and password) or "
    "`POST /api/verify/` (phone and SMS code). Enter it **with the prefix**: `Token "
    "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b`.",
    "jwtAuth": "A JWT access token from `POST /api/v1/auth/token/` (e-mail and code). Enter the "
    "access token alone; Swagger UI adds `Bearer `.",
    "cookieAuth": "The session cookie of the admin site (`/admin/login/`). Writes also need the "
    "`X-CSRFToken` header.",
}

# Summaries and descriptions of the operations whose views do not give them.
OPERATION_TEXT = {
    "homes_details_retrieve": (
        None,
        "Compatible endpoint: the house at `home_number` on `street_name`, as "
        "`{house_number, street: {street_name}, flats: [...]}`. Both parameters are required "
        "(400 without them); an unknown house is a 404.",
    ),
    "homes_details_partial_update": (
        None,
        "The same as PUT: every body field is optional; flats not listed are kept.",
    ),
    "homes_details_destroy": (
        None,
        "Deletes the house with its flats, meters, readings, tariffs, rent runs and charges; "
        "204. An unknown house is a 404.",
    ),
    "api_v1_accounts_retrieve": (
        None,
        "One of your own accounts (another user's is a 404). With `?currency=USD` the balance "
        "is converted at the latest stored rate; no rate stored yet for it: 503.",
    ),
    "api_v1_charges_list": (
        None,
        "The rent lines of completed runs, one per flat and month, with the breakdown: area, "
        "water used, the tariffs applied and the amounts in roubles. Paginated.",
    ),
    "api_v1_charges_retrieve": (
        None,
        "One flat's rent for one month: `status` `ok`, or `needs_reading` / `no_meter` when "
        "no water could be charged.",
    ),
    "api_v1_houses_charges_retrieve": (
        None,
        "A house's rent for `year` and `month`: the totals and one line per flat. A month "
        "never calculated answers an empty `lines` list.",
    ),
    "api_v1_houses_statement_retrieve": (
        None,
        "The same month as an Excel workbook (one row per flat, totals at the bottom), to "
        "print or send to the residents.",
    ),
    "api_v1_rent_runs_list": (
        None,
        "Rent calculations, newest first, with their status (PENDING, IN_PROGRESS, "
        "COMPLETED, FAILED) and progress. Paginated.",
    ),
    "api_v1_rent_runs_retrieve": (
        None,
        "A run's status, progress in flats, result so far, the tariffs it used, its error and "
        "attempts; poll it while it runs.",
    ),
    "api_v1_flat_codes_list": (
        None,
        "The one-time flat codes handed out, newest first, with their flat, expiry and who "
        "redeemed them. Paginated.",
    ),
    "api_v1_houses_collection_account_retrieve": (
        None,
        "The house's own collection account (null when none), and the account its residents' "
        "payments actually go to (the house's own, else the global one, else null).",
    ),
    "api_v1_houses_debtors.xlsx_retrieve": (
        None,
        "The flats of the house whose charge of `year`/`month` is not fully paid, with the "
        "amount due, paid and the debt, as an Excel workbook.",
    ),
    "api_v1_houses_payments_retrieve": (
        None,
        "For `year`/`month`: how many flats paid, partly paid and did not pay, the total debt "
        "and the debtors with their amounts.",
    ),
    "api_v1_imports_list": (
        "Imports (operator)",
        "Import jobs, newest first, with their status, progress and counts. Filters: `kind`, "
        "`status`, `dry_run`. Paginated.",
    ),
    "api_v1_imports_retrieve": (
        None,
        "Poll it while the job runs: status, rows done and total, imported and failed counts, "
        "and the first row errors (the whole list is `errors.xlsx`).",
    ),
    "api_v1_imports_confirm_create": (
        None,
        "Starts the real import of a dry run's file (optionally in another `mode`): 202 with "
        "the new job, 200 with the one already started for it. A job that is not a dry run is "
        "a 409.",
    ),
    "api_v1_imports_errors.xlsx_retrieve": (
        None,
        "The rows that failed, in the uploaded columns plus an error column; fix them and "
        "upload the file again.",
    ),
    "api_v1_imports_templates_.xlsx_retrieve": (
        None,
        "An empty workbook for `kind` with its column headers (English or Russian by `lang`) "
        "and one example row.",
    ),
    "api_v1_me_charges_retrieve": (
        None,
        "One month's charge of one of my flats, with what is paid and still due; a charge of "
        "another flat is a 404.",
    ),
    "api_v1_me_flats_statement_retrieve": (
        None,
        "The rent statement of `year`/`month` with my flat's line only, as an Excel workbook.",
    ),
    "api_v1_me_readings_list": (
        None,
        "The readings of my flats' meters, newest first, with who submitted each.",
    ),
    "api_v1_residencies_list": (
        None,
        "Who lives in which flat, with when and by whom they were linked. Paginated.",
    ),
    "api_v1_residencies_destroy": (
        None,
        "The user stops being a resident of that flat; 204.",
    ),
    "api_v1_users_list": ("Users (operators)", None),
    "api_v1_users_retrieve": ("A user (operators)", None),
    "api_v1_users_partial_update": ("Change a user's profile or roles (operators)", None),
    "api_v1_users_me_retrieve": (
        None,
        "The signed-in user: names, username, bio, the e-mail sign-in address and the role.",
    ),
}

# A schema-valid request that the operation still refuses, by a rule of the domain that a
# schema cannot state (the row must exist, the number must be free, the money must be there).
# Written into the refusal's description here; the contract test accepts exactly these.
EXISTS = "the ids in the body must name existing rows"
HOUSE_FREE = "a house number is unique on its street"
READINGS = (
    "a meter's readings never decrease: a value may not be below the meter's earlier reading or "
    "initial value, nor above a later one"
)
MONEY = "the account must hold the amount"
RECEIPT = (
    "`total_amount` is the sum of quantity x price (within 0.01), `nds_amount` is at most "
    "`total_amount`, the timestamp is a real moment at most 300 seconds in the future"
)
PLACES = "a point of sale posts only for the places an operator assigned to it"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY = "an `Idempotency-Key` names one request: the same key with another body is a 422"
BUSINESS_RULES: dict[tuple[str, str], dict[int, str]] = {
    ("POST", "/api/v1/houses/"): {400: HOUSE_FREE},
    ("PATCH", "/api/v1/houses/{id}/"): {400: HOUSE_FREE},
    ("POST", "/api/homes/create/"): {400: HOUSE_FREE},
    ("PUT", "/api/homes/details/"): {400: HOUSE_FREE},
    ("PATCH", "/api/homes/details/"): {400: HOUSE_FREE},
    ("POST", "/api/v1/flats/"): {400: f"{EXISTS}; a flat number is unique in its house"},
    ("PATCH", "/api/v1/flats/{id}/"): {400: "a flat number is unique in its house"},
    ("POST", "/api/v1/meters/"): {400: f"{EXISTS}; a serial is unique"},
    ("POST", "/api/v1/meters/{id}/replace/"): {
        400: f"a meter is removed after it was installed and not twice; {READINGS}"
    },
    ("POST", "/api/v1/readings/"): {400: f"{EXISTS}; {READINGS}; the meter was installed then"},
    ("PATCH", "/api/v1/readings/{id}/"): {400: READINGS},
    ("POST", "/api/v1/readings/bulk/"): {
        400: f"{EXISTS}; each flat number exists in the house and names one meter (or its "
        f"`serial` does); {READINGS}"
    },
    ("POST", "/api/water-checkers/create/"): {
        400: f"the house exists; `serial` names one flat's meter; {READINGS}"
    },
    ("GET", "/api/water-checkers/details/"): {
        400: "when several streets have that house number, `street_name` says which"
    },
    ("POST", "/api/v1/tariffs/"): {400: f"{EXISTS}; one tariff per kind, house and date"},
    ("PATCH", "/api/v1/tariffs/{id}/"): {400: "one tariff per kind, house and date"},
    ("POST", "/api/v1/rent-runs/"): {400: f"{EXISTS}; the month has begun"},
    ("POST", "/payment/calculate/"): {400: "the house exists on that street; the month has begun"},
    ("POST", "/api/v1/transfers/"): {
        400: "`from_account` is yours and differs from `to_account`, which exists",
        402: MONEY,
    },
    ("POST", "/api/v1/withdrawals/"): {400: "the account is yours", 402: MONEY},
    ("POST", "/api/v1/actions/"): {400: "the account is yours"},
    ("GET", "/api/v1/services/{id}/purchase/"): {402: MONEY},
    ("POST", "/api/v1/services/{id}/purchase/"): {402: MONEY},
    ("POST", "/api/login/"): {400: "the phone number exists (a dialable number)"},
    ("POST", "/api/verify/"): {400: "the code is the one sent to that phone and still valid"},
    ("POST", "/api/v1/auth/email/"): {400: "a valid e-mail address"},
    ("POST", "/api/v1/auth/token/"): {400: "the code is the one sent to that address and valid"},
    ("POST", "/auth/login/"): {400: "the username and password are right"},
    ("POST", "/auth/registration/"): {
        400: "the username is free and the password passes the password validators"
    },
    ("PATCH", "/api/v1/users/me/"): {400: "the username is free"},
    ("PATCH", "/api/v1/users/{id}/"): {400: "the username and e-mail address are free"},
    ("PATCH", "/api/profile/"): {
        400: "`foreign_invite_code` is another user's code, activated once"
    },
    ("POST", "/api/checks/"): {400: RECEIPT, 403: PLACES},
    ("POST", "/api/add_checks/"): {400: RECEIPT, 403: PLACES},
    ("POST", "/api/v1/me/readings/"): {400: READINGS},
    ("PATCH", "/api/v1/me/readings/{reading_id}/"): {400: READINGS},
    ("POST", "/api/v1/me/charges/{charge_id}/pay/"): {402: MONEY},
    ("POST", "/api/v1/residencies/"): {400: EXISTS},
    ("POST", "/api/v1/flat-codes/"): {400: EXISTS},
    ("PUT", "/api/v1/houses/{house_id}/collection-account/"): {400: EXISTS},
    ("POST", "/api/v1/imports/"): {
        400: "the file is an xlsx workbook or a CSV text whose header row has every column of "
        "the kind"
    },
    ("GET", "/api/v1/exports/{what}.{fmt}"): {
        400: "`year` and `month` are given for readings and charges, and name a month of the "
        "years 2000 to 2100"
    },
    ("GET", "/api/analytics/"): {400: "`to` is later than `from`"},
    ("GET", "/api/analytics/{place_id}/"): {400: "`to` is later than `from`"},
}

_PROSE_KEYS = {"description", "summary"}
_BARE_TAG = re.compile(r"(?<!`)(<[a-z_ ]+>)(?!`)")


def _tag_of(path: str) -> str | None:
    for name, _description, patterns in TAGS:
        if any(re.search(pattern, path) for pattern in patterns):
            return name
    return None


def _escape_prose(node: object) -> None:
    """Swagger UI renders descriptions as Markdown with HTML: `<field>` would vanish."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _PROSE_KEYS and isinstance(value, str):
                node[key] = _BARE_TAG.sub(r"`\1`", value) if "`" not in value else value
            elif key != "example" and key != "examples":
                _escape_prose(value)
    elif isinstance(node, list):
        for item in node:
            _escape_prose(item)


def _error_response(status: int, description: str | None = None) -> dict[str, Any]:
    default_description, example = STANDARD_ERRORS[status]
    return {
        "description": description or default_description,
        "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"},
                "examples": {"Error": {"value": example}},
            }
        },
    }


def _add_standard_example(response: dict[str, Any], status: int) -> None:
    """A declared `ApiError` body without an example gets its status's standard one."""
    media = response.get("content", {}).get("application/json", {})
    ref = media.get("schema", {}).get("$ref", "")
    if (
        ref.endswith(f"/{ERROR_COMPONENT}")
        and "examples" not in media
        and status in STANDARD_ERRORS
    ):
        media["examples"] = {"Error": {"value": STANDARD_ERRORS[status][1]}}


def _views(generator: "SchemaGenerator") -> dict[tuple[str, str], type | None]:
    views: dict[tuple[str, str], type | None] = {}
    # drf-spectacular's endpoints carry the path regex too (DRF's stubs: 3-tuples).
    endpoints = cast("list[tuple[str, str, str, Any]]", generator.endpoints or [])
    for path, _regex, method, callback in endpoints:
        views[path, method.lower()] = getattr(callback, "cls", None)
    return views


def _statuses(path: str, method: str, operation: dict[str, Any], view: type | None) -> set[int]:
    """The error statuses any operation like this one can answer."""
    statuses = set()
    parameters = operation.get("parameters", [])
    if method in ("post", "put", "patch") or any(p["in"] == "query" for p in parameters):
        statuses.add(400)
    security = operation.get("security", [])
    if security:
        statuses.add(401)  # an invalid or expired token, also where anonymous calls are fine
    if security and {} not in security:
        statuses.add(403)
    if "{" in path or any(p["name"] == "page" for p in parameters):
        statuses.add(404)
    if view is not None and getattr(view, "throttle_classes", None):
        statuses.add(429)
    return statuses


def finish_schema(
    result: dict[str, Any],
    generator: "SchemaGenerator",
    request: Request | None,
    public: bool,
) -> dict[str, Any]:
    from core.openapi_examples import EXAMPLES

    views = _views(generator)
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas[ERROR_COMPONENT] = ERROR_SCHEMA
    for name, example in EXAMPLES.items():
        if name in schemas:
            schemas[name]["example"] = example
    _bound_lists(schemas)

    for path, operations in result.get("paths", {}).items():
        tag = _tag_of(path)
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if tag:
                operation["tags"] = [tag]
            operation_id = operation.get("operationId", "")
            summary, description = OPERATION_TEXT.get(operation_id, (None, None))
            if summary and not operation.get("summary"):
                operation["summary"] = summary
            if description and not operation.get("description"):
                operation["description"] = description
            body = operation.get("requestBody")
            if (
                body
                and body["content"].get("application/json", {}).get("schema", {}).get("type")
                == "array"
            ):
                body["required"] = True  # a list endpoint needs its list
            if body and not FORM_BODIES.match(path):
                content = body["content"]
                for media_type in list(content):
                    if media_type != "application/json" and "application/json" in content:
                        del content[media_type]
            elif body:
                body["content"].pop("multipart/form-data", None)
            filters = _filter_names(views.get((path, method)))
            for parameter in operation.get("parameters", []):
                _bound_parameter(parameter)
                if parameter["in"] == "query" and parameter["name"] in filters:
                    parameter["allowEmptyValue"] = True  # `?house=` is no filter
            responses = operation["responses"]
            if any(p["name"] == IDEMPOTENCY_HEADER for p in operation.get("parameters", [])):
                response = responses.setdefault("422", _error_response(422))
                response["description"] += f" Also refused when a rule is broken: {IDEMPOTENCY}."
            view = views.get((path, method))
            for status in sorted(_statuses(path, method, operation, view) | _declared(responses)):
                key = str(status)
                existing = responses.get(key)
                if existing is None:
                    responses[key] = _error_response(status)
                elif "content" not in existing and status in STANDARD_ERRORS:
                    responses[key] = _error_response(status, existing.get("description"))
                else:
                    _add_standard_example(existing, status)

    for (method, path), rules in BUSINESS_RULES.items():
        operation = result.get("paths", {}).get(path, {}).get(method.lower())
        if operation is None:
            continue
        for status, rule in rules.items():
            response = operation["responses"].setdefault(str(status), _error_response(status))
            response["description"] += f" Also refused when a rule is broken: {rule}."

    for name, description in SECURITY_SCHEMES.items():
        scheme = components.get("securitySchemes", {}).get(name)
        if scheme is not None:
            scheme["description"] = description

    result["tags"] = [{"name": name, "description": text} for name, text, _ in TAGS]
    _escape_prose(result)
    return result


def _bound_lists(schemas: dict[str, Any]) -> None:
    """List lengths that drf-spectacular does not carry over from the serializers."""
    from stores.serializers import MAX_GROUP_LINES

    items = schemas.get("GroupOperationInputRequest", {}).get("properties", {}).get("items")
    if items is not None:
        items.update(minItems=1, maxItems=MAX_GROUP_LINES)


def _filter_names(view: type | None) -> set[str]:
    """Query parameters for which an empty value means no value (`?house=`): the django-filter
    filters and the optional fields of a view's DRF query serializer."""
    names = set(getattr(view, "filterset_fields", None) or ())
    query = getattr(view, "query_serializer_class", None)
    if query is not None:
        names |= {name for name, field in query().fields.items() if not field.required}
    return names


def _bound_parameter(parameter: dict[str, Any]) -> None:
    """Query filters compare integers with a 64-bit column; currencies are ISO 4217 codes."""
    from accounts.balances.currencies import ISO_4217_CODES

    schema = parameter.get("schema", {})
    if parameter["in"] == "path" and re.fullmatch(
        r"\^(\\d|\[0-9\])(\+|\{1,\d+\})\$", schema.get("pattern", "")
    ):
        parameter["schema"] = {"type": "integer"}  # an id, as the URL pattern takes it
        return
    if parameter["in"] == "query" and schema.get("type") == "integer":
        schema.setdefault("minimum", -(2**63) + 1)
        schema.setdefault("maximum", 2**63 - 1)
    if parameter["name"] == "currency" and schema.get("type") == "string":
        schema.pop("maxLength", None)
        schema["enum"] = sorted(ISO_4217_CODES)


def _declared(responses: dict[str, Any]) -> set[int]:
    """Error statuses an operation already declares (their bodies get the error schema)."""
    return {int(key) for key in responses if key.isdigit() and int(key) in STANDARD_ERRORS}


# --- Decimal fields: the pattern says what the field accepts -----------------------------------


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """A decimal as a string whose pattern matches exactly the values the field takes.

    drf-spectacular's own pattern lets "" and "-" through and ignores the bounds; this one has
    at least one digit, no sign when negatives are refused, no all-zero value when the minimum
    is positive, at most the whole digits the field (or its maximum) allows, and the decimal
    places the field keeps (any number for fields that round, see housing.fields).
    """

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(
        self, auto_schema: "AutoSchema", direction: Direction
    ) -> dict[str, Any]:
        field: serializers.DecimalField = self.target
        if getattr(field, "coerce_to_string", None) is False:  # a JSON number (compatible API)
            schema: dict[str, Any] = {"type": "number", "format": "double"}
            if direction == "request" and not field.read_only:
                whole, places = _digits(field)
                step = 10.0**-places
                schema["maximum"] = float(field.max_value or 10**whole - step)
                schema["minimum"] = float(
                    field.min_value if field.min_value is not None else -(10**whole) + step
                )
            return schema
        schema = {"type": "string", "format": "decimal"}
        if direction != "request" or field.read_only:
            return schema
        rounds = getattr(field, "rounds", False)
        whole, places = _digits(field)
        step = 10.0**-places
        maximum = getattr(field, "schema_max_value", None) or field.max_value
        number = {
            "type": "number",
            "minimum": float(
                field.min_value if field.min_value is not None else -(10**whole) + step
            ),
            "maximum": float(maximum if maximum is not None else 10**whole - step),
        }
        if not rounds:
            number["multipleOf"] = step
        bounds = [f"at most {field.decimal_places} decimal places"]
        if rounds:
            bounds = [f"rounded half-up to {field.decimal_places} decimal places"]
        bounds.append(f"from {number['minimum']:g} to {number['maximum']:.{field.decimal_places}f}")
        return {
            "anyOf": [{**schema, "pattern": decimal_pattern(field)}, number],
            "description": "A decimal string or a JSON number: " + ", ".join(bounds) + ".",
            "example": "1250.50" if field.decimal_places == 2 else "12.500",
        }


def _digits(field: serializers.DecimalField) -> tuple[int, int]:
    """The whole digits and the decimal places of a field: every decimal field of the API
    bounds both."""
    if field.max_digits is None or field.decimal_places is None:
        raise TypeError(f"{field!r} needs max_digits and decimal_places")
    return field.max_digits - field.decimal_places, field.decimal_places


def decimal_pattern(field: serializers.DecimalField) -> str:
    whole, _places = _digits(field)
    maximum = getattr(field, "schema_max_value", None) or field.max_value
    if maximum is not None:
        # Every number with fewer digits than the maximum is below it.
        whole = min(whole, max(1, len(str(int(maximum))) - 1))
    places = r"\d+" if getattr(field, "rounds", False) else rf"\d{{1,{field.decimal_places}}}"
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    not_zero = r"(?!-?0*\.?0*$)" if field.min_value is not None and field.min_value > 0 else ""
    return rf"^{not_zero}{sign}\d{{1,{whole}}}(\.{places})?$"
