"""CPU of one case intake and of the bare INSERT view, in-process and serial.

    .venv/bin/python bench/intake_inprocess.py                    # SQLite
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_perf_intake \
        .venv/bin/python bench/intake_inprocess.py
    .venv/bin/python bench/intake_inprocess.py --profile          # cProfile of the intake (CPU)
    .venv/bin/python bench/intake_inprocess.py --profile --sort tottime --profile-out /tmp/p.out

The same fresh database, token and requests as intake_bench.py, but no server, no sockets
and no concurrency: each request goes straight into Django's WSGI handler, one after the
other, so the CPU time of this process is the Python side of a request and nothing else.
On PostgreSQL it also prints the CPU of the connection's server process
(`db`, read from /proc), the database's own share of each request. Use it to see whether a
change to the intake's code saves CPU before running the noisy concurrent bench. It does not
replace that bench: it cannot see lock waits, group commit or the GIL.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time

import intake_bench as ib


def wsgi_environ(method: str, url: str, body: bytes, headers: dict) -> dict:
    path, _, query = url.partition("?")
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": ib.HOST, "SERVER_PORT": "8000", "HTTP_HOST": ib.HOST,
        "REMOTE_ADDR": ib.HOST, "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
    }  # fmt: skip
    for name, value in headers.items():
        if name.lower() == "content-type":
            environ["CONTENT_TYPE"] = value
        else:
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def caller(app, make_request):
    """A function that sends the next request and fails loudly on anything but success."""

    def call() -> None:
        status = []
        body = b"".join(app(wsgi_environ(*make_request()), lambda s, h, e=None: status.append(s)))
        if status[0][:3] not in ("200", "201"):
            raise SystemExit(f"request failed: {status[0]} {body[:300]!r}")

    return call


def backend_cpu() -> float:
    """CPU seconds of this process's PostgreSQL backend so far (0 on SQLite), from /proc:
    serial requests on one connection make it the server's share of each request."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with open(f"/proc/{connection.connection.info.backend_pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(call, count: int) -> tuple[float, float, float]:
    """(CPU µs, wall µs, database backend CPU µs) per request over `count` requests."""
    cpu, wall, db = time.process_time(), time.perf_counter(), backend_cpu()
    for _ in range(count):
        call()
    return (
        1e6 * (time.process_time() - cpu) / count,
        1e6 * (time.perf_counter() - wall) / count,
        1e6 * (backend_cpu() - db) / count,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000, help="per repetition")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--warm-up", type=int, default=300)
    ap.add_argument("--profile", action="store_true", help="cProfile the intake instead")
    ap.add_argument("--sort", default="cumulative", help="the profile's order (pstats key)")
    ap.add_argument("--profile-out", help="also write the profile to this file")
    args = ap.parse_args()
    token, user_id = ib.prepare()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    app = WSGIHandler()
    connection.settings_dict["CONN_MAX_AGE"] = None  # one backend throughout: see backend_cpu
    bare, intake = (caller(app, make) for make in ib.request_makers(token, user_id))
    for call in (bare, intake):
        measure(call, args.warm_up)
    if args.profile:
        # CPU time, not wall: the database's share would otherwise sit in psycopg's wait
        profile = cProfile.Profile(time.process_time)
        profile.runcall(measure, intake, args.requests)
        if args.profile_out:  # for pstats' print_callers and the like
            profile.dump_stats(args.profile_out)
        pstats.Stats(profile).sort_stats(args.sort).print_stats(60)
        return
    for _ in range(args.repeat):  # alternating, as the concurrent bench does
        for name, call in (("bare", bare), ("intake", intake)):
            cpu, wall, db = measure(call, args.requests)
            print(f"{name:6} CPU {cpu:5.0f} µs  db {db:4.0f} µs  wall {wall:5.0f} µs", end="  ")
        print()


if __name__ == "__main__":
    main()
