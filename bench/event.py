"""The deployment-event benchmark's measurer (run by bench/event.sh): a capturing Sentry ingest on
loopback (plain HTTP, answering 200 {"id": ...} as relay does, splitting each envelope as relay does),
then N interleaved rounds of (a) `vault-fetch-relay deployment-event` and (b) bench/event-curl-jq.sh, both
finding the DSN in the dev server's secret (over HTTPS) and sending one event. Every run must print the
event id the ingest received. Prints a Markdown table; --update-md rewrites BENCHMARKS.md's section 6 results.
"""

import argparse
import http.server
import json
import os
import re
import statistics
import subprocess
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("--bin", required=True)
p.add_argument("--script", required=True)
p.add_argument("--n", type=int, default=50)
p.add_argument("--smoke", action="store_true")
p.add_argument("--update-md")
p.add_argument("--dsn-out", help="write the ingest's DSN here, then wait for the file GO beside it")
args = p.parse_args()

received = []
lock = threading.Lock()


class Ingest(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        first, rest = body.split(b"\n", 1)
        header = json.loads(first)
        item_line, rest = rest.split(b"\n", 1)
        item = json.loads(item_line)
        n = item["length"]
        assert rest[n:] == b"\n", "payload then one newline"
        event = json.loads(rest[:n])
        assert event["event_id"] == header["event_id"]
        with lock:
            received.append(header["event_id"])
        out = json.dumps({"id": header["event_id"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ingest)
threading.Thread(target=server.serve_forever, daemon=True).start()
dsn = f"http://0123456789abcdef0123456789abcdef@127.0.0.1:{server.server_address[1]}/42"
if args.dsn_out:
    with open(args.dsn_out, "w") as f:
        f.write(dsn)
    go = os.path.join(os.path.dirname(args.dsn_out), "GO")
    while not os.path.exists(go):
        time.sleep(0.05)

inputs = ["eks", "acme", "2.1.0", "success"]
a = [args.bin, "deployment-event", "--deployment-type", inputs[0], "--customer-id", inputs[1],
     "--infra-version", inputs[2], "--status", inputs[3]]
b = ["bash", args.script] + inputs
env = dict(os.environ)
env.pop("SENTRY_DSN", None)


def once(cmd):
    t = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    ms = (time.perf_counter() - t) * 1000
    out = r.stdout.strip()
    if r.returncode != 0 or not re.fullmatch(r"[0-9a-f]{32}", out) or r.stderr.strip().count("warning"):
        raise SystemExit(f"{cmd[0]} failed: exit {r.returncode}: {r.stdout!r} {r.stderr!r}")
    with lock:
        if out not in received:
            raise SystemExit(f"{cmd[0]}: event {out} not received")
    return ms


n = 3 if args.smoke else args.n
once(a), once(b)  # warm-up (page cache, TLS session setup paths)
ta, tb, ratios = [], [], []
for i in range(n):
    pair = [(a, ta), (b, tb)] if i % 2 == 0 else [(b, tb), (a, ta)]
    for cmd, times in pair:
        times.append(once(cmd))
    ratios.append(tb[-1] / ta[-1])

if args.smoke:
    print(f"event bench smoke: {n} rounds, every event received ({len(received)} in all)")
    raise SystemExit(0)


def q(xs, f):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(f * len(xs)))]


load = open("/proc/loadavg").read().split()[:3]
table = (
    f"| path | median | p10 | p90 | processes per run |\n| --- | --- | --- | --- | --- |\n"
    f"| (a) `vault-fetch-relay deployment-event` (DSN from the secret by name, one POST) | "
    f"{statistics.median(ta):.1f} ms | {q(ta, .1):.1f} ms | {q(ta, .9):.1f} ms | 1 |\n"
    f"| (b) `bench/event-curl-jq.sh` (DSN by list + get, jq, uuidgen, openssl, one POST) | "
    f"{statistics.median(tb):.1f} ms | {q(tb, .1):.1f} ms | {q(tb, .9):.1f} ms | 15 (bash, 3 curl, 3 jq, 2 uuidgen, 2 tr, openssl, whoami, hostname, date) |\n\n"
    f"Per-run ratio (b)/(a), median of {n} interleaved pairs: **{statistics.median(ratios):.1f}x** "
    f"(p10 {q(ratios, .1):.1f}x, p90 {q(ratios, .9):.1f}x). {2 * n + 2} events sent, every one received and "
    f"split as relay splits envelopes. Load average at the end: {' '.join(load)}.\n"
)
print(table)
if args.update_md:
    md = open(args.update_md).read()
    start, end = "<!-- event-bench:start -->\n", "<!-- event-bench:end -->"
    i, j = md.index(start) + len(start), md.index(end)
    md = md[:i] + table + md[j:]
    open(args.update_md, "w").write(md)
