"""Demo data registry: each app's `demo.seed(stdout)` adds its part, idempotently."""

import importlib
from collections.abc import Callable, Iterator
from typing import Any

# Order matters: users first, then the domains that refer to them.
DEMO_MODULES = [
    "accounts.demo",
    "accounts.balances.demo",
    "housing.demo",
    "billing.demo",
    "receipts.demo",
    "stores.demo",
    "residents.demo",
]


def demo_seeders() -> Iterator[tuple[str, Callable[..., Any]]]:
    for name in DEMO_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        yield name.split(".")[0], module.seed
