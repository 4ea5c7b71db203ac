"""Cloudflare's official Python SDK (PyPI `cloudflare`) against `edgekv api`.

The session fixture starts the built `edgekv api` on a free port with a token (EDGEKV_BIN names the binary; default
.build/debug/edgekv), points the SDK at it through CLOUDFLARE_BASE_URL, and stops it at the end, checking that the
token never appeared in its output. Every KV method of the SDK is exercised, including auto-pagination.
"""

import base64
import os
import pathlib
import signal
import subprocess
import tempfile
import time
import uuid

import cloudflare
import httpx
import pytest
from cloudflare import Cloudflare

ROOT = pathlib.Path(__file__).resolve().parents[2]
ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "interop-token-" + uuid.uuid4().hex


class Server:
    def __init__(self):
        binary = os.environ.get("EDGEKV_BIN") or str(ROOT / ".build" / "debug" / "edgekv")
        self.state = tempfile.TemporaryDirectory(prefix="edgekv-interop-")
        self.stdout = open(os.path.join(self.state.name, "stdout.txt"), "w+")
        self.stderr = open(os.path.join(self.state.name, "stderr.txt"), "w+")
        self.process = subprocess.Popen(
            [binary, "api", "--port", "0", "--token", TOKEN, "--persist-to", os.path.join(self.state.name, "state")],
            stdin=subprocess.DEVNULL,
            stdout=self.stdout,
            stderr=self.stderr,
        )
        self.base_url = self._wait_for_url()

    def _wait_for_url(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.stdout.seek(0)
            first = self.stdout.readline()
            if first.endswith("\n"):
                url = first.split()[-1]
                assert url.startswith("http://127.0.0.1:") and url.endswith("/client/v4"), first
                return url
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"edgekv api did not start: {self.output()}")

    def output(self):
        self.stdout.seek(0)
        self.stderr.seek(0)
        return self.stdout.read() + self.stderr.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="session")
def server():
    server = Server()
    os.environ["CLOUDFLARE_BASE_URL"] = server.base_url
    yield server
    status = server.stop()
    output = server.output()
    server.state.cleanup()
    assert status == 0, output
    assert TOKEN not in output


class Recorder:
    """The requests the SDK sent, as (method, path, query) tuples."""

    def __init__(self):
        self.requests = []

    def __call__(self, request):
        self.requests.append((request.method, request.url.path, dict(request.url.params)))

    def count(self, method, suffix):
        return sum(1 for m, p, _ in self.requests if m == method and p.endswith(suffix))


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
def client(server, recorder):
    # No base_url argument: the SDK reads CLOUDFLARE_BASE_URL. No retries, so every error surfaces at once.
    http = httpx.Client(event_hooks={"request": [recorder]})
    client = Cloudflare(api_token=TOKEN, max_retries=0, http_client=http)
    assert str(client.base_url) == server.base_url + "/"
    yield client
    client.close()


@pytest.fixture
def namespace(client):
    created = client.kv.namespaces.create(account_id=ACCOUNT, title="ns-" + uuid.uuid4().hex)
    yield created.id
    try:
        client.kv.namespaces.delete(created.id, account_id=ACCOUNT)
    except cloudflare.NotFoundError:
        pass


def kv(client):
    return client.kv.namespaces


# Namespaces


def test_namespace_create_get_update_delete(client):
    title = "crud-" + uuid.uuid4().hex
    created = kv(client).create(account_id=ACCOUNT, title=title)
    assert created.title == title and len(created.id) == 32
    assert kv(client).get(created.id, account_id=ACCOUNT).title == title

    renamed = kv(client).update(created.id, account_id=ACCOUNT, title=title + "-renamed")
    assert renamed.id == created.id and renamed.title == title + "-renamed"
    assert kv(client).get(created.id, account_id=ACCOUNT).title == title + "-renamed"

    with pytest.raises(cloudflare.BadRequestError) as duplicate:
        kv(client).create(account_id=ACCOUNT, title=title + "-renamed")
    assert duplicate.value.status_code == 400
    assert [e.code for e in duplicate.value.errors] == [10014]

    kv(client).delete(created.id, account_id=ACCOUNT)
    with pytest.raises(cloudflare.NotFoundError) as missing:
        kv(client).get(created.id, account_id=ACCOUNT)
    assert [e.code for e in missing.value.errors] == [10013]


def test_namespace_list_auto_paginates_one_per_page(client, recorder):
    prefix = "page-" + uuid.uuid4().hex[:8] + "-"
    ids = {kv(client).create(account_id=ACCOUNT, title=prefix + t).id for t in ("c", "a", "b")}
    total = len(list(kv(client).list(account_id=ACCOUNT)))  # default page size (20) holds them all here
    assert total >= 3

    recorder.requests.clear()
    listed = [ns for ns in kv(client).list(account_id=ACCOUNT, per_page=1, order="title", direction="asc")]
    mine = [ns.title for ns in listed if ns.id in ids]
    assert mine == [prefix + "a", prefix + "b", prefix + "c"]
    assert len(listed) == total and len({ns.id for ns in listed}) == total
    # One request per namespace, then the empty page that ends the iteration.
    pages = [q for m, p, q in recorder.requests if m == "GET" and p.endswith("/storage/kv/namespaces")]
    assert len(pages) == total + 1
    assert pages[0].get("page") is None and pages[1]["page"] == "2" and pages[-1]["page"] == str(total + 1)

    first = kv(client).list(account_id=ACCOUNT, per_page=1, page=1)
    assert first.result_info.total_count == total and first.result_info.per_page == 1
    assert kv(client).list(account_id=ACCOUNT, per_page=1, page=total + 1).result == []
    for ns in ids:
        kv(client).delete(ns, account_id=ACCOUNT)


