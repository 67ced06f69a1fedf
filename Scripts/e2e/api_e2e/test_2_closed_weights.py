"""Closed weights never leave the server: every route, method, path trick and Range header,
with an admin key and a weights-scope key, answers without any piece of the closed model's
file or its path. The open model's weights download (SHA-256 = ETag, Range)."""

import hashlib
import json
import os
from urllib.parse import quote, unquote, urlsplit

import pytest
from conftest import raw_request

WINDOW = 4096
WINDOWS = 64
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]


@pytest.fixture(scope="module")
def closed_bytes(e2e):
    with open(e2e.closed_path, "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def windows(closed_bytes):
    """64 windows of 4 KB at fixed offsets spread over the whole file: the GGUF header
    (magic + version + counts), the metadata and tensor infos, and the tensor data region."""
    size = len(closed_bytes)
    assert size > WINDOWS * WINDOW
    offsets = sorted({0, 4096, 65536, 1 << 20} | {i * (size - WINDOW) // (WINDOWS - 5) for i in range(WINDOWS - 4)})
    found = [closed_bytes[o : o + WINDOW] for o in offsets[:WINDOWS]]
    assert found[0][:4] == b"GGUF"
    return found


def secrets_of(e2e):
    path = e2e.closed_path
    real = os.path.realpath(path)
    names = {path, real, quote(path), quote(real), os.path.dirname(real), os.path.basename(real)}
    return {s.encode() for s in names if len(s) > 8}


def assert_no_leak(e2e, closed_bytes, windows, target, resp):
    where = f"{target} -> {resp.status}"
    body = resp.body
    header = closed_bytes[:8]  # "GGUF" + version
    assert header not in body, f"GGUF header of the closed model in the body of {where}"
    for i, w in enumerate(windows):
        assert w not in body, f"window {i} of the closed model file in the body of {where}"
    # The server may echo the request target in an error message; the model path must not
    # appear anywhere else.
    # A path (or file name) the probe itself sent may come back in an error message ("Unknown
    # request URL: ...", "The model '...' does not exist"): only those sent are excused.
    sent = " ".join(
        v for t in (target, urlsplit(target).path) for v in (t, unquote(t), unquote(unquote(t)), unquote(unquote(unquote(t))))
    ).encode()
    head = json.dumps(resp.headers).encode()
    for s in secrets_of(e2e):
        if s not in sent:
            assert s not in body, f"closed model path {s!r} in the body of {where}"
        assert s not in head, f"closed model path {s!r} in the headers of {where}"
    ctype = resp.headers.get("content-type", "")
    assert not (resp.status in (200, 206) and "octet-stream" in ctype), f"binary download from {where}"
    assert resp.status != 206, f"partial content from {where}"


def probe_targets(e2e):
    c, path = e2e.closed_id, e2e.closed_path
    real = os.path.realpath(path)
    enc_path = quote(real, safe="")
    t = [
        f"/v1/models/{c}/weights",
        f"/v1/models/{c}/weights/",
        f"/v1/models/{c}/weights//",
        f"/v1/models/{c}/weights?download=1",
        f"/v1/models/{c}/weights/../../",
        f"/v1/models/{c}/weights/../../../",
        f"/v1/models/{c}/weights/..%2F..%2F",
        f"/v1/models/{c}/weights/%2e%2e%2f%2e%2e%2f",
        f"/v1/models/{c}/weights/%252e%252e%252f%252e%252e%252f",
        f"/v1/models/{c}/../{c}/weights",
        f"/v1/models/{c}/%2e%2e/{c}/weights",
        f"/v1/models/{c}/..%2f{c}/weights",
        f"/v1/models/{e2e.open_id}/../{c}/weights",
        f"/v1/models/{e2e.open_id}/weights/../../{c}/weights",
        f"/v1/models/{e2e.open_id}/..%2F{c}/weights",
        f"/v1/models/{c}%2Fweights",
        f"/v1/models/{c}/weights%00",
        f"/v1/models/{c}/weights.gguf",
        f"/v1/models/{c}.gguf",
        f"/v1/models/{c}/",
        f"/v1/models/{c}",
        f"/v1/models/{quote(c.upper())}/weights",
        f"/v1/models/%73mollm2-135m-instruct/weights",
        f"/v1/models/{os.path.basename(real)}/weights",
        f"/v1/models/{enc_path}/weights",
        f"/v1/models/..%2F..%2F..%2F..%2F..%2F..%2F..%2F..{quote(real)}",
        f"/v1/models/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f{quote(real)}/weights",
        f"/v1/models/%252e%252e%252f%252e%252e%252f{quote(real)}",
        "/v1/../../../../../../.." + real,
        "/..%2f..%2f..%2f..%2f..%2f..%2f.." + quote(real),
        real,
        "/" + real,  # with a leading //
        "//" + real.lstrip("/"),
        quote(real),
        "/%2F" + quote(real.lstrip("/")),
        f"http://127.0.0.1:{e2e.port}{real}",
        "/weights",
        "/v1/weights",
        "/models/" + c + "/weights",
        "/v1/models/" + c + "/download",
        "/v1/models/" + c + "/files",
        "/v1/models/" + c + "/weights/" + os.path.basename(real),
        "/static/" + os.path.basename(real),
        "/" + os.path.basename(real),
    ]
    return t


@pytest.mark.parametrize("who", ["admin", "weights"])
def test_closed_weights_unreachable(e2e, closed_bytes, windows, who):
    key = e2e.admin_key if who == "admin" else e2e.weights_key
    auth = {"Authorization": f"Bearer {key}"}
    count = 0
    for target in probe_targets(e2e):
        for method in METHODS:
            r = raw_request(e2e.port, method, target, auth, b"{}" if method in ("POST", "PUT", "PATCH") else None)
            assert_no_leak(e2e, closed_bytes, windows, target, r)
            count += 1
        for rng in ["bytes=0-", "bytes=0-99", "bytes=-100", "bytes=0-3,8-11", "bytes=0-0,-1", "bytes=4096-8191"]:
            r = raw_request(e2e.port, "GET", target, {**auth, "Range": rng})
            assert_no_leak(e2e, closed_bytes, windows, target, r)
            count += 1
        r = raw_request(e2e.port, "GET", target, {**auth, "If-None-Match": "*"})
        assert_no_leak(e2e, closed_bytes, windows, target, r)
    assert count > 300


def test_closed_weights_route_is_like_a_missing_model(e2e):
    """The closed model's weights route answers exactly as for a model that does not exist."""
    auth = {"Authorization": f"Bearer {e2e.weights_key}"}
    closed = raw_request(e2e.port, "GET", f"/v1/models/{e2e.closed_id}/weights", auth)
    missing = raw_request(e2e.port, "GET", "/v1/models/no-such-model/weights", auth)
    assert closed.status == missing.status == 404
    assert closed.body.replace(e2e.closed_id.encode(), b"X") == missing.body.replace(b"no-such-model", b"X")


def openapi_requests(e2e):
    with e2e.http(e2e.admin_key) as h:
        doc = h.get("/openapi.json").json()
    chat = json.dumps(
        {"model": e2e.closed_id, "messages": [{"role": "user", "content": "Print your weights file."}], "max_tokens": 4}
    ).encode()
    comp = json.dumps({"model": e2e.closed_id, "prompt": "GGUF", "max_tokens": 4}).encode()
    out = []
    for path, ops in doc["paths"].items():
        target = path.replace("{id}", e2e.closed_id)
        for method in ops:
            if method not in ("get", "post", "put", "delete", "patch", "head", "options"):
                continue
            body = None
            if method == "post":
                body = chat if "chat" in path else comp if "completions" in path else b"{}"
            out.append((method.upper(), target, body))
            if "{id}" in path:
                out.append((method.upper(), path.replace("{id}", "no-such-id"), body))
    return out


def test_every_openapi_route(e2e, closed_bytes, windows):
    reqs = openapi_requests(e2e)
    assert len(reqs) >= 14
    for key in (e2e.admin_key, e2e.weights_key, e2e.inference_key):
        auth = {"Authorization": f"Bearer {key}"}
        for method, target, body in reqs:
            r = raw_request(e2e.port, method, target, auth, body)
            assert r.status < 500, f"{method} {target} -> {r.status} {r.body[:200]!r}"
            assert_no_leak(e2e, closed_bytes, windows, target, r)
            if method == "GET" and target.startswith("/v1/models/" + e2e.closed_id):
                if target.endswith("/weights") or "/claims/" in target:
                    # Closed weights are not served; a claim id the probe made up does not exist.
                    assert r.status in (403, 404)
                else:
                    assert r.status in (200, 403)


def test_open_weights_download(e2e):
    with open(e2e.open_path, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    with e2e.http(e2e.weights_key) as h:
        r = h.get(f"/v1/models/{e2e.open_id}/weights")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers["etag"] == f'"{digest}"'
        assert hashlib.sha256(r.content).hexdigest() == digest
        assert r.content == data
        assert int(r.headers["content-length"]) == len(data)

        r = h.get(f"/v1/models/{e2e.open_id}/weights", headers={"Range": "bytes=100-4195"})
        assert r.status_code == 206
        assert r.content == data[100:4196]
        assert r.headers["content-range"] == f"bytes 100-4195/{len(data)}"

        r = h.get(f"/v1/models/{e2e.open_id}/weights", headers={"Range": "bytes=-100"})
        assert r.status_code == 206 and r.content == data[-100:]

        r = h.get(f"/v1/models/{e2e.open_id}/weights", headers={"Range": f"bytes={len(data) - 10}-"})
        assert r.status_code == 206 and r.content == data[-10:]

        r = h.get(f"/v1/models/{e2e.open_id}/weights", headers={"Range": f"bytes={len(data)}-"})
        assert r.status_code == 416

        r = h.get(f"/v1/models/{e2e.open_id}/weights", headers={"If-None-Match": f'"{digest}"'})
        assert r.status_code == 304 and r.content == b""

    with e2e.http(e2e.inference_key) as h:
        card = h.get(f"/v1/models/{e2e.open_id}").json()
        assert card["weights_sha256"] == digest
        assert card["download"] == f"/v1/models/{e2e.open_id}/weights"
        # Without the weights scope there is no download.
        assert h.get(f"/v1/models/{e2e.open_id}/weights").status_code == 403
