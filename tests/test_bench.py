"""The benchmark code still runs: bench/quick.py measures every endpoint of bench/endpoints.py."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = str(ROOT / "bench")


def bench_endpoints():
    """bench/endpoints.py, imported without leaving bench/ on the path of the other tests."""
    sys.path.insert(0, BENCH)
    try:
        import endpoints
    finally:
        sys.path.remove(BENCH)
    return endpoints


def test_quick_bench_measures_every_endpoint_against_both_references():
    endpoints = bench_endpoints()
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "quick.py"), "--seconds", "0.1"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    table = [line for line in result.stdout.splitlines() if not line.startswith("bench:")]
    measured = {line[:40].strip(): line[40:].split() for line in table[1:]}
    expected = [endpoints.BARE, endpoints.FLOOR, *endpoints.ENDPOINTS]
    assert list(measured) == [endpoint.name for endpoint in expected]
    for name, (us, p50, ratio) in measured.items():
        assert float(us) > 0 and float(p50) > 0 and ratio.endswith("%"), name
    assert measured[endpoints.BARE.name][2] == "100.0%"
