#!/usr/bin/env python3
"""Timing harness for bench/run.sh (Python 3.8+, standard library only).

Runs, interleaved round by round (a, b, d, c, a, b, d, c, ...):
  (a) the release binary in Terraform mode (query on stdin, SSL_CERT_FILE = bench CA),
  (b) bench/curl-jq.sh, the same read with curl and jq,
  (d) bare curl: one GET of the same object, body not parsed (the floor of any HTTP
      client on this machine),
  (c) the release binary in init mode (init --dir <fresh dir>),
then the not-found path for (a) and (b), interleaved too, and the 503 storm via the
bench-faults example. With --baseline-bin, a second build of the binary runs as (a0)
in the same rounds (found and not found), the order of (a) and (a0) alternating each
round. Checks every output, prints a Markdown report and, with --update-md (never
together with --baseline-bin), rewrites the results section of BENCHMARKS.md.

Each invocation goes through the bench-spawn launcher (examples/bench-spawn.rs), which
times spawn-to-reap and reads the child's peak RSS with wait4. Not from Python directly:
Linux counts the address space a process had just before exec in its ru_maxrss, so any
child spawned from this interpreter would report at least its ~14 MB. wait4 folds in
every descendant the child waited for, so (b)'s figure is the largest of sh, jq and
curl (the pipeline's processes run one after another, except the short-lived
command-substitution subshell).

The API key arrives in the environment (WORKOS_API_KEY), never on the command line;
it reaches bare curl the way it reaches curl in bench/curl-jq.sh, as a config on stdin.
"""

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

NOT_FOUND_NAME = "bench-no-such-secret"
SECRET_NAME = "runlayer-sentry-credentials"  # the binary's default, the one dev-server --seed makes
CRED_KEYS = ("public_key", "secret_key", "relay_id", "sentry_dsn")


class Check:
    def __init__(self):
        self.errors = []

    def fail(self, what):
        self.errors.append(what)


def run_measured(spawn, result_file, argv, stdin, env, cwd=None):
    """One invocation: (wall_s, maxrss_kb, exit_code, cpu_s, stdout, stderr)."""
    if spawn:
        p = subprocess.run(
            [spawn, result_file] + argv,
            input=stdin, capture_output=True, env=env, cwd=cwd, check=False,
        )
        if p.returncode != 0:
            raise RuntimeError(f"bench-spawn failed: {p.stderr.decode(errors='replace')}")
        with open(result_file) as f:
            wall_ns, rss, code, user_us, sys_us = (int(x) for x in f.read().split())
        return wall_ns / 1e9, rss, code, (user_us + sys_us) / 1e6, p.stdout, p.stderr
    # Fallback without the launcher: wall time is right, RSS includes this interpreter.
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=tempfile.TemporaryFile(), env=env, cwd=cwd)
    p.stdin.write(stdin)
    p.stdin.close()
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.seek(0)
    err = p.stderr.read()
    return wall, ru.ru_maxrss, p.returncode, ru.ru_utime + ru.ru_stime, out, err


def terraform_map(out):
    v = json.loads(out)
    if not isinstance(v, dict) or not all(isinstance(x, str) for x in v.values()):
        raise ValueError("not a JSON object of strings")
    return v


