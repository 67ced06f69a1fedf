"""The CLI outside the server: bad values are refused naming the option and what it takes (exit
non-zero, nothing started); `muse bench --batch` reports each batch size."""

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


def test_zero_bench_batch(e2e):
    done = run(e2e, "bench", "--model", e2e.open_path, "--batch", "1,0")
    assert done.returncode != 0
    assert "--batch" in done.stderr and "positive" in done.stderr, done.stderr


def test_non_numbers_in_bench_lists(e2e):
    """A word in a list is refused, not skipped."""
    done = run(e2e, "bench", "--model", e2e.open_path, "--threads", "1,two")
    assert done.returncode != 0
    assert "--threads" in done.stderr and "positive" in done.stderr, done.stderr
    done = run(e2e, "bench", "serve", "--model", e2e.open_path, "--concurrency", "1,x")
    assert done.returncode != 0
    assert "--concurrency" in done.stderr and "positive" in done.stderr, done.stderr


def test_batched_bench_reports_each_batch_size(e2e):
    """The batched engine benchmark's JSON: one run per batch size, the aggregate rates and a
    roofline that counts each sequence's cache reads (so it grows with the batch)."""
    import json

    done = run(
        e2e, "bench", "--model", e2e.open_path, "--threads", "1", "--batch", "1,3", "--prompt-tokens", "4",
        "--gen-tokens", "4", "--repetitions", "1", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    runs = {r["batch"]: r for r in report["runs"]}
    assert sorted(runs) == [1, 3]
    for r in runs.values():
        assert r["threads"] == 1 and r["decode"]["median"] > 0 and r["prefill"]["median"] > 0
    assert runs[3]["rooflineTokensPerSecond"] > runs[1]["rooflineTokensPerSecond"]
    assert report["decode_tps"] == runs[1]["decode"]["median"]


def test_run_refuses_out_of_range_numbers_naming_the_option(e2e):
    """muse run checks every number before it loads anything (issue #15)."""
    cases = [("-n", "0"), ("-n", "99999999999"), ("--temp", "-1"), ("--temp", "nan"), ("--top-k", "-1"),
             ("--top-p", "0"), ("--min-p", "5"), ("--repeat-penalty", "0"), ("--frequency-penalty", "3"),
             ("--presence-penalty", "-2.5"), ("--frequency-penalty", "nan"), ("--threads", "0"),
             ("--context", "0"), ("--experts", "0"), ("--stop", "")]
    for option, value in cases:
        done = run(e2e, "run", "--model", e2e.open_path, "--prompt", "hi", f"{option}={value}")
        assert done.returncode != 0, (option, value)
        assert option.split("/")[0] in done.stderr, (option, value, done.stderr)
