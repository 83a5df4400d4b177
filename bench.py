"""`make bench`: what a visitor's browser downloads, how the production command holds many open
widgets, and how fast messages and replies go.

Starts gunicorn with one gevent worker on a fresh SQLite database (loopback only), then measures:

- serving: the loader's bytes on the wire, the first widget open's (settings.json, the rest of
  the loader, the iframe page and every file it names, compressed as a browser with
  ``Accept-Encoding: br, gzip`` gets them; the pane partial is not counted), and how many of those
  requests a repeat open would revalidate instead of taking from the cache (judged by each
  response's Cache-Control and validators);
- STREAMS widget streams held open (each a visitor with one message), the server's memory, and
  agent replies timed from the POST until the visitor's stream carries them;
- widget message POSTs per second against ``/healthz`` (the cheapest route: one ``SELECT 1``) on
  the same server in the same run, each for BENCH_RATE_SECONDS (5) over one kept-alive
  connection.

Prints a table (target and measured) and writes it to ``bench/<commit>.json``; asserts nothing
(timings on a shared machine are information, not a test). The default run holds 200 streams in
well under two minutes; ``BENCH_STREAMS=1000 make bench`` or ``BENCH_STREAMS=2000 make bench``
for the big figures (they take a few minutes).
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

import brotli

STREAMS = int(os.environ.get("BENCH_STREAMS", "200"))
REPLIES = int(os.environ.get("BENCH_REPLIES", "50"))
RATE_SECONDS = float(os.environ.get("BENCH_RATE_SECONDS", "5"))
BROWSER = {"Accept-Encoding": "br, gzip", "User-Agent": "frontdesk-bench"}
ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests"))

from helpers import ADMIN_PASSWORD, ServerProcess  # noqa: E402  (the tests' server, shared)


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
    """Widget message POSTs (visitors who already chat) and /healthz, per second."""

    def message(n):
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
    return request_rate(port, message, RATE_SECONDS), request_rate(port, health, RATE_SECONDS)


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


def main():
    workdir = tempfile.mkdtemp(prefix="frontdesk-bench-")
    server = ServerProcess(
        workdir,
        command="gunicorn",
        options=["--worker-connections", str(STREAMS + 100), "--graceful-timeout", "2",
                 "--log-level", "warning"],
    )  # fmt: skip
    server.init_db()
    server.start()
    port, base = server.port, server.base_url
    try:
        key = re.search(
            r'widget: "([^"]+)"', urllib.request.urlopen(f"{base}/demo").read().decode()
        )
        key = key.group(1)
        idle_rss = rss_mib(server.process.pid)
        serving = serving_figures(port, key)

        tokens = [secrets.token_hex(24) for _ in range(STREAMS)]
        started = time.perf_counter()
        for n, token in enumerate(tokens):
            post(
                f"{base}/widget/{key}/messages",
                {"body": f"visitor {n}", "client_msg_id": f"b{n}"},
                {"X-Frontdesk-Token": token},
            )
        first_messages = time.perf_counter() - started
        streams = [Stream(port, key, token) for token in tokens]
        time.sleep(2)
        open_rss = rss_mib(server.process.pid)

        from urllib.request import HTTPCookieProcessor, build_opener

        agent = build_opener(HTTPCookieProcessor())
        login = agent.open(f"{base}/admin/login").read().decode()
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        agent.open(
            f"{base}/admin/login",
            data=urllib.parse.urlencode(
                {"email": "admin@example.com", "password": ADMIN_PASSWORD, "csrf_token": csrf}
            ).encode(),
        )
        latencies = []
        step = max(1, STREAMS // REPLIES)
        for n in range(REPLIES):
            conversation_id = n * step + 1  # conversations were created in visitor order
            sent = time.perf_counter()
            agent.open(
                f"{base}/admin/conversations/{conversation_id}/reply",
                data=urllib.parse.urlencode(
                    {"body": f"bench-reply-{n}", "csrf_token": csrf}
                ).encode(),
            )
            stream = streams[n * step]
            deadline = sent + 5
            while n not in stream.arrived and time.perf_counter() < deadline:
                time.sleep(0.001)
            if n in stream.arrived:
                latencies.append((stream.arrived[n] - sent) * 1000)

        message_rate, health_rate = post_rates(port, key, tokens[: max(1, min(50, STREAMS))])
        results = {
            **serving,
            "streams": STREAMS,
            "first_messages_per_second": STREAMS / first_messages,
            "memory_idle_mib": idle_rss,
            "memory_streams_open_mib": open_rss,
            "kib_per_stream": (open_rss - idle_rss) * 1024 / STREAMS,
            "replies_delivered": len(latencies),
            "replies_sent": REPLIES,
            "message_posts_per_second": message_rate,
            "healthz_per_second": health_rate,
        }
        if latencies:
            latencies.sort()
            results["reply_ms_median"] = statistics.median(latencies)
            results["reply_ms_p95"] = latencies[max(0, int(len(latencies) * 0.95) - 1)]
            results["reply_ms_worst"] = latencies[-1]
        report(results)
        for stream in streams:
            stream.sock.close()
    finally:
        server.stop()


def report(results):
    """The table on the terminal, and the same figures in bench/<commit>.json."""
    ms = lambda name: f"{results[name]:.1f} ms" if name in results else "-"  # noqa: E731
    rows = [
        ("loader on the wire (embed.js)", "<= 2048 B",
         f"{results['loader_bytes']} B ({results['loader_encoding']})"),
        ("first widget open on the wire", "<= 31 KB (half of 62)",
         f"{results['first_open_bytes'] / 1024:.1f} KB, "
         f"{results['first_open_requests']} requests"),
        ("revalidations on a repeat open", "0", str(results["repeat_open_revalidations"])),
        ("responses with Vary: Cookie", "0", str(len(results["vary_cookie"]))),
        ("message POSTs per second", "info", f"{results['message_posts_per_second']:.0f}/s"),
        ("/healthz per second (bare route)", "info", f"{results['healthz_per_second']:.0f}/s"),
        ("message POST vs bare route", "info",
         f"{results['message_posts_per_second'] / results['healthz_per_second']:.0%}"),
        ("open widget streams", "info", str(results["streams"])),
        ("first messages stored", "info", f"{results['first_messages_per_second']:.0f}/s"),
        ("server memory, idle", "info", f"{results['memory_idle_mib']:.0f} MiB"),
        ("server memory, streams open", "info",
         f"{results['memory_streams_open_mib']:.0f} MiB "
         f"({results['kib_per_stream']:.0f} KiB per stream)"),
        ("replies delivered", f"{results['replies_sent']}",
         f"{results['replies_delivered']} of {results['replies_sent']}"),
        ("reply -> widget, median", "info", ms("reply_ms_median")),
        ("reply -> widget, 95th pct", "info", ms("reply_ms_p95")),
        ("reply -> widget, worst", "info", ms("reply_ms_worst")),
    ]  # fmt: skip
    width = max(len(row[0]) for row in rows)
    target_width = max(len(row[1]) for row in rows)
    print(f"{'figure':<{width}}  {'target':<{target_width}}  measured")
    for name, target, measured in rows:
        print(f"{name:<{width}}  {target:<{target_width}}  {measured}")
    for path, size in results["first_open_files"].items():
        print(f"    {size:>7} B  {path}")
    out = ROOT / "bench" / f"{commit_name()}.json"
    out.parent.mkdir(exist_ok=True)
    table = [{"figure": n, "target": t, "measured": m} for n, t, m in rows]
    out.write_text(json.dumps({"table": table, "figures": results}, indent=2) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
