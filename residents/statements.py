"""The debtors' xlsx of a house and month (rows written through core.xlsx.safe_row)."""

import io

from openpyxl import Workbook

from core.xlsx import safe_row
from housing.models import House
from residents import selectors

COLUMNS = ["Flat", "Total", "Paid", "Due", "State", "Residents"]


def debtors_xlsx(*, house: House, year: int, month: int) -> bytes:
    report = selectors.house_payments(house=house, year=year, month=month)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(f"{year}-{month:02d}")
    title = f"Debtors: {house.street.name}, {house.number}, {year}-{month:02d}"
    sheet.append(safe_row(sheet, [title]))
    sheet.append(
        safe_row(
            sheet,
            [
                f"paid {report['paid']}, partly paid {report['partly_paid']}, "
                f"unpaid {report['unpaid']}, debt {report['debt']}"
            ],
        )
    )
    sheet.append(COLUMNS)
    for charge in report["debtors"]:
        residents = ", ".join(
            r.user.phone or r.user.email or r.user.username for r in charge.flat.residencies.all()
        )
        row = [
            charge.flat.number,
            charge.total,
            charge.paid_amount,
            charge.due,
            charge.payment_state,
            residents,
        ]
        sheet.append(safe_row(sheet, row))
    sheet.append(["Total", report["total"], report["paid_amount"], report["debt"]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
