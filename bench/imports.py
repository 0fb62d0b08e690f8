"""Bulk import benchmark: a month of meter readings from xlsx and CSV against a bare COPY.

Builds a city in PostgreSQL (default 100,000 flats in 500 houses, 2 meters each, 2 months of
readings), writes the next month's 200,000 readings as a CSV and an xlsx file (one row per
meter: street, house, flat, serial, year, month, value), then imports each file through the
import job's code (the Celery task's body) in a fresh child process, which reports its time
and peak RSS. It does the same with a file a tenth of the size, to show the peak memory does
not grow with the file. Last, it times the bare database load of the same rows: COPY of the
CSV into a temporary table, then one INSERT ... SELECT (serial -> meter) into a copy of the
readings table with its indexes. Prints the figures and deletes the city (unless --keep).

    DEBUG=true DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/imports.py --flats 20000
"""

import argparse
import csv
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

settings.DEBUG = False  # DEBUG keeps every query in memory

from _harness import build_registry, cpu_seconds, cpu_split  # noqa: E402
from django.core.files import File  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from housing.models import Flat, House, MeterReading, Street, WaterMeter  # noqa: E402
from imports import runs, services  # noqa: E402
from imports.formats import XlsxStream  # noqa: E402
from imports.models import ImportJob  # noqa: E402

# No worker here: the child process executes the job, so queue nothing.
services._enqueue = lambda job_id: None

YEAR, MONTH = 2024, 12  # the month imported; readings exist for October and November
HEADERS = ["street", "house", "flat", "serial", "year", "month", "value"]


