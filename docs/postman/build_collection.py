"""Writes the Postman collection and environment of this directory (run after editing it).

    python docs/postman/build_collection.py

One folder per domain, in the README's order; each request checks its status code and key
fields, and saves the ids the next requests need in collection variables. The first folder
signs in the demo users (`make run` creates them) and keeps their tokens.
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLLECTION = HERE / "housing-commerce.postman_collection.json"
ENVIRONMENT = HERE / "local.postman_environment.json"

JSON = {"key": "Content-Type", "value": "application/json"}


def auth(role: str) -> dict:
    return {"key": "Authorization", "value": f"Token {{{{{role}Token}}}}"}


def request(name, method, url, *, role=None, body=None, status=200, checks=(), pre=(),
            headers=(), description=""):  # fmt: skip
    """A request with tests: the status code, then each JavaScript line of `checks`."""
    header = ([auth(role)] if role else []) + ([JSON] if body is not None else []) + list(headers)
    tests = [
        f"pm.test('status {status}', () => pm.response.to.have.status({status}));",
        *checks,
    ]
    item = {
        "name": name,
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": tests}}],
        "request": {
            "method": method,
            "header": header,
            "url": "{{baseUrl}}" + url,
            "description": description,
        },
    }
    if pre:
        item["event"].insert(
            0, {"listen": "prerequest", "script": {"type": "text/javascript", "exec": list(pre)}}
        )
    if body is not None:
        raw = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, indent=2)
        item["request"]["body"] = {
            "mode": "raw",
            "raw": raw,
            "options": {"raw": {"language": "json"}},
        }
    return item


def folder(name: str, description: str, items: list) -> dict:
    return {"name": name, "description": description, "item": items}


def body_has(*fields: str) -> str:
    keys = ", ".join(f"'{name}'" for name in fields)
    return (
        f"pm.test('has {', '.join(fields)}', () => "
        f"pm.expect(pm.response.json()).to.include.keys({keys}));"
    )


def save(variable: str, expression: str) -> str:
    return f"pm.collectionVariables.set('{variable}', {expression});"


def sign_in(user: str, password: str) -> dict:
    return request(
        f"Sign in as {user}",
        "POST",
        "/auth/login/",
        body={"username": user, "password": password},
        checks=[body_has("key"), save(f"{user}Token", "pm.response.json().key")],
    )


SIGN_IN = folder(
    "Sign-in",
    "Username and password give a DRF token, sent as `Authorization: Token <key>`. The demo "
    "users of `make run` sign in here and their tokens are kept in collection variables for "
    "the folders below; then a new user registers, reads itself and signs out.",
    [
        sign_in("operator", "operator-demo-pass"),
        sign_in("analyst", "analyst-demo-pass"),
        sign_in("alice", "alice-demo-pass"),
        sign_in("bob", "bob-demo-pass"),
        sign_in("pos", "pos-demo-pass"),
        request(
            "Register a new user",
            "POST",
            "/auth/registration/",
            pre=[save("newUser", "'postman_' + Date.now()")],
            body={
                "username": "{{newUser}}",
                "password1": "correct-horse-battery",
                "password2": "correct-horse-battery",
            },
            status=201,
            checks=[body_has("key"), save("newToken", "pm.response.json().key")],
        ),
        request(
            "Who am I",
            "GET",
            "/api/v1/users/me/",
            role="new",
            checks=[
                body_has("username", "role"),
                "pm.test('is the new user', () => pm.expect(pm.response.json().username)"
                ".to.eql(pm.collectionVariables.get('newUser')));",
            ],
        ),
        request(
            "Sign out (the token is deleted)",
            "POST",
            "/auth/logout/",
            role="new",
            checks=[body_has("detail")],
        ),
        request(
            "The deleted token no longer works",
            "GET",
            "/api/v1/users/me/",
            role="new",
            status=401,
            checks=[body_has("detail", "code")],
        ),
    ],
)

HOUSES = folder(
    "Houses and flats",
    "Create a house with the compatible endpoint, read it back, move it to another street "
    "and resize its flats; then the resource API: find its id, add and resize a flat.",
    [
        request(
            "Create a house with two flats",
            "POST",
            "/api/homes/create/",
            role="operator",
            pre=[save("houseNumber", "String(100000 + Math.floor(Math.random() * 800000))")],
            body='{"house_number": {{houseNumber}}, "street": {"street_name": "Новая улица"}, '
            '"flats": [{"flat_number": 1, "flat_size": 50.5, "water_checkers_count": 2}, '
            '{"flat_number": 2, "flat_size": 40}]}',
            status=201,
            checks=[
                body_has("house_number", "street", "flats"),
                "pm.test('two flats', () => pm.expect(pm.response.json().flats).to.have.length(2));",
                "pm.test('two meters in flat 1', () => pm.expect(pm.response.json().flats[0]"
                ".water_checkers_count).to.eql(2));",
            ],
        ),
        request(
            "Every house (a plain array)",
            "GET",
            "/api/homes/",
            role="operator",
            checks=["pm.test('an array', () => pm.expect(pm.response.json()).to.be.an('array'));"],
        ),
        request(
            "One house by number and street",
            "GET",
            "/api/homes/details/?home_number={{houseNumber}}&street_name=Новая улица",
            role="operator",
            checks=[
                "pm.test('street', () => pm.expect(pm.response.json().street.street_name)"
                ".to.eql('Новая улица'));"
            ],
        ),
        request(
            "Move it to Садовая улица, resize flat 2, add flat 3",
            "PUT",
            "/api/homes/details/?home_number={{houseNumber}}&street_name=Новая улица",
            role="operator",
            body={
                "street": {"street_name": "Садовая улица"},
                "flats": [
                    {"flat_number": 2, "flat_size": 42},
                    {"flat_number": 3, "flat_size": 61.2},
                ],
            },
            checks=[
                "pm.test('three flats', () => pm.expect(pm.response.json().flats).to.have.length(3));",
                "pm.test('moved', () => pm.expect(pm.response.json().street.street_name)"
                ".to.eql('Садовая улица'));",
            ],
        ),
        request(
            "Find its id (resource API)",
            "GET",
            "/api/v1/houses/?number={{houseNumber}}&street__name=Садовая улица",
            role="operator",
            checks=[
                body_has("count", "results"),
                "pm.test('one house', () => pm.expect(pm.response.json().count).to.eql(1));",
                save("houseId", "pm.response.json().results[0].id"),
            ],
        ),
        request(
            "Add flat 5",
            "POST",
            "/api/v1/flats/",
            role="operator",
            body='{"house": {{houseId}}, "number": 5, "area": "70.1"}',
            status=201,
            checks=[
                body_has("id", "house", "number", "area"),
                "pm.test('area', () => pm.expect(pm.response.json().area).to.eql('70.100'));",
                save("flatId", "pm.response.json().id"),
            ],
        ),
        request(
            "Resize flat 5",
            "PATCH",
            "/api/v1/flats/{{flatId}}/",
            role="operator",
            body={"area": "71.0"},
            checks=["pm.test('area', () => pm.expect(pm.response.json().area).to.eql('71.000'));"],
        ),
        request(
            "The house's flats",
            "GET",
            "/api/v1/flats/?house={{houseId}}",
            role="operator",
            checks=["pm.test('four flats', () => pm.expect(pm.response.json().count).to.eql(4));"],
        ),
    ],
)

METERS = folder(
    "Meters and readings",
    "Readings for April and May 2025: flats 2 and 3 by the compatible endpoint (a meter is "
    "installed where there is none), flat 1's two meters by serial in one bulk request.",
    [
        request(
            "April readings of flats 2 and 3",
            "POST",
            "/api/water-checkers/create/",
            role="operator",
            body='{"home": {{houseNumber}}, "street_name": "Садовая улица", "flats": "2,3", '
            '"year": 2025, "month": 4, "water_amount": 100}',
            status=201,
            checks=[
                "pm.test('two readings', () => pm.expect(pm.response.json()).to.have.length(2));"
            ],
        ),
        request(
            "May readings of flats 2 and 3",
            "POST",
            "/api/water-checkers/create/",
            role="operator",
            body='{"home": {{houseNumber}}, "street_name": "Садовая улица", "flats": "2,3", '
            '"year": 2025, "month": 5, "water_amount": 107.5}',
            status=201,
        ),
        request(
            "The house's meters",
            "GET",
            "/api/v1/meters/?flat__house={{houseId}}",
            role="operator",
            checks=[
                body_has("count", "results"),
                "const flat1 = pm.response.json().results.filter(m => m.flat_number === 1);",
                "pm.test('flat 1 has two meters', () => pm.expect(flat1).to.have.length(2));",
                save("serial1", "flat1[0].serial"),
                save("serial2", "flat1[1].serial"),
                save("meterId", "flat1[0].id"),
            ],
        ),
        request(
            "April readings of flat 1's meters (bulk)",
            "POST",
            "/api/v1/readings/bulk/",
            role="operator",
            body='{"house": {{houseId}}, "year": 2025, "month": 4, "readings": ['
            '{"flat_number": 1, "serial": "{{serial1}}", "value": 10}, '
            '{"flat_number": 1, "serial": "{{serial2}}", "value": 5}]}',
            status=201,
        ),
        request(
            "May readings of flat 1's meters (bulk)",
            "POST",
            "/api/v1/readings/bulk/",
            role="operator",
            body='{"house": {{houseId}}, "year": 2025, "month": 5, "readings": ['
            '{"flat_number": 1, "serial": "{{serial1}}", "value": 12.5}, '
            '{"flat_number": 1, "serial": "{{serial2}}", "value": 7}]}',
            status=201,
            checks=[
                "pm.test('two readings', () => pm.expect(pm.response.json()).to.have.length(2));"
            ],
        ),
        request(
            "A reading below the previous month is refused",
            "POST",
            "/api/v1/readings/",
            role="operator",
            body='{"meter": {{meterId}}, "year": 2025, "month": 6, "value": 3.2}',
            status=400,
            checks=[body_has("detail", "code")],
        ),
        request(
            "June reading of one meter",
            "POST",
            "/api/v1/readings/",
            role="operator",
            body='{"meter": {{meterId}}, "year": 2025, "month": 6, "value": 13.2}',
            status=201,
            checks=[body_has("id", "value"), save("readingId", "pm.response.json().id")],
        ),
        request(
            "Correct it",
            "PATCH",
            "/api/v1/readings/{{readingId}}/",
            role="operator",
            body={"value": 13.4},
            checks=[
                "pm.test('value', () => pm.expect(pm.response.json().value).to.eql('13.400'));"
            ],
        ),
        request(
            "Delete it", "DELETE", "/api/v1/readings/{{readingId}}/", role="operator", status=204
        ),  # fmt: skip
        request(
            "Readings of flats 2 and 3 in 2025",
            "GET",
            "/api/water-checkers/details/?home={{houseNumber}}&street_name=Садовая улица"
            "&flats=2,3&year=2025",
            role="operator",
            checks=[
                "pm.test('four readings', () => pm.expect(pm.response.json()).to.have.length(4));"
            ],
        ),
    ],
)

TARIFFS = folder(
    "Tariffs",
    "The demo data has global tariffs from 2020-01-01; a house's own upkeep price beats them.",
    [
        request(
            "Tariffs",
            "GET",
            "/api/v1/tariffs/",
            role="operator",
            checks=[body_has("count", "results")],
        ),
        request(
            "The house's own upkeep price from 2025",
            "POST",
            "/api/v1/tariffs/",
            role="operator",
            body='{"kind": "upkeep", "price": "30.00", "valid_from": "2025-01-01", '
            '"house": {{houseId}}}',
            status=201,
            checks=[body_has("id", "kind", "price"), save("tariffId", "pm.response.json().id")],
        ),
        request(
            "Correct its price",
            "PATCH",
            "/api/v1/tariffs/{{tariffId}}/",
            role="operator",
            body={"price": "31.00"},
            checks=["pm.test('price', () => pm.expect(pm.response.json().price).to.eql('31.00'));"],
        ),
    ],
)

POLL = [
    "const run = pm.response.json();",
    "const tries = Number(pm.collectionVariables.get('polls') || 0);",
    "if (run.status !== 'COMPLETED' && tries < 60) {",
    "  pm.collectionVariables.set('polls', tries + 1);",
    "  setTimeout(() => {}, 500);",
    "  postman.setNextRequest(pm.info.requestName);",
    "} else {",
    "  pm.collectionVariables.set('polls', 0);",
    "  pm.test('completed', () => pm.expect(run.status).to.eql('COMPLETED'));",
    "  pm.test('a line per flat', () => pm.expect(run.flats).to.have.length(4));",
    "}",
]

RENT = folder(
    "Rent",
    "Calculate May 2025 in the background (a Celery worker), follow the progress until it "
    "completes, then read the charges per house, per flat and as a spreadsheet.",
    [
        request(
            "Calculate May 2025",
            "POST",
            "/payment/calculate/",
            role="operator",
            body='{"home_number": {{houseNumber}}, "street_name": "Садовая улица", '
            '"month": 5, "year": 2025}',
            status=201,
            checks=[body_has("task_id"), save("taskId", "pm.response.json().task_id")],
        ),
        request(
            "Progress (repeats until completed)",
            "GET",
            "/payment/progress/{{taskId}}/",
            role="operator",
            checks=[body_has("task_id", "status", "progress", "flats"), *POLL],
        ),
        request(
            "The run",
            "GET",
            "/api/v1/rent-runs/{{taskId}}/",
            role="operator",
            checks=[body_has("id", "status", "progress")],
        ),
        request(
            "The house's May charges",
            "GET",
            "/api/v1/houses/{{houseId}}/charges/?year=2025&month=5",
            role="operator",
            checks=[body_has("lines")],
        ),
        request(
            "Charges per flat",
            "GET",
            "/api/v1/charges/?house={{houseId}}&year=2025&month=5",
            role="operator",
            checks=["pm.test('four flats', () => pm.expect(pm.response.json().count).to.eql(4));"],
        ),
        request(
            "The statement as a spreadsheet",
            "GET",
            "/api/v1/houses/{{houseId}}/statement/?year=2025&month=5",
            role="operator",
            checks=[
                "pm.test('xlsx', () => pm.expect(pm.response.headers.get('Content-Type'))"
                ".to.include('spreadsheetml'));"
            ],
        ),
    ],
)

USERS = folder(
    "Users and roles",
    "Your profile and invite codes; operators list and change users.",
    [
        request(
            "My profile and invite code",
            "GET",
            "/api/profile/",
            role="alice",
            checks=[body_has("invite_code", "activated_your_code")],
        ),
        request(
            "Me",
            "GET",
            "/api/v1/users/me/",
            role="alice",
            checks=[body_has("username", "email", "role")],
        ),
        request(
            "Change my bio",
            "PATCH",
            "/api/v1/users/me/",
            role="alice",
            body={"bio": "Живу на Садовой улице, квартира 3."},
            checks=["pm.test('bio', () => pm.expect(pm.response.json().bio).to.include('Садов'));"],
        ),
        request(
            "Users (operators)",
            "GET",
            "/api/v1/users/?search=alice",
            role="operator",
            checks=["pm.test('alice', () => pm.expect(pm.response.json().count).to.eql(1));"],
        ),
        request(
            "Users are for operators only",
            "GET",
            "/api/v1/users/",
            role="alice",
            status=403,
            checks=[body_has("detail", "code")],
        ),
    ],
)

BALANCES = folder(
    "Balances",
    "Alice's rouble account: a deposit, a purchase, a transfer to Bob, a refused and an "
    "accepted withdrawal, the history, the balance in dollars.",
    [
        request(
            "Open my account (already open: 200)",
            "POST",
            "/api/v1/accounts/",
            role="alice",
            checks=[
                body_has("id", "balance", "currency"),
                save("accountId", "pm.response.json().id"),
            ],
        ),
        request(
            "Bob's account",
            "GET",
            "/api/v1/accounts/",
            role="bob",
            checks=[save("bobAccountId", "pm.response.json().results[0].id")],
        ),
        request(
            "Deposit 250.50",
            "POST",
            "/api/v1/actions/",
            role="alice",
            headers=[{"key": "Idempotency-Key", "value": "{{$guid}}"}],
            body='{"account": {{accountId}}, "amount": 250.5, "comment": "card top-up"}',
            status=201,
            checks=[
                "pm.test('amount', () => pm.expect(pm.response.json().amount).to.eql('250.50'));"
            ],
        ),
        request(
            "Services",
            "GET",
            "/api/v1/services/",
            role="alice",
            checks=[body_has("results"), save("serviceId", "pm.response.json().results[0].id")],
        ),
        request(
            "Buy a service",
            "POST",
            "/api/v1/services/{{serviceId}}/purchase/",
            role="alice",
            body={"comment": "for my flat ad"},
            status=201,
            checks=[body_has("id", "service", "amount")],
        ),
        request(
            "My purchases",
            "GET",
            "/api/v1/transactions/",
            role="alice",
            checks=[body_has("count", "results")],
        ),
        request(
            "Send 150.00 to Bob",
            "POST",
            "/api/v1/transfers/",
            role="alice",
            body='{"from_account": {{accountId}}, "to_account": {{bobAccountId}}, '
            '"amount": "150.00", "comment": "rent share"}',
            status=201,
            checks=[
                "pm.test('amount', () => pm.expect(pm.response.json().amount).to.eql('150.00'));"
            ],
        ),
        request(
            "Bob sees it",
            "GET",
            "/api/v1/transfers/to_my_account/",
            role="bob",
            checks=[
                "pm.test('one or more', () => pm.expect(pm.response.json().count).to.be.above(0));"
            ],
        ),
        request(
            "Withdraw more than the balance: 402",
            "POST",
            "/api/v1/withdrawals/",
            role="alice",
            body='{"account": {{accountId}}, "amount": "100000"}',
            status=402,
            checks=[
                "pm.test('code', () => pm.expect(pm.response.json().code)"
                ".to.eql('insufficient_funds'));"
            ],
        ),
        request(
            "Withdraw 50",
            "POST",
            "/api/v1/withdrawals/",
            role="alice",
            body='{"account": {{accountId}}, "amount": "50", "comment": "ATM"}',
            status=201,
        ),
        request(
            "History, largest first",
            "GET",
            "/api/v1/history/?ordering=-amount&page_size=3",
            role="alice",
            checks=[
                "pm.test('three', () => pm.expect(pm.response.json().results).to.have.length(3));"
            ],
        ),
        request(
            "My balance in dollars",
            "GET",
            "/api/v1/accounts/?currency=USD",
            role="alice",
            checks=[
                "pm.test('USD', () => pm.expect(pm.response.json().results[0].currency)"
                ".to.eql('USD'));"
            ],
        ),
    ],
)

RESIDENTS = folder(
    "Residents",
    "Alice lives in a flat of the demo data: her flats with their meters, one of them, her "
    "charges month by month and her readings.",
    [
        request(
            "My flats",
            "GET",
            "/api/v1/me/flats/",
            role="alice",
            checks=[
                "pm.test('one or more', () => pm.expect(pm.response.json()).to.not.be.empty);",
                save("myFlatId", "pm.response.json()[0].id"),
            ],
        ),
        request(
            "One of my flats",
            "GET",
            "/api/v1/me/flats/{{myFlatId}}/",
            role="alice",
            checks=[body_has("id", "street_name", "house_number", "number", "meters")],
        ),
        request(
            "My charges",
            "GET",
            "/api/v1/me/charges/",
            role="alice",
            checks=[body_has("count", "results")],
        ),
        request("My readings", "GET", "/api/v1/me/readings/", role="alice"),
        request(
            "Charges of the whole house are for operators",
            "GET",
            "/api/v1/charges/",
            role="alice",
            status=403,
            checks=[body_has("detail", "code")],
        ),
    ],
)

RECEIPT = (
    '{"transaction_id": "{{receiptId}}", "timestamp": "2024-02-07T12:34:56", "items": ['
    '{"product_id": "product_id_1", "quantity": 2, "price": 10.99, "category": "groceries"}, '
    '{"product_id": "product_id_2", "quantity": 1, "price": 5.49, "category": "electronics"}], '
    '"total_amount": 27.47, "nds_amount": 2.47, "tips_amount": 3.0, '
    '"payment_method": "credit_card", "place_id": "011", "place_name": "Магазин №1"}'
)

RECEIPTS = folder(
    "Receipts",
    "The point of sale posts a receipt (201), the same again (200, counted once), and a bulk "
    "of a good and a bad one (a result per receipt).",
    [
        request(
            "A receipt",
            "POST",
            "/api/checks/",
            role="pos",
            pre=[save("receiptId", "'postman-' + Date.now()")],
            body=RECEIPT,
            status=201,
        ),
        request("The same receipt again", "POST", "/api/checks/", role="pos", body=RECEIPT),
        request(
            "A good and a bad receipt at once",
            "POST",
            "/api/checks/bulk/",
            role="pos",
            pre=[save("receiptId", "'postman-bulk-' + Date.now()")],
            body=f'[{RECEIPT}, {{"transaction_id": "bad"}}]',
            checks=[
                body_has("created", "invalid", "results"),
                "pm.test('one created', () => pm.expect(pm.response.json().created).to.eql(1));",
                "pm.test('one invalid', () => pm.expect(pm.response.json().invalid).to.eql(1));",
            ],
        ),
    ],
)

ANALYTICS = folder(
    "Analytics",
    "Places, the analytics of every place and of one, a time range, and the SVG chart.",
    [
        request(
            "Places",
            "GET",
            "/api/places/",
            role="analyst",
            checks=[body_has("count", "results")],
        ),
        request(
            "Every place",
            "GET",
            "/api/analytics/",
            role="analyst",
            checks=[body_has("results")],
        ),
        request(
            "Place 011",
            "GET",
            "/api/analytics/011/",
            role="analyst",
            checks=[body_has("place_id", "total_purchases", "taxes_amount", "category_analytics")],
        ),
        request(
            "Place 011 between 12:00 and 13:00",
            "GET",
            "/api/analytics/011/?from=2024-02-07T12:00&to=2024-02-07T13:00",
            role="analyst",
            checks=[body_has("hourly")],
        ),
        request(
            "The chart of the last 24 hours",
            "GET",
            "/api/analytics/011/chart.svg",
            role="analyst",
            headers=[{"key": "Accept", "value": "image/svg+xml"}],
            checks=[
                "pm.test('svg', () => pm.expect(pm.response.headers.get('Content-Type'))"
                ".to.include('image/svg+xml'));"
            ],
        ),
        request(
            "Analytics are for analysts",
            "GET",
            "/api/analytics/",
            role="alice",
            status=403,
            checks=[body_has("detail", "code")],
        ),
    ],
)

STORES = folder(
    "Stores",
    "Bob (a storekeeper) supplies and sells apples; too many is a 409; the movements and the "
    "spreadsheet; an operator adds a store.",
    [
        request(
            "Stock of abc111",
            "GET",
            "/stores/abc111",
            role="bob",
            checks=[body_has("store")],
        ),
        request(
            "Supply 5 apples",
            "POST",
            "/stores/abc111",
            role="bob",
            body={"operation": "supply", "item_id": "apple", "quantity": 5},
            checks=[body_has("store")],
        ),
        request(
            "Sell 1 apple",
            "POST",
            "/stores/abc111",
            role="bob",
            body={"operation": "demand", "item_id": "apple", "quantity": 1},
        ),
        request(
            "Sell more than there is: 409",
            "POST",
            "/stores/abc111",
            role="bob",
            body={"operation": "demand", "item_id": "apple", "quantity": 100000},
            status=409,
            checks=[body_has("detail", "code")],
        ),
        request(
            "What happened to the apples",
            "GET",
            "/stores/abc111/items/apple/movements",
            role="bob",
            checks=["pm.test('moves', () => pm.expect(pm.response.json().count).to.be.above(1));"],
        ),
        request(
            "The spreadsheet",
            "GET",
            "/stores/abc111/xlsx_report",
            role="bob",
            checks=[
                "pm.test('xlsx', () => pm.expect(pm.response.headers.get('Content-Type'))"
                ".to.include('spreadsheetml'));"
            ],
        ),
        request(
            "Add a store (operators)",
            "POST",
            "/stores",
            role="operator",
            pre=[save("storeId", "'north-' + Date.now()")],
            body={"store_id": "{{storeId}}"},
            status=201,
            checks=[body_has("store_id")],
        ),
    ],
)

CLEAN_UP = folder(
    "Clean up",
    "Delete the house this run created, with its flats, meters, readings and charges.",
    [
        request(
            "Delete the house",
            "DELETE",
            "/api/homes/details/?home_number={{houseNumber}}&street_name=Садовая улица",
            role="operator",
            status=204,
        ),
    ],
)


def collection() -> dict:
    variables = ["houseNumber", "houseId", "flatId", "serial1", "serial2", "meterId",
                 "readingId", "tariffId", "taskId", "polls", "accountId", "bobAccountId",
                 "serviceId", "myFlatId", "receiptId", "storeId", "newUser"]  # fmt: skip
    variables += [f"{role}Token" for role in ("operator", "analyst", "alice", "bob", "pos", "new")]
    return {
        "info": {
            "name": "Housing & commerce API",
            "description": "The README's walk-throughs, in order, against a running server "
            "with the demo data (`make run`). Set `baseUrl` in the environment; the Sign-in "
            "folder keeps the tokens in collection variables. Run the whole collection (the "
            "folders depend on each other), e.g. `newman run "
            "housing-commerce.postman_collection.json -e local.postman_environment.json`.",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "variable": [{"key": name, "value": ""} for name in variables],
        "item": [
            SIGN_IN,
            HOUSES,
            METERS,
            TARIFFS,
            RENT,
            USERS,
            BALANCES,
            RESIDENTS,
            RECEIPTS,
            ANALYTICS,
            STORES,
            CLEAN_UP,
        ],  # fmt: skip
    }


def environment() -> dict:
    return {
        "name": "Housing & commerce (local)",
        "values": [{"key": "baseUrl", "value": "http://127.0.0.1:8000", "enabled": True}],
    }


def render(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    COLLECTION.write_text(render(collection()))
    ENVIRONMENT.write_text(render(environment()))
