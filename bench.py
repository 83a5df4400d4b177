"""`make bench`: how the production command holds many open widgets and how fast replies arrive.

Starts gunicorn with one gevent worker on a fresh SQLite database (loopback only), opens
STREAMS widget streams (each a visitor with one message), then sends agent replies to some of
them and times each reply from the POST until the visitor's stream carries it. Prints figures;
asserts nothing (timings on a shared machine are information, not a test).
"""

import os
import re
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

STREAMS = int(os.environ.get("BENCH_STREAMS", "500"))
REPLIES = int(os.environ.get("BENCH_REPLIES", "50"))
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

        print(f"open widget streams:          {STREAMS}")
        print(f"first messages stored:        {STREAMS} in {first_messages:.1f} s "
              f"({STREAMS / first_messages:.0f}/s)")  # fmt: skip
        print(f"server memory, idle:          {idle_rss:.0f} MiB")
        print(f"server memory, streams open:  {open_rss:.0f} MiB "
              f"({(open_rss - idle_rss) * 1024 / STREAMS:.0f} KiB per stream)")  # fmt: skip
        print(f"replies delivered:            {len(latencies)} of {REPLIES}")
        if latencies:
            latencies.sort()
            print(f"reply -> widget, median:      {statistics.median(latencies):.1f} ms")
            print(
                f"reply -> widget, 95th pct:    {latencies[int(len(latencies) * 0.95) - 1]:.1f} ms"
            )
            print(f"reply -> widget, worst:       {latencies[-1]:.1f} ms")
        for stream in streams:
            stream.sock.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
