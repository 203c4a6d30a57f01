"""Where the CPU of an intake goes: the same server, clients and phases as intake_bench.py,
with the CPU time of gunicorn, PostgreSQL and the client read from /proc around each phase.

    .venv/bin/python bench/intake_cpu.py                       # SQLite
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_perf_intake \
        .venv/bin/python bench/intake_cpu.py

Prints, per phase, requests/s, CPU milliseconds per request of each group and how idle the
machine was. When both phases are CPU-bound (idle near 0), the throughput ratio is the ratio
of the total CPU per request; idle time in a phase means it is waiting on a lock or a disk.
Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os

import intake_bench as ib

HZ = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(match) -> float:
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if match(cmd, pid):
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / HZ


def _idle_and_total() -> tuple[float, float]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return values[3] / HZ, sum(values) / HZ


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    me = str(os.getpid())
    groups = {
        "gunicorn": lambda cmd, pid: "gunicorn" in cmd,
        "postgres": lambda cmd, pid: cmd.startswith("postgres"),
        "client": lambda cmd, pid: pid == me,
    }
    token, user_id = ib.prepare()
    port = ib.free_port()
    server = ib.start_server(port, args.workers, args.threads)
    bare, intake = ib.request_makers(token, user_id)
    try:
        ib.warm_up(port, intake)
        for _ in range(args.rounds):
            for name, make in (("bare", bare), ("intake", intake)):
                if make is intake:
                    ib.age_out()  # each intake phase from the same state (intake_bench.py)
                before = {g: _cpu_seconds(m) for g, m in groups.items()}
                idle0, total0 = _idle_and_total()
                result = ib.run_clients(port, make, 16, args.seconds, 50_000)
                idle1, total1 = _idle_and_total()
                n = max(1, result["ok"])
                parts = "  ".join(
                    f"{g} {(_cpu_seconds(m) - before[g]) / n * 1000:.2f}" for g, m in groups.items()
                )
                idle = 100 * (idle1 - idle0) / max(1e-9, total1 - total0)
                rps = result["rps"]
                print(f"{name:6s} {rps:7.1f} req/s  CPU ms/request: {parts}  idle {idle:.0f}%")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
