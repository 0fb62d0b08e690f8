from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.balances.selectors import ledger_discrepancies


class Command(BaseCommand):
    help = "Check that every account balance equals the sum of its ledger movements."

    def handle(self, *args: Any, **options: Any) -> None:
        found = ledger_discrepancies()
        for item in found:
            self.stderr.write(
                f"account {item.account_id}: balance {item.balance} != "
                f"movements sum {item.ledger_sum} (difference {item.balance - item.ledger_sum})"
            )
        if found:
            raise CommandError(f"{len(found)} account(s) disagree with the ledger")
        self.stdout.write(self.style.SUCCESS("OK: every balance equals its ledger sum"))
