"""Shared settings of the end-to-end API tests. Scripts/e2e/api_e2e.sh starts the server and
exports everything below; the tests never start their own (except the restart after kill -9).
"""

import http.client
import os
import subprocess
import time
from dataclasses import dataclass

import httpx
import openai
import pytest

TIMEOUT = 60.0  # seconds, for any one request


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run these tests through Scripts/e2e/api_e2e.sh")
    return value


@dataclass(frozen=True)
class E2E:
    base_url: str
    port: int
    bin: str
    config: str
    data_dir: str
    pid_file: str
    work_dir: str
    report_file: str
    closed_id: str
    closed_path: str
    open_id: str
    open_path: str
    admin_key: str
    inference_key: str
    weights_key: str
    exhausted_key: str
    open_only_key: str

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(api_key=key, base_url=self.base_url + "/v1", max_retries=0, timeout=TIMEOUT)

    def http(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=TIMEOUT)

    def muse(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.bin, *args], capture_output=True, text=True, timeout=timeout, check=True
        )

    def create_key(self, name: str, *extra: str) -> tuple[str, str]:
        """A new key through the CLI: (secret, key id)."""
        done = self.muse("keys", "create", "--data-dir", self.data_dir, "--name", name, *extra)
        secret = done.stdout.strip()
        assert secret.startswith("muse-"), done.stdout
        key_id = done.stderr.split("created ", 1)[1].split()[0]
        assert key_id.startswith("key_"), done.stderr
        return secret, key_id

    def report(self, line: str) -> None:
        with open(self.report_file, "a") as f:
            f.write("E2E-REPORT: " + line + "\n")

    def server_pid(self) -> int:
        with open(self.pid_file) as f:
            return int(f.read().strip())

    def restart_server(self, log_name: str) -> subprocess.Popen:
        """Starts `muse serve` again on the same config, port and data directory (after the
        caller stopped it); its pid goes to the pid file, so Scripts/e2e/api_e2e.sh still stops it."""
        log = open(os.path.join(self.work_dir, log_name), "w")
        proc = subprocess.Popen(
            [self.bin, "serve", "--config", self.config, "--port", str(self.port), "--data-dir", self.data_dir],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        with open(self.pid_file, "w") as f:
            f.write(str(proc.pid))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, open(log.name).read()[-2000:]
            try:
                if httpx.get(self.base_url + "/health", timeout=2).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("the restarted server does not answer /health")

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base_url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server is not ready after {seconds} s")


@pytest.fixture(scope="session")
def e2e() -> E2E:
    return E2E(
        base_url=env("MUSE_E2E_BASE_URL"),
        port=int(env("MUSE_E2E_PORT")),
        bin=env("MUSE_E2E_BIN"),
        config=env("MUSE_E2E_CONFIG"),
        data_dir=env("MUSE_E2E_DATA_DIR"),
        pid_file=env("MUSE_E2E_PID_FILE"),
        work_dir=env("MUSE_E2E_WORK_DIR"),
        report_file=env("MUSE_E2E_REPORT"),
        closed_id=env("MUSE_E2E_CLOSED_ID"),
        closed_path=env("MUSE_E2E_CLOSED_PATH"),
        open_id=env("MUSE_E2E_OPEN_ID"),
        open_path=env("MUSE_E2E_OPEN_PATH"),
        admin_key=env("MUSE_E2E_ADMIN_KEY"),
        inference_key=env("MUSE_E2E_INFERENCE_KEY"),
        weights_key=env("MUSE_E2E_WEIGHTS_KEY"),
        exhausted_key=env("MUSE_E2E_EXHAUSTED_KEY"),
        open_only_key=env("MUSE_E2E_OPEN_ONLY_KEY"),
    )


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_request(
    port: int, method: str, target: str, headers: dict[str, str] | None = None, body: bytes | None = None
) -> RawResponse:
    """One request with the request target sent byte for byte as given (no URL normalisation,
    unlike httpx), on its own connection, bounded in time and size."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"127.0.0.1:{port}")
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read(256 << 20)
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()
