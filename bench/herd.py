#!/usr/bin/env python3
"""A fleet on one API key: N `init` runs started at once, or M `exec` supervisors polling, against
the dev server with `--rate-limit` scaled so that N/limit matches 10,000 pods on WorkOS's 6,000
requests per 60 s.

  init: N runs of `init --dir` started together; the limit is 0.6*N per 60 s (real time, the
        default 30 s deadline unless --timeout-seconds). Per run: exit, end time, and what is on
        disk (found: credentials.json + managed config.yml; degraded: proxy config.yml and no
        credentials.json; anything else is a failure).
  exec: M `exec -- sleep` supervisors started together, for --stretch seconds. Time is scaled by
        --scale S (the interval 300/S s, the window 60/S s, the fetch deadline 30/S s), so the
        ratios between interval, window and deadline are WorkOS's with the default 5m interval.

The request log is the dev server's own stderr (one line per request, read as it comes). Prints
one JSON object per N on stdout. Usage (bench/herd.sh wraps it):
  herd.py --server-bin B --client-bin B --mode init --n 50 200 1000 [--timeout-seconds 30]
  herd.py --server-bin B --client-bin B --mode exec --n 50 200 --scale 10 --stretch 120
"""

import argparse
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

FLEET, WORKOS_LIMIT, WORKOS_WINDOW = 10_000, 6000, 60.0
LOG = re.compile(r"dev-server: \S+ /vault/v1/kv/name/\S+ (\d{3}|-) ")


def fail(msg):
    print(f"bench/herd.py: {msg}", file=sys.stderr)
    sys.exit(1)


