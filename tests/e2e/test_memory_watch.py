"""`watch-memory`: the harness samples the resident memory of the peer it
started while a case runs, and fails the case when it grows past the bound.

105.5.6 (hardened) sends a decompression bomb: about 1 MB of deflate data
that inflates to 1 GiB, with `watch-memory 256`.
- Against the built-in wsref-echo (message limit 64 MiB) the peer closes with
  1009 and grows by well under 256 MiB: OK, and the verdict states the figures.
- Against a wsref-echo told to accept messages of up to 2 GB (--max-message,
  passed on to the built-in server) the bomb is inflated whole and the peer
  grows past 1 GiB: FAILED, for memory alone.
- Against a peer the harness did not start (a URL), nothing is measured and
  the verdict says so.
"""
import re
import subprocess

from e2e_util import binary, describe, load_case_report, load_index, only_agent, run_wsconform

MEM = re.compile(r"peer memory ([0-9.]+) MiB at the start, at most ([0-9.]+) MiB "
                 r"\(\+([0-9.]+) MiB, limit \+256 MiB\)")


def _bomb(tmp_path, name, extra):
    out = tmp_path / name
    res = run_wsconform(["--profile", "hardened", "--cases", "105.5.6", "--no-progress",
                         "--report-dir", str(out), *extra], timeout=300)
    entry = only_agent(load_index(out))["105.5.6"]
    return res, entry, load_case_report(out, entry)


def test_bounded_peer_passes_with_figures(tmp_path):
    res, entry, rep = _bomb(tmp_path, "bounded", [])
    assert res.returncode == 0, describe(res)
    assert entry["behavior"] == "OK", rep["result"]
    m = MEM.search(rep["result"])
    assert m, rep["result"]
    assert float(m.group(3)) < 256
    assert rep["remoteCloseCode"] == 1009


def test_unbounded_peer_fails_on_memory(tmp_path):
    res, entry, rep = _bomb(tmp_path, "unbounded", ["--max-message", "2000000000"])
    assert res.returncode == 1, describe(res)
    assert entry["behavior"] == "FAILED", rep["result"]
    m = MEM.search(rep["result"])
    assert m, rep["result"]
    assert float(m.group(3)) > 256
    assert "grew more than the case allows" in rep["result"]


def test_peer_not_started_is_not_measured(tmp_path):
    echo = subprocess.Popen([str(binary("wsref-echo")), "--port", "0", "--host", "127.0.0.1"],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(echo.stdout.readline())
        out = tmp_path / "url"
        res = run_wsconform(["server", f"ws://127.0.0.1:{port}/", "--profile", "hardened",
                             "--cases", "105.5.6", "--no-progress", "--report-dir", str(out)],
                            timeout=120)
        assert res.returncode == 0, describe(res)
        entry = only_agent(load_index(out))["105.5.6"]
        rep = load_case_report(out, entry)
        assert entry["behavior"] == "OK", rep["result"]
        assert "peer memory not measured (the harness did not start the peer)" in rep["result"]
    finally:
        echo.terminate()
        echo.wait(timeout=30)
