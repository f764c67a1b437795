#!/usr/bin/env python3
"""The fleet model of BENCHMARKS.md section 5: an event simulation of P pods on one rate-limited key,
with the product's policies written out (before and after issue 20), checked against bench/herd.py's
measured points and then run where no machine can: 10,000 pods on WorkOS's 6,000 per 60 s.

The key: a sliding-window log (as the dev server's --rate-limit), Retry-After = the time until the
oldest admitted request leaves the window, in whole seconds, at least 1 (in window units when time is
scaled). A fetch: up to 4 attempts; a 429's wait is Retry-After (before) or Retry-After plus up to as
much again within the deadline (after); a wait that does not fit the deadline ends the fetch. exec:
the first fetch at start, then re-reads every U(I, 1.2 I) (doubled, up to 4x, after a failed one);
the first re-read at U(I, 1.2 I) before, U(I, 2 I) after (the splay). Request latency is ignored.

  fleet_model.py                       # the model's table for BENCHMARKS.md section 5
  fleet_model.py --check RESULTS.jsonl # each measured point (bench/herd.py's output) next to the model
"""

import argparse
import collections
import json
import heapq
import math
import random
import statistics

from herd import full_span


class Key:
    def __init__(self, limit, window, tick):
        self.limit, self.window, self.tick = limit, window, tick
        self.log = collections.deque()
        self.times = []  # every request, for the peak
        self.refused = []

    def request(self, t):
        self.times.append(t)
        while self.log and t - self.log[0] >= self.window:
            self.log.popleft()
        if len(self.log) < self.limit:
            self.log.append(t)
            return None
        self.refused.append(t)
        wait = self.log[0] + self.window - t
        return max(1, math.ceil(wait / self.tick - 1e-9)) * self.tick


def full_for(key):
    """How long the key had no room at all (a sign-in would have got 429)."""
    refused = collections.Counter(key.refused)
    adm = []
    for t in key.times:
        if refused[t]:
            refused[t] -= 1
        else:
            adm.append(t)
    return full_span(sorted(adm), key.limit, key.window)


def server_wait(asked, room, after, rng):
    if not after:
        return asked
    spare = max(0.0, room - asked) / 2
    return asked + rng.uniform(0, min(asked, spare))


def fetch(key, t, deadline, after, rng):
    """One fetch from t: (end time, ok, requests)."""
    end = t + deadline
    for attempt in range(4):
        asked = key.request(t)
        if asked is None:
            return t, True
        room = end - t
        wait = max(asked, 0.25)
        if attempt == 3 or wait >= room:
            return t, False
        t += server_wait(wait, room, after, rng)
    return t, False


def peak(times, window):
    times = sorted(times)
    best = lo = 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def herd(p, limit, window, deadline, spread, after, seed, tick=1.0):
    """init: p runs starting evenly over `spread` seconds."""
    rng = random.Random(seed)
    key = Key(limit, window, tick)
    # Process attempts in time order: a heap of (time, pod, attempt, started).
    events = [(spread * i / max(1, p - 1) if p > 1 else 0.0, i, 0, None) for i in range(p)]
    heapq.heapify(events)
    found = degraded = 0
    last = 0.0
    while events:
        t, i, attempt, started = heapq.heappop(events)
        started = t if started is None else started
        asked = key.request(t)
        if asked is None:
            found += 1
            last = max(last, t)
            continue
        room = started + deadline - t
        wait = max(asked, 0.25)
        if attempt == 3 or wait >= room:
            degraded += 1
            last = max(last, t)
            continue
        heapq.heappush(events, (t + server_wait(wait, room, after, rng), i, attempt + 1, started))
    return {
        "found": found, "degraded": degraded, "requests": len(key.times),
        "per_found": len(key.times) / found if found else None,
        "peak": peak(key.times, window), "done": last,
        "refusing": (key.refused[-1] - key.refused[0]) if key.refused else 0.0,
        "full": full_for(key),
    }


def fleet(m, limit, window, deadline, interval, spread, stretch, after, seed, tick=1.0):
    """exec: m supervisors starting evenly over `spread`, for `stretch` seconds."""
    rng = random.Random(seed)
    key = Key(limit, window, tick)
    events = []  # (time, pod, kind) kind: "start" or "poll"
    for i in range(m):
        heapq.heappush(events, (spread * i / max(1, m - 1) if m > 1 else 0.0, i, "start"))
    managed = [False] * m
    proxy_start = [False] * m
    failures = [0] * m
    recovered_at = {}
    while events:
        t, i, kind = heapq.heappop(events)
        if t > stretch:
            break
        # A fetch's retries are short next to the interval: resolve it at once, in order.
        end, ok = fetch(key, t, deadline, after, rng)
        if kind == "start":
            managed[i] = ok
            proxy_start[i] = not ok
            hi = 2.0 if after else 1.2
            nxt = end + interval * rng.uniform(1.0, hi)
        else:
            if ok:
                failures[i] = 0
                if not managed[i]:
                    managed[i] = True
                    recovered_at[i] = end
            else:
                failures[i] += 1
            nxt = end + interval * (1 << min(failures[i], 2)) * rng.uniform(1.0, 1.2)
        heapq.heappush(events, (nxt, i, "poll"))
    degraded = sum(proxy_start)
    tail = [t for t in key.times if t >= stretch - 2 * interval]
    return {
        "started_proxy": degraded, "recovered": len(recovered_at),
        "all_managed": max(recovered_at.values()) if len(recovered_at) == degraded and degraded else (0.0 if not degraded else None),
        "requests": len(key.times), "peak": peak(key.times, window),
        "refusing": (key.refused[-1] - key.refused[0]) if key.refused else 0.0,
        "full": full_for(key),
        "steady_per_window": len(tail) / (2 * interval) * window,
    }