# Keys


def test_keys_list_auto_paginates_with_limit_10(client, namespace, recorder):
    names = [f"p/{i:02d}" for i in range(25)]
    kv(client).bulk_update(
        namespace, account_id=ACCOUNT, body=[{"key": n, "value": n} for n in names] + [{"key": "q", "value": "x"}]
    )
    recorder.requests.clear()
    listed = [key.name for key in kv(client).keys.list(namespace, account_id=ACCOUNT, limit=10, prefix="p/")]
    assert listed == names
    requests = [q for m, p, q in recorder.requests if m == "GET" and p.endswith("/keys")]
    assert len(requests) == 3
    assert all(q["limit"] == "10" and q["prefix"] == "p/" for q in requests)
    assert "cursor" not in requests[0] and requests[1]["cursor"] and requests[2]["cursor"]

    page = kv(client).keys.list(namespace, account_id=ACCOUNT, limit=10.0, prefix="p/")
    assert len(page.result) == 10 and page.result_info.cursor


def test_keys_list_carries_expiration_and_metadata(client, namespace):
    kv(client).values.update(
        "meta", account_id=ACCOUNT, namespace_id=namespace, value=b"v", metadata={"m": 1}, expiration_ttl=600
    )
    (key,) = list(kv(client).keys.list(namespace, account_id=ACCOUNT))
    assert key.name == "meta" and key.metadata == {"m": 1}
    assert abs(key.expiration - (time.time() + 600)) < 30


# Values and metadata


def test_values_update_with_metadata_and_ttl_then_get_and_metadata(client, namespace):
    before = time.time()
    result = kv(client).values.update(
        "with-meta",
        account_id=ACCOUNT,
        namespace_id=namespace,
        value=b"v-with-meta",
        metadata={"someMetadataKey": "someValue", "n": 1},
        expiration_ttl=600,
    )
    assert result is not None
    response = kv(client).values.get("with-meta", account_id=ACCOUNT, namespace_id=namespace)
    assert response.read() == b"v-with-meta"
    assert before + 600 - 5 <= int(response.headers["expiration"]) <= time.time() + 600 + 5
    metadata = kv(client).metadata.get("with-meta", account_id=ACCOUNT, namespace_id=namespace)
    assert metadata == {"someMetadataKey": "someValue", "n": 1}


def test_values_binary_tuple_and_absolute_float_expiration(client, namespace):
    payload = bytes(range(256)) + b"\r\n--boundary--\r\n"
    expiration = time.time() + 3600.5
    kv(client).values.update(
        "bin",
        account_id=ACCOUNT,
        namespace_id=namespace,
        value=("data.bin", payload, "application/x-custom"),
        expiration=expiration,
    )
    response = kv(client).values.get("bin", account_id=ACCOUNT, namespace_id=namespace)
    assert response.read() == payload
    assert response.headers["expiration"] == str(int(expiration))
    assert kv(client).metadata.get("bin", account_id=ACCOUNT, namespace_id=namespace) is None


def test_values_scalar_metadata_and_empty_value(client, namespace):
    for key, metadata in [("num", 42), ("bool", True), ("list", [1, "two"]), ("none", None)]:
        kv(client).values.update(key, account_id=ACCOUNT, namespace_id=namespace, value=b"", metadata=metadata)
        assert kv(client).values.get(key, account_id=ACCOUNT, namespace_id=namespace).read() == b""
        assert kv(client).metadata.get(key, account_id=ACCOUNT, namespace_id=namespace) == metadata


@pytest.mark.parametrize(
    "key", ["a b/c?d#e%f", "ключ-ünicode", "colon:bang!at@plus+amp&eq=", "~tilde_under-dash.", "..."]
)
def test_keys_travel_percent_encoded_as_one_segment(client, namespace, key):
    kv(client).values.update(key, account_id=ACCOUNT, namespace_id=namespace, value=key.encode())
    assert kv(client).values.get(key, account_id=ACCOUNT, namespace_id=namespace).text() == key
    assert [k.name for k in kv(client).keys.list(namespace, account_id=ACCOUNT)] == [key]
    kv(client).values.delete(key, account_id=ACCOUNT, namespace_id=namespace)
    assert list(kv(client).keys.list(namespace, account_id=ACCOUNT)) == []


