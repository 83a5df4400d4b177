"""`make bench`: what a visitor's browser downloads, how one production worker holds many open
widgets, and how fast messages, replies and the inbox go.

Starts the README's production command (gunicorn, one gevent worker) on a fresh SQLite database
(loopback only), then measures:

- serving: the loader's bytes on the wire, the first widget open's (settings.json, the rest of
  the loader, the iframe page and every file it names, compressed as a browser with
  ``Accept-Encoding: br, gzip`` gets them; the pane partial is not counted), and how many of those
  requests a repeat open would revalidate instead of taking from the cache (judged by each
  response's Cache-Control and validators);
- widget message POSTs per second against ``/healthz`` (a bare route: one ``SELECT 1``) on the
  same server in the same run, alternating, BENCH_RATE_ROUNDS (3) times BENCH_RATE_SECONDS (3)
  each over one kept-alive connection; the ratio is the median of the rounds' ratios;
- agent replies timed from the POST until the visitor's stream carries them, and the worker's
  CPU time per reply (less what the open streams cost while idle, watched just before),
  with 10 widget streams open and then with each of BENCH_STREAMS (1000,2000) open, and the
  server's memory per open stream;
- the inbox (``tests/perf_inbox.py``): statements and time for GET /admin/ with 10,000
  conversations and 100,000 messages.

Prints a table (target and measured) and writes it to ``bench/<commit>.json``; asserts nothing
(timings on a shared machine are information, not a test: run it on a quiet machine, twice).
"""

import gzip
import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from urllib.request import HTTPCookieProcessor, build_opener

import brotli

STREAM_STEPS = [int(n) for n in os.environ.get("BENCH_STREAMS", "1000,2000").split(",")]
FEW_STREAMS = 10
REPLIES = int(os.environ.get("BENCH_REPLIES", "60"))
RATE_SECONDS = float(os.environ.get("BENCH_RATE_SECONDS", "3"))
RATE_ROUNDS = int(os.environ.get("BENCH_RATE_ROUNDS", "3"))
IDLE_SECONDS = 5  # how long the worker's idle CPU is watched before each step's replies
BROWSER = {"Accept-Encoding": "br, gzip", "User-Agent": "frontdesk-bench"}
ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers import (  # noqa: E402  (the tests' server and helpers, shared)
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ServerProcess,
    csrf_token_from,
    demo_widget_key,
)
from perf_inbox import measure_inbox  # noqa: E402  (the tests' server, shared)


def rss_mib(pid):
    """Resident memory of a process and its children, in MiB (Linux /proc)."""
    total = 0
    pids = [pid] + [
        int(child)
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if child
    ]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def post(url, fields, headers):
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(fields).encode(), headers=headers
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def fetch(port, path, headers=None):
    """One GET as a browser sends it: status, headers and the body as it came over the wire."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={**BROWSER, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def decode(headers, body):
    encoding = headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    return body


def revalidated_on_repeat(headers):
    """Whether a browser holding this response would ask the server again (a conditional request)
    on a repeat open within five minutes, rather than use its copy."""
    cache_control = (headers.get("Cache-Control") or "").lower()
    has_validator = bool(headers.get("ETag") or headers.get("Last-Modified"))
    max_age = re.search(r"max-age=(\d+)", cache_control)
    fresh = (
        max_age is not None
        and int(max_age.group(1)) >= 300
        and "no-cache" not in cache_control
        and "no-store" not in cache_control
    )
    return has_validator and not fresh


def serving_figures(port, key):
    """The loader, and every request of a first widget open: bytes on the wire, cacheability."""
    status, headers, loader = fetch(port, "/embed.js")
    assert status == 200, status
    script = decode(headers, loader).decode()
    opened = [("/embed.js", headers, loader)]
    chunk = re.search(r'"(/static/embed-chat[^"]*\.js)"', script)
    paths = [f"/widget/{key}/settings.json"] + ([chunk.group(1)] if chunk else [])
    frame_path = f"/widget/{key}"
    status, frame_headers, frame = fetch(port, frame_path)
    assert status == 200, status
    page = decode(frame_headers, frame).decode()
    first_open = [(frame_path, frame_headers, frame)]
    paths += re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    for path in paths:
        status, headers, body = fetch(port, path)
        assert status == 200, (path, status)
        first_open.append((path, headers, body))
    everything = opened + first_open
    return {
        "loader_bytes": len(loader),
        "loader_encoding": opened[0][1].get("Content-Encoding") or "identity",
        "first_open_bytes": sum(len(body) for _path, _headers, body in first_open),
        "first_open_requests": len(first_open),
        "first_open_files": {path: len(body) for path, _headers, body in first_open},
        "repeat_open_revalidations": sum(
            revalidated_on_repeat(headers) for _path, headers, _body in everything
        ),
        "vary_cookie": sorted(
            path
            for path, headers, _body in everything
            if "cookie" in headers.get("Vary", "").lower()
        ),
    }


def request_rate(port, make_request, seconds):
    """Requests per second over one kept-alive connection, one after another, for ``seconds``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.perf_counter()
    count = 0
    while (elapsed := time.perf_counter() - started) < seconds:
        method, path, body, headers = make_request(count)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, (path, response.status)
        count += 1
    connection.close()
    return count / elapsed