def mean(runs, field):
    vals = [r[field] for r in runs if r[field] is not None]
    if len(vals) < len(runs):
        return None
    return statistics.mean(vals)


def show(name, runs, fields):
    cells = []
    for f in fields:
        v = mean(runs, f)
        cells.append("-" if v is None else (f"{v:.2f}" if isinstance(v, float) and v < 10 else f"{v:.0f}"))
    print(f"| {name} | " + " | ".join(cells) + " |")


def check(paths):
    """Each measured point next to the model run with the same inputs (its spawn time as the spread)."""
    seeds = range(5)
    print("| point | measured | model |")
    print("|---|---|---|")
    for path in paths:
        for line in open(path):
            r = json.loads(line)
            after = r["label"].startswith("after")
            spread = r.get("spawn_s", 2.5)
            if r["mode"] == "init":
                runs = [herd(r["n"], r["limit"], r["window_s"], r["timeout_s"], spread, after, s) for s in seeds]
                name = f"init N={r['n']} D={r['timeout_s']:g} {r['label']}"
                got = f"{r['found']} found, {r['degraded']} degraded, {r['requests']} req, peak {r['peak_per_window']}"
                want = (f"{mean(runs, 'found'):.0f} found, {mean(runs, 'degraded'):.0f} degraded, "
                        f"{mean(runs, 'requests'):.0f} req, peak {mean(runs, 'peak'):.0f}")
            else:
                runs = [fleet(r["m"], r["limit"], r["window_s"], r["deadline_s"], r["interval_s"], spread,
                              r["stretch_s"], after, s) for s in seeds]
                name = f"exec M={r['m']} {r['label']}"
                am = r["all_managed_s"]
                got = (f"{r['started_proxy']} proxy, all managed {am if am is not None else '-'} s, "
                       f"{r['requests']} req, peak {r['peak_per_window']}, refusing {r['refused_for_s']} s")
                mam = mean(runs, "all_managed")
                want = (f"{mean(runs, 'started_proxy'):.0f} proxy, all managed "
                        f"{'-' if mam is None else f'{mam:.0f}'} s, {mean(runs, 'requests'):.0f} req, "
                        f"peak {mean(runs, 'peak'):.0f}, refusing {mean(runs, 'refusing'):.0f} s")
            print(f"| {name} (spawn {spread:g} s) | {got} | {want} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", nargs="+")
    args = ap.parse_args()
    if args.check:
        check(args.check)
        return
    seeds = range(5)
    print("init herds (limit 0.6 N per 60 s); spread = the measured spawn time on this VM")
    print("| case | found | degraded | requests | per found | peak/window | done s | refusing s | key full s |")
    print("|---|---|---|---|---|---|---|---|---|")
    fields = ["found", "degraded", "requests", "per_found", "peak", "done", "refusing", "full"]
    for n, spread_before, spread_after in [(50, 2.8, 2.2), (200, 10.9, 10.0), (1000, 59.7, 38.4)]:
        for d in (30, 90):
            for after, spread in ((False, spread_before), (True, spread_after)):
                runs = [herd(n, round(0.6 * n), 60, d, spread, after, s) for s in seeds]
                show(f"N={n} D={d} {'after' if after else 'before'}", runs, fields)
    for d in (30, 90):
        for spread in (1, 10, 60):
            for after in (False, True):
                runs = [herd(10_000, 6000, 60, d, spread, after, s) for s in seeds]
                show(f"P=10000 D={d} spread={spread}s {'after' if after else 'before'}", runs, fields)
    print()
    print("10,000 pods on 6,000 per 60 s, real time (deadline 30 s, for 10 intervals)")
    print("| case | started proxy | recovered | all managed s | requests | peak/window | refusing s | key full s | steady/window |")
    print("|---|---|---|---|---|---|---|---|---|")
    fields = ["started_proxy", "recovered", "all_managed", "requests", "peak", "refusing", "full", "steady_per_window"]
    for interval in (300, 1200):
        for spread in (1, 60):
            for after in (False, True):
                runs = [fleet(10_000, 6000, 60, 30, interval, spread, 10 * interval, after, s) for s in seeds[:3]]
                show(f"I={interval}s spread={spread}s {'after' if after else 'before'}", runs, fields)


if __name__ == "__main__":
    main()
