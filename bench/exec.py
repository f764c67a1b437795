#!/usr/bin/env python3
"""Benchmark `vault-fetch-relay exec` (the supervisor) against the product's dev server.

Measures, over plain HTTP on loopback (the dev server's request log is the request count):
  1. start-up: wall time of `exec -- /bin/true` and `exec --once -- /bin/true` next to a
     plain fetch (`env > /dev/null`) and `/bin/true` alone, interleaved rounds, medians;
  2. idle: VmRSS/VmHWM of the supervisor with a sleeping child, and its CPU time and
     context switches over a quiet window between polls (interval 30 s);
  3. the steady path: requests the dev server logged vs polls exec logged, over a run
     with a 1 s interval (the dev-server-only floor knob, loopback API base).

Prints a Markdown section on stdout; `bench/exec.sh` puts it into BENCHMARKS.md.
Usage: exec.py --bin target/release/vault-fetch-relay [--n 100] [--idle 10] [--steady 10]
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")


def fail(msg):
    print(f"bench/exec.py: {msg}", file=sys.stderr)
    sys.exit(1)


def status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return None


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # Fields after the command: state is rest[0]; utime, stime are fields 14, 15 (rest[11], rest[12]).
    return int(rest[11]) + int(rest[12])


def wait_line(path, pattern, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(path) as f:
            text = f.read()
        if re.search(pattern, text):
            return text
        time.sleep(0.02)
    fail(f"timed out waiting for {pattern!r} in {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--idle", type=float, default=10.0)
    ap.add_argument("--steady", type=float, default=10.0)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vfr-exec-bench-")
    server_log = os.path.join(work, "server.log")
    server = subprocess.Popen(
        [args.bin, "dev-server", "--seed"],
        stdout=subprocess.PIPE,
        stderr=open(server_log, "w"),
        text=True,
        env={"PATH": os.environ.get("PATH", "")},
    )
    try:
        exports = {}
        while len(exports) < 2:
            line = server.stdout.readline()
            if not line:
                fail("the dev server exited before printing its exports")
            m = re.match(r"export (WORKOS_API_BASE|WORKOS_API_KEY)=(\S+)", line)
            if m:
                exports[m.group(1)] = m.group(2)
        env = {"PATH": os.environ.get("PATH", ""), **exports}
        true = "/bin/true"

        def wall(argv, extra_env=None):
            e = dict(env, **(extra_env or {}))
            t = time.perf_counter()
            r = subprocess.run(argv, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            d = time.perf_counter() - t
            if r.returncode != 0:
                fail(f"{argv} exited {r.returncode}")
            return d * 1000

        runs = {
            "plain fetch (`env > /dev/null`)": [args.bin, "env"],
            "`exec --once -- /bin/true`": [args.bin, "exec", "--once", "--", true],
            "`exec -- /bin/true` (supervised)": [args.bin, "exec", "--", true],
            "`/bin/true` alone": [true],
        }
        samples = {k: [] for k in runs}
        for _ in range(5):
            for argv in runs.values():
                wall(argv)
        for _ in range(args.n):
            for k, argv in runs.items():
                samples[k].append(wall(argv))
        med = {k: statistics.median(v) for k, v in samples.items()}

        # 2. idle supervisor
        idle_log = os.path.join(work, "idle.log")
        sup = subprocess.Popen(
            [args.bin, "exec", "--interval", "30s", "--", "sleep", "3600"],
            env=env,
            stderr=open(idle_log, "w"),
            stdout=subprocess.DEVNULL,
        )
        wait_line(idle_log, r"started sleep")
        time.sleep(1.0)
        rss = status_field(sup.pid, "VmRSS")
        hwm = status_field(sup.pid, "VmHWM")
        anon = status_field(sup.pid, "RssAnon")
        file_backed = status_field(sup.pid, "RssFile")
        threads = status_field(sup.pid, "Threads")
        t0, c0 = cpu_ticks(sup.pid), status_field(sup.pid, "voluntary_ctxt_switches")
        time.sleep(args.idle)
        t1, c1 = cpu_ticks(sup.pid), status_field(sup.pid, "voluntary_ctxt_switches")
        sup.send_signal(signal.SIGTERM)
        idle_code = sup.wait(timeout=10)

        # 3. steady path: one request per poll
        with open(server_log) as f:
            before = f.read().count("GET /vault/v1/kv/name/")
        steady_log = os.path.join(work, "steady.log")
        sup = subprocess.Popen(
            [args.bin, "exec", "--interval", "1s", "--", "sleep", "3600"],
            env=dict(env, VAULT_FETCH_DEV_INTERVAL_FLOOR="0.1"),
            stderr=open(steady_log, "w"),
            stdout=subprocess.DEVNULL,
        )
        wait_line(steady_log, r"started sleep")
        time.sleep(args.steady)
        steady_rss = status_field(sup.pid, "VmRSS")
        sup.send_signal(signal.SIGTERM)
        sup.wait(timeout=10)
        time.sleep(0.2)
        with open(server_log) as f:
            requests = f.read().count("GET /vault/v1/kv/name/") - before
        with open(steady_log) as f:
            log = f.read()
        polls = log.count("exec: fetch:")
        restarts = log.count("restarting ")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)

    fetch_ms = med["plain fetch (`env > /dev/null`)"]
    true_ms = med["`/bin/true` alone"]
    print(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.n} interleaved rounds "
          f"(after 5 warm-up rounds), plain HTTP on loopback against `dev-server --seed`.\n")
    print("| run | median wall ms |")
    print("|---|---:|")
    for k, v in med.items():
        print(f"| {k} | {v:.2f} |")
    print()
    once = "`exec --once -- /bin/true`"
    sup_key = "`exec -- /bin/true` (supervised)"
    print(f"- {once}: {med[once] - fetch_ms:+.2f} ms over the plain fetch (it execs /bin/true in place, so this "
          f"includes that exec and /bin/true's run).")
    print(f"- {sup_key}: {med[sup_key] - fetch_ms - true_ms:+.2f} ms over a plain fetch plus a separate `/bin/true` "
          f"(an upper bound on the time from start to the child's exec: it also holds the child's reaping "
          f"and our exit).")
    print(f"- Idle supervisor (child `sleep`, interval 30 s, {threads} threads): VmRSS {rss / 1024:.2f} MiB "
          f"(RssAnon {anon / 1024:.2f} MiB, RssFile {file_backed / 1024:.2f} MiB: the binary's and libc's pages, "
          f"shared page cache), VmHWM {hwm / 1024:.2f} MiB; over {args.idle:.0f} s between polls: {t1 - t0} CPU "
          f"ticks ({1000 // TICK} ms each) and {c1 - c0} voluntary context switches. "
          f"SIGTERM: exit {idle_code if idle_code >= 0 else 128 - idle_code}.")
    print(f"- Steady path, interval 1 s for {args.steady:.0f} s: {polls} fetches logged by exec, "
          f"{requests} requests logged by the dev server, {restarts} restarts; VmRSS after it "
          f"{steady_rss / 1024:.2f} MiB.")


if __name__ == "__main__":
    main()
