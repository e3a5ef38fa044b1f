"""Profile one page in-process, to see where its time goes before tuning it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clinic_bench \\
        .venv/bin/python bench/profile_page.py /patients/?q=smith --as front_desk

Requests the page through Django's test client, signed in as one of the benchmark's users
(``front_desk``, ``physio`` or ``manager``), a few times to warm up, then ``--times`` more
without and then under cProfile; prints the queries of one request, the median time, and
the functions that took longest (``--top 0``: the timing only).
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--as", dest="role", default="front_desk")
    parser.add_argument("--times", type=int, default=20)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--htmx", action="store_true", help="send HX-Request, as htmx does")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.fixtures import bench_user, session_for

    user = bench_user(args.role)
    client = Client(SERVER_NAME="127.0.0.1", headers={"HX-Request": "true"} if args.htmx else {})
    client.cookies["sessionid"] = session_for(user, second_factor=args.role == "manager")
    for _ in range(3):
        response = client.get(args.path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(args.path)
    print(f"{response.status_code}, {len(response.content):,} bytes, {len(queries)} queries")
    for query in queries.captured_queries:
        print(f"  {query['time']}s  {query['sql'][:160]}")
    timings = []
    for _ in range(args.times):
        started = time.perf_counter()
        client.get(args.path)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"median {statistics.median(timings):.1f} ms over {args.times} requests (not profiled)")
    if args.top == 0:
        return
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.times):
        client.get(args.path)
    profiler.disable()
    print(f"{(time.perf_counter() - started) * 1000 / args.times:.1f} ms per request (profiled)")
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