def rss_mb() -> float:
    """Peak RSS of this process image: VmHWM (ru_maxrss would carry over the parent's peak
    through fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_city(*, houses: int, flats: int, meters: int) -> tuple[int, list[int]]:
    """The registry, with October's and November's readings."""
    street_id, house_ids, _tag = build_registry(houses=houses, flats=flats, meters=meters)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {MeterReading._meta.db_table} (meter_id, year, month, value, created_at) "
            "SELECT m.id, %s, mo, (mo - 9) * (1 + m.id %% 7) + (m.id %% 13) * 0.001, now() "
            f"FROM {WaterMeter._meta.db_table} m JOIN {Flat._meta.db_table} f ON f.id = m.flat_id "
            "CROSS JOIN generate_series(10, 11) mo WHERE f.house_id = ANY(%s)",
            [YEAR, house_ids],
        )
        cur.execute(
            f"VACUUM ANALYZE {Street._meta.db_table}, {House._meta.db_table}, "
            f"{Flat._meta.db_table}, {WaterMeter._meta.db_table}, {MeterReading._meta.db_table}"
        )
    return street_id, house_ids


def month_rows(street_id: int, limit: int | None = None):
    """December's readings (November's value plus 1..7 m3), streamed from the database."""
    sql = (
        f"SELECT s.name, h.number, f.number, m.serial, %s, %s, "
        f"  (3 * (1 + m.id %% 7) + (m.id %% 13) * 0.001)::numeric(12, 3) "
        f"FROM {WaterMeter._meta.db_table} m JOIN {Flat._meta.db_table} f ON f.id = m.flat_id "
        f"JOIN {House._meta.db_table} h ON h.id = f.house_id "
        f"JOIN {Street._meta.db_table} s ON s.id = h.street_id WHERE s.id = %s "
        f"ORDER BY h.number, f.number, m.id" + (f" LIMIT {int(limit)}" if limit else "")
    )
    with connection.chunked_cursor() as cur:
        cur.execute(sql, [YEAR, MONTH, street_id])
        while chunk := cur.fetchmany(5000):
            yield from chunk


def write_files(
    street_id: int, folder: Path, limit: int | None, tag: str, formats: list[str]
) -> dict[str, Path]:
    paths = {"csv": folder / f"readings-{tag}.csv", "xlsx": folder / f"readings-{tag}.xlsx"}
    with paths["csv"].open("w", newline="") as handle:  # also the bare COPY's input
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(month_rows(street_id, limit))
    if "xlsx" in formats:
        book = XlsxStream("readings")
        book.append(HEADERS)
        for row in month_rows(street_id, limit):
            book.append(row)
        book.save(paths["xlsx"])
    return paths


def child(job_id: str) -> None:
    """Execute one job in this (fresh) process; print its time and peak RSS as JSON."""
    logging.getLogger("imports").setLevel(logging.WARNING)
    rss_before = rss_mb()
    profile = None
    if os.environ.get("BENCH_PROFILE"):  # where the time goes, on stderr
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    per_statement: dict[str, list] = {}

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = per_statement.setdefault(" ".join(sql.split())[:60], [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - began

    own, backend = cpu_split()
    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        runs.execute_import(job_id=job_id, pause=0)
    elapsed = time.perf_counter() - started
    own_after, backend_after = cpu_split()
    own = own_after - own
    backend = None if backend is None or backend_after is None else backend_after - backend
    cpu = None if backend is None else own + backend
    if profile:
        for sql, (count, seconds) in sorted(per_statement.items(), key=lambda i: -i[1][1])[:12]:
            print(f"{seconds:7.2f} s {count:5d}x {sql}", file=sys.stderr)
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "cpu": cpu,
                "cpu_worker": own,
                "cpu_backend": backend,
                "rss_mb": rss_mb(),
                "rss_before_mb": rss_before,
            }
        )
    )


def import_file(path: Path, mode: str) -> dict:
    with path.open("rb") as handle:
        job, _ = services.start_import(
            upload=File(handle, name=path.name), kind="readings", mode=mode
        )
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(job.pk)],
        check=True, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    job = ImportJob.objects.get(pk=job.pk)
    figures.update(
        status=job.status,
        created=job.created,
        failed=job.failed,
        size_mb=path.stat().st_size / 2**20,
    )
    job.delete()  # the same file again is a new job
    return figures


def delete_month(house_ids: list[int]) -> None:
    with connection.cursor() as cur:
        cur.execute(
            f"DELETE FROM {MeterReading._meta.db_table} r USING {WaterMeter._meta.db_table} m, "
            f"{Flat._meta.db_table} f WHERE r.meter_id = m.id AND m.flat_id = f.id "
            "AND f.house_id = ANY(%s) AND r.year = %s AND r.month = %s",
            [house_ids, YEAR, MONTH],
        )
        cur.execute(f"VACUUM ANALYZE {MeterReading._meta.db_table}")


def bare(path: Path) -> tuple[float, float, int, float | None]:
    """COPY the CSV into a temp table, then INSERT ... SELECT into an indexed copy of the
    readings table; returns (copy s, insert s, rows, CPU s)."""
    name = f"bench_bare_{uuid.uuid4().hex[:8]}"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_load (street text, house int, flat int, serial text, "
            "year int, month int, value numeric(12, 3)) ON COMMIT DROP"
        )
        cur.execute(f"CREATE TABLE {name} (LIKE {MeterReading._meta.db_table} INCLUDING ALL)")
        cpu = cpu_seconds()
        started = time.perf_counter()
        with path.open() as handle:
            cur.copy_expert("COPY bench_load FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
        copied = time.perf_counter()
        cur.execute(
            f"INSERT INTO {name} (meter_id, year, month, value, created_at) "
            f"SELECT m.id, l.year, l.month, l.value, now() FROM bench_load l "
            f"JOIN {WaterMeter._meta.db_table} m ON m.serial = l.serial"
        )
        rows = cur.rowcount
        inserted = time.perf_counter()
        after = cpu_seconds()
        cur.execute(f"DROP TABLE {name}")
    cpu_used = None if cpu is None or after is None else after - cpu
    return copied - started, inserted - copied, rows, cpu_used


def cleanup(street_id: int, house_ids: list[int]) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        flats = f"SELECT id FROM {Flat._meta.db_table} WHERE house_id = ANY(%s)"
        meters = f"SELECT id FROM {WaterMeter._meta.db_table} WHERE flat_id IN ({flats})"
        cur.execute(
            f"DELETE FROM {MeterReading._meta.db_table} WHERE meter_id IN ({meters})", [house_ids]
        )
        cur.execute(
            f"DELETE FROM {WaterMeter._meta.db_table} WHERE flat_id IN ({flats})", [house_ids]
        )
        cur.execute(f"DELETE FROM {Flat._meta.db_table} WHERE house_id = ANY(%s)", [house_ids])
        cur.execute(f"DELETE FROM {House._meta.db_table} WHERE id = ANY(%s)", [house_ids])
        cur.execute(f"DELETE FROM {Street._meta.db_table} WHERE id = %s", [street_id])


def report(label: str, f: dict) -> None:
    rows = f["created"]
    print(
        f"ours, {label}: {f['seconds']:.2f} s = {rows / f['seconds']:,.0f} rows/s "
        f"({f['size_mb']:.1f} MB file, {f['status']}, created {rows}, failed {f['failed']}); "
        f"CPU {f['cpu'] or 0:.2f} s = {f['cpu_worker']:.2f} s this process "
        f"+ {f['cpu_backend'] or 0:.2f} s its PostgreSQL backend; "
        f"peak RSS {f['rss_mb']:.1f} MB (at start {f['rss_before_mb']:.1f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flats", type=int, default=100_000, help="flats in total")
    parser.add_argument("--houses", type=int, default=500, help="houses")
    parser.add_argument("--meters", type=int, default=2, help="meters per flat")
    parser.add_argument(
        "--mode", default="all_or_nothing", choices=[m.value for m in ImportJob.Mode]
    )
    parser.add_argument("--formats", default="csv,xlsx", help="comma-separated: csv,xlsx")
    parser.add_argument("--no-small", action="store_true", help="skip the tenth-size files")
    parser.add_argument("--keep", action="store_true", help="keep the generated city")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    if connection.vendor != "postgresql":
        raise SystemExit("bench/imports.py needs PostgreSQL (set DATABASE_URL)")
    logging.getLogger("imports").setLevel(logging.WARNING)
    started = time.perf_counter()
    street_id, house_ids = build_city(houses=args.houses, flats=args.flats, meters=args.meters)
    total = args.flats // args.houses * args.houses * args.meters
    print(
        f"city: {args.houses} houses, {args.flats} flats, {args.meters} meters each, "
        f"2 months of readings; built in {time.perf_counter() - started:.1f} s; "
        f"batch size {settings.IMPORT_BATCH_SIZE}, mode {args.mode}"
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    try:
        started = time.perf_counter()
        formats = args.formats.split(",")
        files = {"full": write_files(street_id, folder, None, "full", formats)}
        if not args.no_small:
            files["tenth"] = write_files(street_id, folder, total // 10, "tenth", formats)
        print(f"files of {total} readings written in {time.perf_counter() - started:.1f} s")
        for fmt in formats:
            for size, paths in files.items():
                figures = import_file(paths[fmt], args.mode)
                report(f"{fmt}, {size}", figures)
                delete_month(house_ids)
        copy_s, insert_s, rows, cpu = bare(files["full"]["csv"])
        print(
            f"bare: COPY of the CSV {copy_s:.2f} s + INSERT ... SELECT into an indexed copy of "
            f"the readings table {insert_s:.2f} s = {copy_s + insert_s:.2f} s for {rows} rows; "
            f"CPU {cpu or 0:.2f} s"
        )
    finally:
        for paths in locals().get("files", {}).values():
            for path in paths.values():
                path.unlink(missing_ok=True)  # an xlsx not asked for was never written
        folder.rmdir()
        if not args.keep:
            cleanup(street_id, house_ids)


if __name__ == "__main__":
    main()