class Server:
    """The dev server with a rate limit; `times` holds (monotonic time, status) per request."""

    def __init__(self, binary, limit, window, work):
        self.times = []
        self.lock = threading.Lock()
        rate = f"{limit}/{window * 1000:.0f}ms"
        self.proc = subprocess.Popen(
            [binary, "dev-server", "--seed", "--rate-limit", rate],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work,
            env={k: v for k, v in os.environ.items() if not k.startswith(("WORKOS_", "VAULT_"))},
        )
        env = {}
        while len(env) < 2:
            line = self.proc.stdout.readline()
            if not line:
                fail(f"the dev server exited: {self.proc.stderr.read()}")
            k, _, v = line.strip().removeprefix("export ").partition("=")
            env[k] = v
        self.env = env
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            m = LOG.search(line)
            if m:
                with self.lock:
                    self.times.append((time.monotonic(), m.group(1)))

    def requests(self):
        with self.lock:
            return list(self.times)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def peak_in_window(times, window):
    """Most requests inside any `window`-long span (two pointers over sorted times)."""
    ts = sorted(t for t, _ in times)
    best, lo = 0, 0
    for hi, t in enumerate(ts):
        while t - ts[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def full_for(times, limit, window):
    """How long the key had no room at all (a sign-in would have got 429)."""
    return full_span(sorted(t for t, s in times if s != "429"), limit, window)


def full_span(adm, limit, window):
    """The union of the spans where `limit` of the sorted admitted times `adm` sit inside one
    window (the model, bench/fleet_model.py, uses it too)."""
    spans = [(adm[j], adm[j - limit + 1] + window) for j in range(limit - 1, len(adm))]
    total, end = 0.0, None
    for a, b in spans:
        if b <= a:
            continue
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def seconds_over(times, window):
    """How long the key was refused: from the first 429 to the last (0 if none)."""
    limited = [t for t, s in times if s == "429"]
    return (limited[-1] - limited[0]) if limited else 0.0


def client_env(server, extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKOS_", "VAULT_", "RELAY_"))}
    env.update(server.env)
    env.update(extra)
    return env


def run_init(args, n, work):
    limit = max(1, round(n * WORKOS_LIMIT / FLEET))
    window = WORKOS_WINDOW
    server = Server(args.server_bin, limit, window, work)
    env = client_env(server, {"VAULT_FETCH_TIMEOUT_SECONDS": str(args.timeout_seconds)})
    dirs = [os.path.join(work, f"r{i}") for i in range(n)]
    t0 = time.monotonic()
    procs = [
        subprocess.Popen([args.client_bin, "-q", "init", "--dir", d], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for d in dirs
    ]
    spawned = time.monotonic() - t0
    ends = [None] * n
    while any(e is None for e in ends):
        for i, p in enumerate(procs):
            if ends[i] is None and p.poll() is not None:
                ends[i] = time.monotonic() - t0
        time.sleep(0.01)
    found = degraded = broken = 0
    for d, p in zip(dirs, procs):
        creds = os.path.exists(os.path.join(d, "credentials.json"))
        cfg = open(os.path.join(d, "config.yml")).read() if os.path.exists(os.path.join(d, "config.yml")) else ""
        leftovers = [f for f in os.listdir(d) if f not in ("credentials.json", "config.yml")] if os.path.isdir(d) else []
        if p.returncode == 0 and creds and "mode: managed" in cfg and not leftovers:
            found += 1
        elif p.returncode == 0 and not creds and "mode: proxy" in cfg and not leftovers:
            degraded += 1
        else:
            broken += 1
    time.sleep(0.5)  # the last log lines
    reqs = server.requests()
    server.stop()
    return {
        "mode": "init", "n": n, "limit": limit, "window_s": window,
        "timeout_s": args.timeout_seconds, "spawn_s": round(spawned, 2),
        "all_done_s": round(max(ends), 2), "found": found, "degraded": degraded, "broken": broken,
        "requests": len(reqs), "limited": sum(1 for _, s in reqs if s == "429"),
        "requests_per_found": round(len(reqs) / found, 2) if found else None,
        "degraded_share": round(degraded / n, 3),
        "peak_per_window": peak_in_window(reqs, window),
        "refused_for_s": round(seconds_over(reqs, window), 1),
        "key_full_s": round(full_for(reqs, limit, window), 1),
    }


def run_exec(args, m, work):
    s = args.scale
    limit = max(1, round(m * WORKOS_LIMIT / FLEET))
    window, interval, deadline = WORKOS_WINDOW / s, 300.0 / s, 30.0 / s
    server = Server(args.server_bin, limit, window, work)
    env = client_env(server, {
        "VAULT_FETCH_TIMEOUT_SECONDS": f"{deadline:g}",
        "VAULT_FETCH_INTERVAL": f"{interval:g}s",
        "VAULT_FETCH_DEV_INTERVAL_FLOOR": f"{min(interval, 30):g}",
    })
    sel = selectors.DefaultSelector()
    state = {}  # index -> {"start": mode, "managed_at": t or None}
    t0 = time.monotonic()
    procs = []
    for i in range(m):
        p = subprocess.Popen([args.client_bin, "exec", "--", "sleep", "100000"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        procs.append(p)
        state[i] = {"start": None, "managed_at": None, "buf": ""}
        os.set_blocking(p.stderr.fileno(), False)
        sel.register(p.stderr, selectors.EVENT_READ, i)
    spawned = time.monotonic() - t0
    end = t0 + args.stretch
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            i = key.data
            try:
                chunk = os.read(key.fileobj.fileno(), 65536).decode(errors="replace")
            except BlockingIOError:
                continue
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            now = time.monotonic() - t0
            st = state[i]
            st["buf"] += chunk
            *lines, st["buf"] = st["buf"].split("\n")
            for line in lines:
                if " started " in line:
                    st["start"] = "managed" if "mode managed" in line else "proxy"
                    if st["start"] == "managed":
                        st["managed_at"] = now
                elif " restarted " in line and "mode managed" in line and st["managed_at"] is None:
                    st["managed_at"] = now
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    reqs = server.requests()
    server.stop()
    degraded = [st for st in state.values() if st["start"] == "proxy"]
    recovered = [st["managed_at"] for st in degraded if st["managed_at"] is not None]
    # Steady state: the last two intervals of the stretch, when no supervisor is starting.
    tail_from = t0 + args.stretch - 2 * interval
    tail = [(t, st) for t, st in reqs if t >= tail_from]
    return {
        "mode": "exec", "m": m, "scale": s, "limit": limit, "window_s": window,
        "interval_s": interval, "deadline_s": deadline, "stretch_s": args.stretch,
        "spawn_s": round(spawned, 2),
        "started_managed": sum(1 for st in state.values() if st["start"] == "managed"),
        "started_proxy": len(degraded),
        "not_started": sum(1 for st in state.values() if st["start"] is None),
        "recovered": len(recovered),
        "all_managed_s": round(max(recovered), 1) if len(recovered) == len(degraded) and recovered else (0.0 if not degraded else None),
        "requests": len(reqs), "limited": sum(1 for _, st in reqs if st == "429"),
        "peak_per_window": peak_in_window(reqs, window),
        "refused_for_s": round(seconds_over(reqs, window), 1),
        "key_full_s": round(full_for(reqs, limit, window), 1),
        "steady_per_window": round(len(tail) / (2 * interval) * window, 1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server-bin", required=True)
    ap.add_argument("--client-bin", required=True)
    ap.add_argument("--mode", choices=["init", "exec"], required=True)
    ap.add_argument("--n", type=int, nargs="+", required=True)
    ap.add_argument("--timeout-seconds", type=float, default=30)
    ap.add_argument("--scale", type=float, default=10)
    ap.add_argument("--stretch", type=float, default=120)
    ap.add_argument("--label", default="")
    ap.add_argument("--smoke", action="store_true", help="fail unless every run ended found or degraded")
    args = ap.parse_args()
    broken = 0
    for n in args.n:
        work = tempfile.mkdtemp(prefix="vfr-herd.")
        try:
            r = run_init(args, n, work) if args.mode == "init" else run_exec(args, n, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        r["label"] = args.label
        print(json.dumps(r), flush=True)
        broken += r.get("broken", 0) + r.get("not_started", 0)
    if broken:
        fail(f"{broken} run(s) ended neither found nor in proxy mode (or never started)")


if __name__ == "__main__":
    main()