def test_values_delete_then_missing_key_raises_not_found(client, namespace):
    kv(client).values.update("gone", account_id=ACCOUNT, namespace_id=namespace, value=b"x")
    kv(client).values.delete("gone", account_id=ACCOUNT, namespace_id=namespace)
    kv(client).values.delete("gone", account_id=ACCOUNT, namespace_id=namespace)  # missing: not an error
    with pytest.raises(cloudflare.NotFoundError) as value_error:
        kv(client).values.get("gone", account_id=ACCOUNT, namespace_id=namespace)
    assert value_error.value.status_code == 404
    assert [e.code for e in value_error.value.errors] == [10009]
    with pytest.raises(cloudflare.NotFoundError) as metadata_error:
        kv(client).metadata.get("never-written", account_id=ACCOUNT, namespace_id=namespace)
    assert [e.code for e in metadata_error.value.errors] == [10009]


def test_invalid_ttl_raises_bad_request_and_writes_nothing(client, namespace):
    with pytest.raises(cloudflare.BadRequestError) as error:
        kv(client).values.update("k", account_id=ACCOUNT, namespace_id=namespace, value=b"v", expiration_ttl=30)
    assert "Invalid expiration_ttl of 30" in str(error.value)
    with pytest.raises(cloudflare.NotFoundError):
        kv(client).values.get("k", account_id=ACCOUNT, namespace_id=namespace)


# Bulk


def test_bulk_update_get_and_delete(client, namespace):
    result = kv(client).bulk_update(
        namespace,
        account_id=ACCOUNT,
        body=[
            {"key": "bulk1", "value": "v1"},
            {"key": "bulk2", "value": '{"j": 2}', "metadata": {"m": 2}, "expiration_ttl": 600},
            {"key": "bulk3", "value": base64.b64encode(b"hello").decode(), "base64": True},
        ],
    )
    assert result.successful_key_count == 3 and result.unsuccessful_keys == []
    assert kv(client).values.get("bulk3", account_id=ACCOUNT, namespace_id=namespace).read() == b"hello"

    plain = kv(client).bulk_get(namespace, account_id=ACCOUNT, keys=["bulk1", "bulk2", "nope"])
    assert plain.values == {"bulk1": "v1", "bulk2": '{"j": 2}', "nope": None}

    typed = kv(client).bulk_get(namespace, account_id=ACCOUNT, keys=["bulk2"], type="json")
    assert typed.values == {"bulk2": {"j": 2}}

    with_metadata = kv(client).bulk_get(
        namespace, account_id=ACCOUNT, keys=["bulk1", "bulk2", "nope"], type="text", with_metadata=True
    )
    values = with_metadata.values
    assert values["bulk1"].value == "v1" and values["bulk1"].metadata is None
    assert values["bulk2"].value == '{"j": 2}' and values["bulk2"].metadata == {"m": 2}
    assert abs(values["bulk2"].expiration - (time.time() + 600)) < 30
    assert values["nope"] is None

    with pytest.raises(cloudflare.BadRequestError):
        kv(client).bulk_get(namespace, account_id=ACCOUNT, keys=["bulk1"], type="json")

    deleted = kv(client).bulk_delete(namespace, account_id=ACCOUNT, body=["bulk1", "nope"])
    assert deleted.successful_key_count == 2 and deleted.unsuccessful_keys == []
    remaining = [k.name for k in kv(client).keys.list(namespace, account_id=ACCOUNT)]
    assert remaining == ["bulk2", "bulk3"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_deprecated_keys_bulk_methods(client, namespace):
    body = [{"key": "d1", "value": "x"}, {"key": "d2", "value": "y"}]
    kv(client).keys.bulk_update(namespace, account_id=ACCOUNT, body=body)
    got = kv(client).keys.bulk_get(namespace, account_id=ACCOUNT, keys=["d1", "d2"])
    assert got.values == {"d1": "x", "d2": "y"}
    kv(client).keys.bulk_delete(namespace, account_id=ACCOUNT, body=["d1"])
    assert [k.name for k in kv(client).keys.list(namespace, account_id=ACCOUNT)] == ["d2"]


def test_bulk_update_with_an_invalid_item_writes_nothing(client, namespace):
    with pytest.raises(cloudflare.BadRequestError) as error:
        kv(client).bulk_update(
            namespace,
            account_id=ACCOUNT,
            body=[{"key": "ok", "value": "v"}, {"key": "bad", "value": "v", "expiration_ttl": 30}],
        )
    assert "[1]" in str(error.value)
    assert list(kv(client).keys.list(namespace, account_id=ACCOUNT)) == []


# Auth


def test_a_wrong_token_is_refused_and_an_email_key_pair_is_not_a_token(server, namespace):
    for credentials in [{"api_token": "wrong-" + TOKEN}, {"api_email": "dev@example.com", "api_key": TOKEN}]:
        other = Cloudflare(**credentials, max_retries=0)
        with pytest.raises(cloudflare.PermissionDeniedError) as error:
            other.kv.namespaces.get(namespace, account_id=ACCOUNT)
        assert [e.code for e in error.value.errors] == [10000]
        assert TOKEN not in str(error.value.body)
        other.close()