def post_rates(port, key, tokens):
    """Widget message POSTs (visitors who already chat) and /healthz, per second, alternating
    for ``RATE_ROUNDS`` rounds: [(posts per second, healthz per second), ...]."""
    sent = iter(range(10**9))

    def message(_n):
        n = next(sent)
        body = urllib.parse.urlencode({"body": f"rate {n}", "client_msg_id": f"r{n}"})
        headers = {
            "X-Frontdesk-Token": tokens[n % len(tokens)],
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",
            **BROWSER,
        }
        return "POST", f"/widget/{key}/messages", body, headers

    def health(_n):
        return "GET", "/healthz", None, BROWSER

    request_rate(port, health, 0.5)  # warm up
    request_rate(port, message, 0.5)
    return [
        (request_rate(port, message, RATE_SECONDS), request_rate(port, health, RATE_SECONDS))
        for _ in range(RATE_ROUNDS)
    ]


def worker_cpu_seconds(arbiter_pid):
    """CPU time (user + system) the gunicorn worker (the arbiter's one child) has used."""
    children = Path(f"/proc/{arbiter_pid}/task/{arbiter_pid}/children").read_text().split()
    fields = Path(f"/proc/{children[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def commit_name():
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (sha or "unknown") + ("-dirty" if dirty else "")


class Stream:
    """One visitor's open SSE stream, read on a thread; notes when each text arrives."""

    def __init__(self, port, key, token):
        self.arrived = {}
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        request = (
            f"GET /widget/{key}/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-Frontdesk-Token: {token}\r\nAccept: text/event-stream\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        buffer = b""
        try:
            while chunk := self.sock.recv(65536):
                buffer += chunk
                for marker in re.findall(rb"bench-reply-(\d+)", buffer):
                    self.arrived.setdefault(int(marker), time.perf_counter())
                buffer = buffer[-200:]
        except OSError:
            pass


class Bench:
    """The server under test, its visitors (each with one message sent) and a signed-in agent."""

    def __init__(self, server, key):
        self.server, self.key = server, key
        self.base = server.base_url
        self.tokens, self.streams = [], []
        self.replies_sent = 0
        self.agent = build_opener(HTTPCookieProcessor())
        login = self.agent.open(f"{self.base}/admin/login").read().decode()
        self.csrf = csrf_token_from(login)
        self.agent.open(
            f"{self.base}/admin/login",
            data=urllib.parse.urlencode(
                {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": self.csrf}
            ).encode(),
        )

    def add_visitors(self, count):
        """Visitors who each sent a first message (in order: visitor n has conversation n + 1)."""
        started = time.perf_counter()
        for _ in range(count):
            token = secrets.token_hex(24)
            post(
                f"{self.base}/widget/{self.key}/messages",
                {"body": f"visitor {len(self.tokens)}", "client_msg_id": "first"},
                {"X-Frontdesk-Token": token},
            )
            self.tokens.append(token)
        return count / (time.perf_counter() - started)

    def open_streams(self, total):
        """Hold ``total`` widget streams open, one per visitor, adding visitors as needed."""
        if len(self.tokens) < total:
            self.add_visitors(total - len(self.tokens))
        while len(self.streams) < total:
            self.streams.append(Stream(self.server.port, self.key, self.tokens[len(self.streams)]))
        time.sleep(5)  # let the worker take them all in and send each its first round

    def replies(self, count):
        """Send ``count`` agent replies spread over the open streams, each waited for: the
        delivery times in ms, and the worker's CPU seconds per reply."""
        latencies = []
        step = max(1, len(self.streams) // count)
        # What the open streams cost with nothing happening (their heartbeats), per second, is
        # taken off: the figure is what one reply costs.
        pid = self.server.process.pid
        idle_started, idle_cpu = time.perf_counter(), worker_cpu_seconds(pid)
        time.sleep(IDLE_SECONDS)
        idle_rate = (worker_cpu_seconds(pid) - idle_cpu) / (time.perf_counter() - idle_started)
        started, cpu_before = time.perf_counter(), worker_cpu_seconds(pid)
        for n in range(count):
            visitor = (n * step) % len(self.streams)
            marker = self.replies_sent
            self.replies_sent += 1
            sent = time.perf_counter()
            self.agent.open(
                f"{self.base}/admin/conversations/{visitor + 1}/reply",
                data=urllib.parse.urlencode(
                    {"body": f"bench-reply-{marker}", "csrf_token": self.csrf}
                ).encode(),
            )
            stream = self.streams[visitor]
            deadline = sent + 5
            while marker not in stream.arrived and time.perf_counter() < deadline:
                time.sleep(0.0005)
            if marker in stream.arrived:
                latencies.append((stream.arrived[marker] - sent) * 1000)
        cpu = worker_cpu_seconds(pid) - cpu_before - idle_rate * (time.perf_counter() - started)
        return sorted(latencies), max(cpu, 0) / count

    def close(self):
        for stream in self.streams:
            stream.sock.close()


def percentile(values, share):
    return values[max(0, int(len(values) * share + 0.5) - 1)] if values else None


def main():
    workdir = tempfile.mkdtemp(prefix="frontdesk-bench-")
    most = max(STREAM_STEPS)
    server = ServerProcess(
        workdir,
        command="gunicorn",
        options=["--worker-connections", str(most + 200), "--graceful-timeout", "2",
                 "--log-level", "warning"],
    )  # fmt: skip
    server.env["FRONTDESK_STREAMS_PER_ADDRESS"] = str(most + 10)  # every bench visitor is local
    server.init_db()
    server.start()
    bench = None
    try:
        key = demo_widget_key(urllib.request.urlopen(f"{server.base_url}/demo").read().decode())
        results = {"serving": serving_figures(server.port, key)}
        bench = Bench(server, key)
        results["first_messages_per_second"] = bench.add_visitors(50)
        rounds = post_rates(server.port, key, bench.tokens)
        results["rates"] = [
            {"posts_per_second": posts, "healthz_per_second": health, "ratio": posts / health}
            for posts, health in rounds
        ]
        results["post_vs_healthz"] = statistics.median(r["ratio"] for r in results["rates"])

        idle_rss = rss_mib(server.process.pid)
        results["memory_idle_mib"] = idle_rss
        results["steps"] = []
        for streams in [FEW_STREAMS, *STREAM_STEPS]:
            bench.open_streams(streams)
            rss = rss_mib(server.process.pid)
            latencies, cpu_per_reply = bench.replies(REPLIES)
            step = {
                "streams": streams,
                "replies_sent": REPLIES,
                "replies_delivered": len(latencies),
                "reply_ms_median": statistics.median(latencies) if latencies else None,
                "reply_ms_p95": percentile(latencies, 0.95),
                "reply_ms_worst": latencies[-1] if latencies else None,
                "cpu_us_per_reply": cpu_per_reply * 1e6,
                "memory_mib": rss,
                "kib_per_stream": (rss - idle_rss) * 1024 / streams,
            }
            results["steps"].append(step)
            print(f"  {streams} streams: {step}", flush=True)
    finally:
        if bench is not None:
            bench.close()
        server.stop()
    results["inbox"] = measure_inbox()
    report(results)


def report(results):
    """The table on the terminal, and the same figures in bench/<commit>.json."""
    serving, steps, inbox = results["serving"], results["steps"], results["inbox"]
    few, *many = steps
    rows = [
        ("loader on the wire (embed.js)", "<= 2 KB",
         f"{serving['loader_bytes'] / 1024:.1f} KB ({serving['loader_encoding']})"),
        ("first widget open on the wire", "<= 20 KB",
         f"{serving['first_open_bytes'] / 1024:.1f} KB in {serving['first_open_requests']} "
         "requests"),
        ("repeat open", "0 revalidations", str(serving["repeat_open_revalidations"])),
        ("responses with Vary: Cookie", "0", str(len(serving["vary_cookie"]))),
        ("message POST vs /healthz, same server", ">= 0.5x",
         f"{results['post_vs_healthz']:.2f}x (median of "
         + ", ".join(f"{r['posts_per_second']:.0f}/{r['healthz_per_second']:.0f}"
                     for r in results["rates"]) + " per s)"),
    ]  # fmt: skip
    targets = {1000: "<= 100 ms", 2000: "<= 150 ms"}
    for step in many:
        rows.append((
            f"delivery p95 at {step['streams']:,} open streams",
            targets.get(step["streams"], "info"),
            f"{step['reply_ms_p95']:.0f} ms (median {step['reply_ms_median']:.0f}, "
            f"{step['replies_delivered']}/{step['replies_sent']} delivered)"
            if step["reply_ms_p95"] is not None else "none delivered",
        ))  # fmt: skip
    rows.append((
        "CPU per event vs open streams", "flat",
        ", ".join(f"{s['cpu_us_per_reply'] / 1000:.1f} ms at {s['streams']:,}" for s in steps)
        + " (a whole reply: POST, commit, wake-up, render, send; idle heartbeats taken off)",
    ))  # fmt: skip
    rows.append((
        "memory per open stream", "<= 32 KiB",
        ", ".join(f"{s['kib_per_stream']:.0f} KiB at {s['streams']:,}" for s in many),
    ))  # fmt: skip
    rows.append((
        "inbox, 10k conversations / 100k messages", "<= 10 queries, <= 50 ms",
        f"{inbox['statements']} queries, {inbox['ms']:.0f} ms",
    ))  # fmt: skip
    width = max(len(row[0]) for row in rows)
    target_width = max(len(row[1]) for row in rows)
    print(f"{'metric':<{width}}  {'target':<{target_width}}  measured")
    for name, target, measured in rows:
        print(f"{name:<{width}}  {target:<{target_width}}  {measured}")
    for path, size in serving["first_open_files"].items():
        print(f"    {size:>7} B  {path}")
    out = ROOT / "bench" / f"{commit_name()}.json"
    out.parent.mkdir(exist_ok=True)
    table = [{"metric": n, "target": t, "measured": m} for n, t, m in rows]
    out.write_text(json.dumps({"table": table, "figures": results}, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
