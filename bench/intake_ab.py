"""Two versions of the code side by side: which one takes intakes faster, on a noisy machine.

    git worktree add /tmp/old <commit>
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cg_perf_intake \
        .venv/bin/python bench/intake_ab.py --a /tmp/old --b . [--rounds 12 --seconds 6]

intake_bench.py compares the intake with the bare view in one tree; between two commits its
figures drift with the host (the bare view alone moved ±30 % within minutes on the session
machines). Here one gunicorn server runs from each tree (same settings, same database,
same requests), and short phases alternate between them, the order flipping each round, so
that drift hits both alike. It prints, per round, each server's bare and intake req/s; at
the end each server's median ratio, the per-round B/A of the intake, and the CPU each
request cost by process group (gunicorn workers, PostgreSQL backends, this client), read from
/proc around every phase: on two cores the system is CPU-bound, so CPU per request is what
throughput follows.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import time
from pathlib import Path

import intake_bench as ib

TICK = os.sysconf("SC_CLK_TCK")
GROUPS = ("gunicorn", "postgres", "client")


def cpu_by_group() -> dict[str, float]:
    """CPU seconds so far of every live process, summed by group."""
    out = dict.fromkeys(GROUPS, 0.0)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        name, fields = stat.split(")", 1)[0], stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / TICK
        if int(pid) == os.getpid():
            out["client"] += seconds
        elif "gunicorn" in cmd:
            out["gunicorn"] += seconds
        elif "postgres" in cmd or "postgres" in name:
            out["postgres"] += seconds
    return out


def start(root: Path, port: int, threads: int) -> subprocess.Popen:
    """gunicorn as intake_bench.start_server runs it, from `root`'s code."""
    cmd = [
        str(ib.ROOT / ".venv" / "bin" / "gunicorn"), "civicgrid.wsgi:application",
        "--bind", f"{ib.HOST}:{port}", "--workers", "2", "--threads", str(threads),
        "--worker-class", "gthread", "--log-level", "warning", "--keep-alive", "30",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=root, env=dict(os.environ, PYTHONPATH=str(root)))
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection((ib.HOST, port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"gunicorn from {root} did not start")


def phase(port: int, make_request, seconds: float) -> tuple[float, dict[str, float]]:
    """(req/s, CPU ms per request by group) of one phase."""
    before = cpu_by_group()
    result = ib.run_clients(port, make_request, 16, seconds, 50_000)
    after = cpu_by_group()
    ok = max(result["ok"], 1)
    return result["rps"], {g: 1000 * (after[g] - before[g]) / ok for g in GROUPS}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", type=Path, required=True, help="tree of version A")
    ap.add_argument("--b", type=Path, default=ib.ROOT, help="tree of version B")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=6)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    token, user_id = ib.prepare()
    bare, intake = ib.request_makers(token, user_id)
    servers, runs = {}, {"A": [], "B": []}
    try:
        for name, root in (("A", args.a.resolve()), ("B", args.b.resolve())):
            port = ib.free_port()
            servers[name] = (port, start(root, port, args.threads))
            ib.warm_up(port, intake)
        for r in range(args.rounds):
            order = ["A", "B"] if r % 2 == 0 else ["B", "A"]
            for name in order:
                port = servers[name][0]
                base = phase(port, bare, args.seconds)
                ib.age_out()  # each intake phase from the same state, as in intake_bench.py
                runs[name].append((base, phase(port, intake, args.seconds)))
            print(f"round {r + 1}: " + "  ".join(
                f"{n} bare {runs[n][-1][0][0]:6.0f} intake {runs[n][-1][1][0]:6.0f}"
                for n in ("A", "B")), flush=True)  # fmt: skip
    finally:
        for _port, proc in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
    report(runs)


def report(runs: dict[str, list]) -> None:
    for name, rows in runs.items():
        ratio = statistics.median(i[0] / b[0] for b, i in rows)
        cpu = {
            kind: {g: statistics.median(r[k][1][g] for r in rows) for g in GROUPS}
            for k, kind in enumerate(("bare", "intake"))
        }
        print(f"{name}: intake/bare median {ratio:.3f}; CPU ms per request (medians): "
              + "; ".join(f"{kind} " + " ".join(f"{g} {v:.2f}" for g, v in c.items())
                          for kind, c in cpu.items()))  # fmt: skip
    per_round = sorted(b[1][0] / a[1][0] for a, b in zip(runs["A"], runs["B"], strict=True))
    print(
        f"intake B/A per round: median {statistics.median(per_round):.3f}, "
        f"min {per_round[0]:.3f}, max {per_round[-1]:.3f} ({len(per_round)} rounds)"
    )


if __name__ == "__main__":
    main()
