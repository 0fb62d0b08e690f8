import csv
import io

from openpyxl import Workbook

from imports import runs
from imports.models import ImportJob


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode(encoding)


def spreadsheet(fmt: str, rows: list[list]) -> bytes:
    return xlsx_bytes(rows) if fmt == "xlsx" else csv_bytes(rows, delimiter=";")


def upload(client, content: bytes, *, kind: str, fmt: str = "xlsx", **fields):
    file = io.BytesIO(content)
    file.name = f"{kind}.{fmt}"
    data = {"file": file, "kind": kind, **{k: str(v).lower() for k, v in fields.items()}}
    return client.post("/api/v1/imports/", data, format="multipart")


def run(client, content: bytes, *, kind: str, fmt: str = "xlsx", batch_size=None, **fields):
    """Upload and execute the job in this process (the test transaction never commits, so
    nothing is sent to a worker); returns the job's API body."""
    response = upload(client, content, kind=kind, fmt=fmt, **fields)
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    runs.execute_import(job_id=job_id, batch_size=batch_size, pause=0)
    body = client.get(f"/api/v1/imports/{job_id}/").json()
    body["job"] = ImportJob.objects.get(pk=job_id)
    return body
