"""The load scenario behind ``make bench-load``: 50 front-desk users at once.

Serves the practice with gunicorn (DEBUG off, ``2 × cores + 1`` workers) on the benchmark
database and lets locust (``bench/locustfile.py``) run 50 concurrent front-desk users on
loopback for 60 seconds, each mixing calendar reads, patient searches, patient pages,
free-time searches and bookings — several of them racing for the same free times.

Afterwards it checks the database: no clinician, room or patient holds two live
appointments at overlapping times. It reports throughput, median and p95 latency per
request kind, failures (any answer other than what a person would get), bookings made and
bookings refused because someone else had just taken the time (or the patient); writes
``bench/results/load.json`` and ``load.md``; and removes its bookings again.

    .venv/bin/python bench/load.py [--users 50] [--seconds 60] [--database-url …]
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import RESULTS, bench_environment, dataset_arguments, serve  # noqa: E402


def double_bookings(appointment_ids: list[int]) -> dict[str, int]:
    """Live appointments overlapping one the scenario booked, for the same clinician, room
    or patient — each one a double booking the practice should have refused."""
    from appointments.models import Appointment

    found = {"clinician": 0, "room": 0, "patient": 0}
    for appointment in Appointment.objects.filter(pk__in=appointment_ids).live():
        others = (
            Appointment.objects.live()
            .overlapping(appointment.starts_at, appointment.ends_at)
            .exclude(pk=appointment.pk)
        )
        for kind in found:
            value = getattr(appointment, f"{kind}_id")
            if value is not None and others.filter(**{f"{kind}_id": value}).exists():
                found[kind] += 1
    return found


def _stats(csv_path: Path) -> list[dict]:
    rows = []
    with csv_path.open() as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "name": row["Name"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "median_ms": float(row["Median Response Time"] or 0),
                    "p95_ms": float(row["95%"] or 0) if row["95%"] != "N/A" else 0.0,
                    "per_second": float(row["Requests/s"] or 0),
                }
            )
    return rows


def markdown(result: dict) -> str:
    lines = [
        f"### Load: {result['users']} front-desk users, pausing {result['pause']} s",
        "",
        f"{result['database']} · {result['counts']['patients']:,} patients · "
        f"{result['counts']['appointments']:,} appointments · {result['users']} users · "
        f"{result['seconds']} s · gunicorn {result['workers']} workers · {result['when']}",
        "",
        "| request | requests | failures | median ms | p95 ms | per second |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in result["requests"]:
        lines.append(
            f"| {row['name']} | {row['requests']:,} | {row['failures']} | {row['median_ms']:.0f} "
            f"| {row['p95_ms']:.0f} | {row['per_second']:.1f} |"
        )
    doubles = result["double_bookings"]
    lines += [
        "",
        f"Bookings made: {result['bookings_made']}; refused because the time had just been "
        f"taken: {result['bookings_refused']['taken']}, because the patient already had an "
        f"appointment then: {result['bookings_refused']['patient busy']}. "
        f"Double bookings found afterwards: clinician "
        f"{doubles['clinician']}, room {doubles['room']}, patient {doubles['patient']}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    dataset_arguments(parser, workers=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--pause",
        default="0.5 2.5",
        help="each user's pause between requests, shortest and longest seconds",
    )
    args = parser.parse_args()
    env = bench_environment(args)
    from django.db import connections

    from bench import fixtures

    plan = fixtures.plan_make(bookings=300, desk_users=args.users)
    database = connections["default"].vendor
    connections.close_all()
    scratch = Path(tempfile.mkdtemp(prefix="clinic-load-"))
    plan_file, booked_file = scratch / "plan.json", scratch / "booked.json"
    plan_file.write_text(json.dumps(plan))
    server = serve(args, env)
    try:
        subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "--locustfile=bench/locustfile.py",
                "--headless",
                f"--users={args.users}",
                f"--spawn-rate={args.users}",
                f"--run-time={args.seconds}s",
                f"--host=http://127.0.0.1:{args.port}",
                f"--csv={scratch / 'load'}",
                "--only-summary",
                "--loglevel=WARNING",
            ],
            env={
                **env,
                "BENCH_PLAN": str(plan_file),
                "BENCH_BOOKED": str(booked_file),
                "BENCH_PAUSE": args.pause,
            },
            check=False,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    outcome = json.loads(booked_file.read_text())
    doubles = double_bookings(outcome["booked"])
    fixtures.bookings_remove(outcome["booked"])
    connections.close_all()
    requests = _stats(scratch / "load_stats.csv")
    result = {
        "database": database,
        "counts": plan["counts"],
        "users": args.users,
        "seconds": args.seconds,
        "pause": args.pause,
        "workers": args.workers,
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "requests": requests,
        "bookings_made": len(outcome["booked"]),
        "bookings_refused": outcome["refused"],
        "double_bookings": doubles,
    }
    text = markdown(result)
    RESULTS.mkdir(exist_ok=True)
    stem = "load" if args.pause == "0.5 2.5" and args.users == 50 else "load-custom"
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(text)
    print(text)
    total = next((row for row in requests if row["name"] == "Aggregated"), None)
    if total is None or total["failures"] or any(doubles.values()):
        raise SystemExit("The load scenario saw failures or double bookings.")


if __name__ == "__main__":
    main()