def pct(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def summary(samples):
    walls = [s["wall"] for s in samples]
    rss = [s["rss"] for s in samples]
    cpu = [s["cpu"] for s in samples]
    return {
        "n": len(samples),
        "median_ms": statistics.median(walls) * 1e3,
        "p95_ms": pct(walls, 95) * 1e3,
        "min_ms": min(walls) * 1e3,
        "cpu_ms": statistics.median(cpu) * 1e3,
        "rss_median_kb": statistics.median(rss),
        "rss_max_kb": max(rss),
    }


def pair_ratio(num, den, field="wall"):
    """Median of per-round ratios num/den (the series were recorded in the same rounds)."""
    ratios = [n[field] / d[field] for n, d in zip(num, den) if d[field] > 0]
    return statistics.median(ratios) if ratios else math.nan


def cmd_output(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "not available"


def machine():
    model, mem = "unknown", "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory": mem,
        "kernel": f"{platform.system()} {platform.release()}",
        "rustc": cmd_output(["rustc", "--version"]),
        "curl": cmd_output(["curl", "--version"]),
        "jq": cmd_output(["jq", "--version"]),
        "python": platform.python_version(),
    }


def elf_has_symtab(path):
    """True/False for a 64-bit little-endian ELF, None if it is something else."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            return None
        shoff = int.from_bytes(data[0x28:0x30], "little")
        shentsize = int.from_bytes(data[0x3A:0x3C], "little")
        shnum = int.from_bytes(data[0x3C:0x3E], "little")
        shstrndx = int.from_bytes(data[0x3E:0x40], "little")
        sh = lambda i: data[shoff + i * shentsize: shoff + (i + 1) * shentsize]
        strtab = sh(shstrndx)
        str_off = int.from_bytes(strtab[0x18:0x20], "little")
        for i in range(shnum):
            name_off = int.from_bytes(sh(i)[0:4], "little")
            end = data.index(b"\0", str_off + name_off)
            if data[str_off + name_off:end] == b".symtab":
                return True
        return False
    except (OSError, ValueError, IndexError):
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--spawn", help="bench-spawn launcher (else RSS includes Python)")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--script", help="curl+jq script; omitted: (b) is skipped")
    ap.add_argument("--skip-b-reason", default="")
    ap.add_argument("--curl", help="curl for the bare-curl case (d); omitted: (d) is skipped")
    ap.add_argument("--baseline-bin",
                    help="a second build of vault-fetch-relay, run as (a0) in the same rounds")
    ap.add_argument("--work", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--relay-id", default="", help="the id the dev server seeded")
    ap.add_argument("--faults", help="bench-faults example binary")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--storm-runs", type=int, default=3)
    ap.add_argument("--update-md", help="BENCHMARKS.md whose results section to rewrite")
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.baseline_bin and args.update_md:
        ap.error("--update-md and --baseline-bin exclude each other: a comparison run does not "
                 "rewrite BENCHMARKS.md's results")

    base = os.environ["WORKOS_API_BASE"]
    api_key = os.environ["WORKOS_API_KEY"]
    path = os.environ.get("PATH", "/usr/bin:/bin")
    # Clean environments: nothing from the machine (proxies, WORKOS_*, RUST_LOG) leaks in.
    env_tf = {"PATH": path, "WORKOS_API_BASE": base, "SSL_CERT_FILE": args.ca}
    env_init = dict(env_tf, WORKOS_API_KEY=api_key)
    env_nf = dict(env_tf, WORKOS_VAULT_SECRET_NAME=NOT_FOUND_NAME)
    query = json.dumps({"api_key": api_key}, separators=(",", ":")).encode()
    result_file = os.path.join(args.work, "spawn-result")
    check = Check()
    n = 3 if args.smoke else args.n
    warmup = 0 if args.smoke else args.warmup
    have_b = bool(args.script)
    have_d = bool(args.curl)
    have_a0 = bool(args.baseline_bin)
    # (d): the GET curl-jq.sh makes, with the same options but no --write-out and no jq; the
    # key goes in as a curl config on stdin (never argv), as in curl-jq.sh.
    url = f"{base.rstrip('/')}/vault/v1/kv/name/{urllib.parse.quote(SECRET_NAME, safe='')}"
    curl_argv = [args.curl or "curl", "--silent", "--show-error", "--fail", "--config", "-",
                 "--connect-timeout", "5", "--max-time", "30", "--retry", "3",
                 "--user-agent", "bare-curl-baseline", "--header", "Accept: application/json",
                 "--cacert", args.ca, url]
    curl_config = f'header = "Authorization: Bearer {api_key}"\n'.encode()

    reference = {}

    def check_found(tool, out, code, err):
        if code != 0:
            check.fail(f"{tool}: exit {code}: {err.decode(errors='replace').strip()[:300]}")
            return
        try:
            m = terraform_map(out)
        except ValueError as e:
            check.fail(f"{tool}: stdout is not a Terraform result ({e})")
            return
        if m.get("status") != "found":
            check.fail(f"{tool}: status {m.get('status')!r}, expected found")
            return
        creds = {k: m.get(k) for k in CRED_KEYS}
        if not reference:
            reference.update(creds)
            if args.relay_id and creds["relay_id"] != args.relay_id:
                check.fail(f"{tool}: relay_id {creds['relay_id']} is not the seeded {args.relay_id}")
        elif creds != reference:
            check.fail(f"{tool}: credentials differ from the first run's (relay_id {creds['relay_id']})")

    def check_init(out_dir, code, err):
        if code != 0:
            check.fail(f"init: exit {code}: {err.decode(errors='replace').strip()[:300]}")
            return
        cred_path = os.path.join(out_dir, "credentials.json")
        try:
            with open(cred_path) as f:
                c = json.load(f)
            mode = os.stat(cred_path).st_mode & 0o777
            has_config = os.path.getsize(os.path.join(out_dir, "config.yml")) > 0
        except (OSError, ValueError) as e:
            check.fail(f"init: unreadable output in {out_dir}: {e}")
            return
        if not has_config:
            check.fail("init: config.yml is empty")
        if mode != 0o600:
            check.fail(f"init: credentials.json has mode {mode:o}, expected 600")
        got = {"relay_id": c.get("id"), "public_key": c.get("public_key"),
               "secret_key": c.get("secret_key")}
        want = {k: reference.get(k) for k in got}
        if reference and got != want:
            check.fail(f"init: credentials.json (id {got['relay_id']}) differs from Terraform mode's")

    def check_bare(out, code, err):
        if code != 0:
            check.fail(f"bare curl: exit {code}: {err.decode(errors='replace').strip()[:300]}")
            return
        try:
            secret = json.loads(json.loads(out)["value"])
            got = secret["id"]
        except (ValueError, KeyError, TypeError) as e:
            check.fail(f"bare curl: the body is not a Vault object holding the secret ({e!r})")
            return
        want = reference.get("relay_id") or args.relay_id
        if want and got != want:
            check.fail(f"bare curl: the secret's id {got} is not the relay id {want}")

    def check_not_found(tool, out, code, err):
        try:
            m = terraform_map(out) if code == 0 else {}
        except ValueError:
            m = {}
        if code != 0 or m.get("status") != "not_found" or any(m.get(k) for k in CRED_KEYS):
            check.fail(f"{tool} not-found: exit {code}, status {m.get('status')!r}")

    def sample(wall, rss, code, cpu):
        return {"wall": wall, "rss": rss, "code": code, "cpu": cpu}

    series = {"a": [], "a0": [], "b": [], "d": [], "c": [], "a_nf": [], "a0_nf": [], "b_nf": []}
    init_root = os.path.join(args.work, "init")
    os.makedirs(init_root, exist_ok=True)
    started = time.perf_counter()

    def step(key, record, argv, stdin, env, check):
        """Run one invocation, check its output, and keep its sample when recording."""
        wall, rss, code, cpu, out, err = run_measured(args.spawn, result_file, argv, stdin, env)
        check(out, code, err)
        if record:
            series[key].append(sample(wall, rss, code, cpu))

    def found(tool):
        return lambda out, code, err: check_found(tool, out, code, err)

    def not_found(tool):
        return lambda out, code, err: check_not_found(tool, out, code, err)

    def binaries(i, nf=""):
        """(a), and (a0) when given, in an order that alternates round by round."""
        pair = [("a" + nf, args.bin, "terraform")]
        if have_a0:
            pair.append(("a0" + nf, args.baseline_bin, "baseline terraform"))
        return pair if i % 2 == 0 else pair[::-1]

    for i in range(-warmup, n):
        record = i >= 0
        for key, binary, tool in binaries(i):
            step(key, record, [binary], query, env_tf, found(tool))
        if have_b:
            step("b", record, [args.script], query, env_tf, found("curl-jq"))
        if have_d:
            step("d", record, curl_argv, curl_config, env_tf, check_bare)
        out_dir = os.path.join(init_root, f"run{i + warmup}")  # fresh, like an emptyDir
        step("c", record, [args.bin, "init", "--dir", out_dir], b"", env_init,
             lambda out, code, err, d=out_dir: check_init(d, code, err))

    nf_n = 3 if args.smoke else max(1, n // 4)
    for i in range(-warmup, nf_n):
        record = i >= 0
        for key, binary, tool in binaries(i, "_nf"):
            step(key, record, [binary], query, env_nf, not_found(tool))
        if have_b:
            step("b_nf", record, [args.script], query, env_nf, not_found("curl-jq"))
    shutil.rmtree(init_root, ignore_errors=True)

    storm = []
    if args.faults:
        runs = 1 if args.smoke else args.storm_runs
        p = subprocess.run([args.faults, args.bin, args.ca, args.cert, args.key, str(runs)],
                           capture_output=True, text=True, check=False)
        for line in p.stdout.splitlines():
            try:
                storm.append(json.loads(line))
            except ValueError:
                pass
        if p.returncode != 0 or len(storm) != runs:
            check.fail(f"503 storm: exit {p.returncode}: {p.stderr.strip()[:500]}")
    elapsed = time.perf_counter() - started

    report = {
        "smoke": args.smoke,
        "elapsed_s": elapsed,
        "machine": machine(),
        "binary_bytes": os.path.getsize(args.bin),
        "binary_has_symtab": elf_has_symtab(args.bin),
        "rss_method": "bench-spawn wait4" if args.spawn else "python wait4 (includes the interpreter)",
        "skip_b_reason": "" if have_b else (args.skip_b_reason or "no script given"),
        "summary": {k: summary(v) for k, v in series.items() if v},
        "ratio_b_over_a": pair_ratio(series["b"], series["a"]) if series["b"] else None,
        "ratio_b_over_a_not_found": pair_ratio(series["b_nf"], series["a_nf"]) if series["b_nf"] else None,
        "ratio_c_over_a": pair_ratio(series["c"], series["a"]),
        "ratio_d_over_a": pair_ratio(series["d"], series["a"]) if series["d"] else None,
        "baseline": baseline_report(args.baseline_bin, series) if have_a0 else None,
        "storm": storm,
        "errors": check.errors,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)

    if check.errors:
        print(f"FAILED: {len(check.errors)} check(s) failed; the first ones:", file=sys.stderr)
        for e in check.errors[:10]:
            print(f"  - {e}", file=sys.stderr)
        return 1

    if args.smoke:
        parts = (["(a) terraform"] + (["(a0) baseline terraform"] if have_a0 else [])
                 + ["(c) init"] + (["(b) curl+jq"] if have_b else [])
                 + (["(d) bare curl"] if have_d else []))
        print(f"smoke OK in {elapsed:.1f} s: {', '.join(parts)} x{n} exit 0 with relay_id "
              f"{reference.get('relay_id')}; not-found x{nf_n} each"
              + (f"; 503 storm: {storm[0]['attempts']} attempts, backoff {storm[0]['backoff_ms']} ms"
                 if storm else ""))
        if not have_b:
            print(f"(b) skipped: {report['skip_b_reason']}")
        return 0

    md = render(report)
    print(md)
    if args.update_md:
        update_md(args.update_md, md)
        print(f"results written to {args.update_md}", file=sys.stderr)
    return 0


def baseline_report(path, series):
    """(a) against (a0), and each binary's standing against (b) and (d), from the same rounds."""
    out = {
        "bin": path,
        "binary_bytes": os.path.getsize(path),
        "binary_has_symtab": elf_has_symtab(path),
        "ratio_a_over_a0": pair_ratio(series["a"], series["a0"]),
        "ratio_a_over_a0_cpu": pair_ratio(series["a"], series["a0"], "cpu"),
        "ratio_a_over_a0_not_found": pair_ratio(series["a_nf"], series["a0_nf"]),
        "ratio_a_over_a0_not_found_cpu": pair_ratio(series["a_nf"], series["a0_nf"], "cpu"),
    }
    for x in ("a", "a0"):
        for y in ("b", "d"):
            for field in ("wall", "cpu"):
                suffix = "" if field == "wall" else "_cpu"
                out[f"ratio_{y}_over_{x}{suffix}"] = (
                    pair_ratio(series[y], series[x], field) if series[y] else None)
    return out


def render(r):
    s = r["summary"]
    m = r["machine"]
    mb = lambda kb: f"{kb / 1024:.1f}"
    rows = [
        ("(a) vault-fetch-relay, Terraform mode", "a"),
        ("(a0) baseline build, Terraform mode", "a0"),
        ("(b) curl-jq.sh (sh + jq + curl + jq)", "b"),
        ("(d) bare curl, one GET, body not parsed", "d"),
        ("(c) vault-fetch-relay init --dir", "c"),
        ("(a) not found", "a_nf"),
        ("(a0) not found", "a0_nf"),
        ("(b) not found", "b_nf"),
    ]
    out = []
    out.append(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; the run took "
               f"{r['elapsed_s']:.0f} s after the build.\n")
    out.append("**Machine**: "
               f"{m['nproc']} CPUs ({m['cpu']}), {m['memory']} RAM, {m['kernel']}; "
               f"{m['rustc']}; {m['curl'].split(' (')[0]}; {m['jq']}; Python {m['python']}.\n")
    out.append("| case | runs | median ms | p95 ms | min ms | CPU ms (user+sys, median) | peak RSS MB (median / max) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for label, key in rows:
        if key not in s:
            continue
        x = s[key]
        out.append(f"| {label} | {x['n']} | {x['median_ms']:.2f} | {x['p95_ms']:.2f} | {x['min_ms']:.2f} "
                   f"| {x['cpu_ms']:.1f} | {mb(x['rss_median_kb'])} / {mb(x['rss_max_kb'])} |")
    out.append("")
    if r["ratio_b_over_a"] is not None:
        out.append(f"- (b)/(a), median of per-round ratios: **{r['ratio_b_over_a']:.2f}x** "
                   f"(not found: {r['ratio_b_over_a_not_found']:.2f}x); (c)/(a): {r['ratio_c_over_a']:.2f}x.")
    else:
        out.append(f"- (b) skipped: {r['skip_b_reason']}.")
    if r["ratio_d_over_a"] is not None:
        out.append(f"- (d)/(a), bare curl against the binary, median of per-round ratios: "
                   f"**{r['ratio_d_over_a']:.2f}x**.")
    if r["baseline"]:
        out.extend(render_baseline(r["baseline"]))
    symtab = {True: "has a symbol table", False: "stripped (no .symtab)", None: "strip state unknown"}
    out.append(f"- Release binary: {r['binary_bytes']:,} bytes ({r['binary_bytes'] / 2**20:.2f} MiB), "
               f"{symtab[r['binary_has_symtab']]}.")
    out.append(f"- Peak RSS measured with: {r['rss_method']}.")
    if r["storm"]:
        walls = [x["wall_s"] for x in r["storm"]]
        out.append(f"- 503 storm (4 queued 503s, default retry policy), {len(walls)} runs: wall "
                   + ", ".join(f"{w:.2f} s" for w in walls)
                   + "; attempts " + ", ".join(str(x["attempts"]) for x in r["storm"])
                   + "; logged backoff sums " + ", ".join(f"{x['backoff_ms']} ms" for x in r["storm"])
                   + " (policy: 4 attempts, 1750-3500 ms); all passed: "
                   + ("yes" if all(x["pass"] for x in r["storm"]) else "NO") + ".")
    a = s["a"]
    targets = [
        ("median fetch <= 5 ms", a["median_ms"] <= 5, f"{a['median_ms']:.2f} ms"),
        ("(b)/(a) >= 10x", r["ratio_b_over_a"] is not None and r["ratio_b_over_a"] >= 10,
         f"{r['ratio_b_over_a']:.2f}x" if r["ratio_b_over_a"] is not None else "not measured"),
        ("peak RSS <= 10 MB", max(s[k]["rss_max_kb"] for k in ("a", "c")) <= 10 * 1024,
         f"{mb(max(s[k]['rss_max_kb'] for k in ('a', 'c')))} MB max over (a) and (c)"),
        ("binary <= 5 MB stripped", r["binary_bytes"] <= 5 * 2**20 and r["binary_has_symtab"] is False,
         f"{r['binary_bytes'] / 2**20:.2f} MiB"),
    ]
    out.append("")
    out.append("| target | measured | met |")
    out.append("|---|---|---|")
    for name, ok, val in targets:
        out.append(f"| {name} | {val} | {'yes' if ok else '**no**'} |")
    return "\n".join(out) + "\n"


def render_baseline(b):
    ratio = lambda key: "-" if b.get(key) is None else f"{b[key]:.2f}x"
    out = [
        f"- (a0) is `{b['bin']}`: {b['binary_bytes']:,} bytes; (a) and (a0) ran in the same rounds, "
        "their order alternating round by round.",
        f"- (a)/(a0), median of per-round ratios: wall **{ratio('ratio_a_over_a0')}**, "
        f"CPU {ratio('ratio_a_over_a0_cpu')}; not found: wall {ratio('ratio_a_over_a0_not_found')}, "
        f"CPU {ratio('ratio_a_over_a0_not_found_cpu')} (below 1: (a) is faster).",
        "",
        "| binary x | (b)/x wall | (d)/x wall | (b)/x CPU | (d)/x CPU |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, x in (("(a) this build", "a"), ("(a0) baseline", "a0")):
        out.append(f"| {label} | {ratio(f'ratio_b_over_{x}')} | {ratio(f'ratio_d_over_{x}')} "
                   f"| {ratio(f'ratio_b_over_{x}_cpu')} | {ratio(f'ratio_d_over_{x}_cpu')} |")
    out.append("")
    return out


BEGIN = "<!-- results:begin (bench/run.sh rewrites this section) -->"
END = "<!-- results:end -->"


def update_md(path, md):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = f"{head}{BEGIN}\n{md}{END}{tail}"
    else:
        text += f"\n{BEGIN}\n{md}{END}\n"
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())
