"""Bad command-line values: the CLI names the option and what it takes, exits non-zero, and
starts nothing."""

import subprocess


def run(e2e, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([e2e.bin, *args], capture_output=True, text=True, timeout=60)


def test_unknown_kv_cache_type(e2e):
    done = run(e2e, "serve", "--model", e2e.open_path, "--port", "1", "--kv-cache-type", "f64")
    assert done.returncode != 0
    assert "--kv-cache-type" in done.stderr and "f64" in done.stderr
    assert "f16" in done.stderr and "f32" in done.stderr, done.stderr


def test_negative_bench_depth(e2e):
    done = run(e2e, "bench", "--model", e2e.open_path, "--depth=-1")
    assert done.returncode != 0
    assert "--depth" in done.stderr and "negative" in done.stderr, done.stderr
