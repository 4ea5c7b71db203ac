"""Load check for `edgekv api` (not part of CI): N value writes, then N reads, from C concurrent clients.

Usage: python Tests/interop/load_check.py [--bin .build/release/edgekv] [--count 10000] [--clients 16]
       [--client raw|sdk]

Starts the binary on a free port with a token over a fresh state directory, creates a namespace, writes `count`
distinct keys (each value different, 16 to 2048 bytes, binary), then reads every key back and compares the bytes.
`raw` keeps one HTTP/1.1 keep-alive connection per client thread (writes are raw bodies, as wrangler sends them);
`sdk` goes through Cloudflare's Python SDK (multipart writes). Prints requests/s per phase and the error count, and
exits non-zero on any error or mismatch.
"""

import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "load-check-token"


def value_for(i):
    size = 16 + (i * 7919) % 2033
    seed = hashlib.sha256(str(i).encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def start(binary, state):
    out = open(os.path.join(state, "stdout.txt"), "w+")
    process = subprocess.Popen(
        [binary, "api", "--port", "0", "--token", TOKEN, "--persist-to", os.path.join(state, "state")],
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out.seek(0)
        line = out.readline()
        if line.endswith("\n"):
            return process, line.split()[-1]
        time.sleep(0.05)
    process.kill()
    raise SystemExit("edgekv api did not start")


class RawClient:
    """One keep-alive connection per thread."""

    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port, self.prefix = url.hostname, url.port, url.path
        self.local = threading.local()

    def connection(self):
        if not hasattr(self.local, "connection"):
            self.local.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return self.local.connection

    def request(self, method, path, body=None, headers=None):
        headers = {"Authorization": f"Bearer {TOKEN}", **(headers or {})}
        connection = self.connection()
        connection.request(method, self.prefix + path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()

    def create_namespace(self):
        status, body = self.request("POST", f"/accounts/{ACCOUNT}/storage/kv/namespaces", json.dumps({"title": "load"}))
        assert status == 200, body
        return json.loads(body)["result"]["id"]

    def put(self, ns, key, value):
        status, body = self.request(
            "PUT", f"/accounts/{ACCOUNT}/storage/kv/namespaces/{ns}/values/{key}", value,
            {"Content-Type": "application/octet-stream"},
        )
        return status == 200 and json.loads(body)["success"] is True

    def get(self, ns, key):
        status, body = self.request("GET", f"/accounts/{ACCOUNT}/storage/kv/namespaces/{ns}/values/{key}")
        return body if status == 200 else None


class SDKClient:
    def __init__(self, base):
        from cloudflare import Cloudflare

        self.client = Cloudflare(api_token=TOKEN, base_url=base, max_retries=0)

    def create_namespace(self):
        return self.client.kv.namespaces.create(account_id=ACCOUNT, title="load").id

    def put(self, ns, key, value):
        self.client.kv.namespaces.values.update(key, account_id=ACCOUNT, namespace_id=ns, value=value)
        return True

    def get(self, ns, key):
        return self.client.kv.namespaces.values.get(key, account_id=ACCOUNT, namespace_id=ns).read()


def phase(name, count, clients, work):
    errors = []
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        for i, ok in zip(range(count), pool.map(work, range(count))):
            if not ok:
                errors.append(i)
    elapsed = time.perf_counter() - start
    print(f"{name}: {count} requests in {elapsed:.2f} s = {count / elapsed:.0f} requests/s, {len(errors)} errors")
    return errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/release/edgekv")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--client", choices=["raw", "sdk"], default="raw")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="edgekv-load-") as state:
        process, base = start(args.bin, state)
        try:
            client = RawClient(base) if args.client == "raw" else SDKClient(base)
            ns = client.create_namespace()
            print(f"{args.client} client, {args.clients} concurrent clients, {args.count} keys, server {base}")

            def write(i):
                try:
                    return client.put(ns, f"key-{i}", value_for(i))
                except Exception as error:  # noqa: BLE001 - counted, reported below
                    print(f"write {i}: {error}", file=sys.stderr)
                    return False

            def read(i):
                try:
                    return client.get(ns, f"key-{i}") == value_for(i)
                except Exception as error:  # noqa: BLE001
                    print(f"read {i}: {error}", file=sys.stderr)
                    return False

            write_errors = phase("writes", args.count, args.clients, write)
            read_errors = phase("reads (each compared)", args.count, args.clients, read)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    failed = len(write_errors) + len(read_errors)
    print(f"load: {2 * args.count - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
