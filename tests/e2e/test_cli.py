"""End-to-end tests of the wsconform command line: exit codes, the catalog
listing, target management (--exec readiness, crash and sanitizer detection,
no orphans) and a full passing run against wsref-echo.

Every wsconform run goes through cli_helpers.run(), which has a hard
subprocess timeout; every background process is killed in a finally block.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from cli_helpers import (closed_port, find_binary, natural_key, pid_alive, run, wsconform,
                         write_server)


def assert_usage_error(res, *needles):
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert lines, "no message on stderr"
    assert lines[0].startswith("wsconform: "), res.stderr
    for n in needles:
        assert n in res.stderr, (n, res.stderr)


# --------------------------------------------------------------------------
# usage and configuration errors: exit 2, one clear line, nothing started
# --------------------------------------------------------------------------

@pytest.mark.parametrize("args,needle", [
    (["--bogus"], "--bogus"),
    (["server", "ws://127.0.0.1:1/", "--frobnicate"], "--frobnicate"),
    (["-j", "0"], "-j"),
    (["-j", "abc"], "abc"),
    (["--jobs=-3"], "-3"),
    (["--profile", "bogus"], "bogus"),
    (["--color", "sometimes"], "sometimes"),
    (["--timeout-scale", "0"], "--timeout-scale"),
    (["--timeout-scale", "nan"], "--timeout-scale"),
    (["--exec-timeout", "x"], "--exec-timeout"),
    (["--cases"], "--cases"),
    (["-j"], "-j"),
    (["frobnicate"], "frobnicate"),
    (["ws://127.0.0.1:1/"], "server"),
    (["server"], "URL"),
    (["server", "http://127.0.0.1:1/"], "http://127.0.0.1:1/"),
    (["server", "127.0.0.1:9001"], "127.0.0.1:9001"),
    (["server", "ws://127.0.0.1:{port}/"], "--exec"),
    (["server", "ws://a:1/", "--agent", "x", "--agent", "y"], "--agent"),
    (["list", "ws://127.0.0.1:1/"], "list"),
    (["list", "--strict"], "--strict"),
    (["--json"], "--json"),
    (["--exec", "true"], "--exec"),
    (["server", "ws://a:1/", "--cacert", "/nonexistent/ca.pem"], "/nonexistent/ca.pem"),
    (["--round-trips", "0"], "--round-trips"),
    (["--round-trips", "ten"], "ten"),
])
def test_bad_command_line_exits_2_with_one_line_message(args, needle):
    res = run(args, timeout=30)
    assert_usage_error(res, needle)
    assert "--help" in res.stderr  # the usage hint
    assert res.stdout == ""


def test_help_and_version_exit_0():
    res = run(["--help"], timeout=30)
    assert res.returncode == 0
    assert "server URL" in res.stdout and "--exec" in res.stdout
    res = run(["--version"], timeout=30)
    assert res.returncode == 0
    assert re.match(r"^wsconform \S+\n$", res.stdout), res.stdout


def test_unknown_exact_case_id_is_named():
    res = run(["list", "--cases", "1.1.1,9.99.1"], timeout=30)
    assert_usage_error(res, "9.99.1")


def test_unknown_case_id_is_rejected_before_connecting(tmp_path):
    port = closed_port()
    res = run(["server", f"ws://127.0.0.1:{port}/", "--cases", "9.99.1",
               "--report-dir", str(tmp_path / "r")], timeout=30)
    assert_usage_error(res, "9.99.1")
    assert not (tmp_path / "r" / "index.json").exists()


def test_no_case_selected_exits_2(tmp_path):
    res = run(["list", "--cases", "1.*", "--exclude", "1.*"], timeout=30)
    assert_usage_error(res, "no case selected")
    port = closed_port()
    res = run(["server", f"ws://127.0.0.1:{port}/", "--cases", "1.*", "--exclude", "1.*",
               "--no-report"], timeout=30)
    assert_usage_error(res, "no case selected")


def test_malformed_case_file_reports_file_line_col(tmp_path):
    bad = tmp_path / "bad.wsc"
    bad.write_text('category 900 "Broken"\n\ncase 900.1.1\n  title "x"\n  frobnicate 12\nend\n')
    res = run(["list", "--case-file", str(bad)], timeout=30)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert re.search(r"bad\.wsc:\d+:\d+: ", res.stderr), res.stderr
    res = run(["server", "ws://127.0.0.1:1/", "--case-file", str(bad), "--no-report"],
              timeout=30)
    assert res.returncode == 2
    assert re.search(r"bad\.wsc:\d+:\d+: ", res.stderr), res.stderr


def test_missing_case_file_exits_2(tmp_path):
    res = run(["list", "--case-file", str(tmp_path / "nope.wsc")], timeout=30)
    assert res.returncode == 2
    assert "nope.wsc" in res.stderr


# --------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------

def test_list_json_schema_and_natural_order():
    res = run(["list", "--json"], timeout=30)
    assert res.returncode == 0, res.stderr
    cases = json.loads(res.stdout)
    assert isinstance(cases, list) and len(cases) > 0
    for c in cases:
        for key in ("id", "title", "rfc", "level", "side", "category", "description"):
            assert key in c, (key, c)
            assert isinstance(c[key], str), (key, c)
        assert re.fullmatch(r"\d+(\.\d+)*", c["id"]), c["id"]
        assert c["level"] in ("MUST", "SHOULD", "MAY")
        assert c["side"] in ("server", "client", "both")
        assert c["title"] and c["description"]
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate IDs"
    assert ids == sorted(ids, key=natural_key), "not in natural order"


def test_list_text_matches_json_and_selection():
    full = json.loads(run(["list", "--json"], timeout=30).stdout)
    res = run(["list"], timeout=30)
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert len(lines) == len(full)
    for line, c in zip(lines, full):
        cols = line.split()
        assert cols[0] == c["id"] and cols[1] == c["level"] and cols[2] == c["side"], line
        assert line.rstrip().endswith(c["title"].strip().split()[-1]), line
    sub = json.loads(run(["list", "--json", "--cases", "1.1.*"], timeout=30).stdout)
    assert sub and all(c["id"].startswith("1.1.") for c in sub)
    assert [c["id"] for c in sub] == [c["id"] for c in full if c["id"].startswith("1.1.")]
    excl = json.loads(run(["list", "--json", "--exclude", "1.*"], timeout=30).stdout)
    assert not any(c["id"].startswith("1.") for c in excl)
    assert len(excl) == len(full) - sum(1 for c in full if c["id"].startswith("1."))


# --------------------------------------------------------------------------
# could not test: exit 3
# --------------------------------------------------------------------------

def test_unreachable_url_exits_3(tmp_path):
    port = closed_port()
    t0 = time.monotonic()
    res = run(["server", f"ws://127.0.0.1:{port}/", "--cases", "1.*",
               "--report-dir", str(tmp_path / "r")], timeout=60)
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert f"127.0.0.1:{port}" in res.stderr
    assert time.monotonic() - t0 < 30


def test_exec_that_exits_at_once_exits_3_with_its_stderr(tmp_path):
    res = run(["server", "ws://127.0.0.1:{port}/", "--exec", "echo kaputt-1234 >&2; exit 7",
               "--cases", "1.*", "--report-dir", str(tmp_path / "r")], timeout=30)
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert "status 7" in res.stderr
    assert "kaputt-1234" in res.stderr
    # The whole stderr of the target is kept beside the reports.
    assert "kaputt-1234" in (tmp_path / "r" / "target-stderr.log").read_text()


def test_exec_that_exits_0_before_listening_exits_3(tmp_path):
    res = run(["server", "ws://127.0.0.1:{port}/", "--exec", "true", "--cases", "1.*",
               "--no-report"], timeout=30)
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert "status 0" in res.stderr


def test_exec_that_never_listens_times_out_and_leaves_no_orphan(tmp_path):
    pidfile = tmp_path / "pid"
    cmd = f"sleep 300 & echo $! > {pidfile}; wait"
    t0 = time.monotonic()
    res = run(["server", "ws://127.0.0.1:{port}/", "--exec", cmd, "--exec-timeout", "0.5",
               "--cases", "1.*", "--no-report"], timeout=30)
    elapsed = time.monotonic() - t0
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert "--exec-timeout" in res.stderr or "within" in res.stderr
    assert elapsed < 10, elapsed
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid), "the target's child outlived wsconform"


# --------------------------------------------------------------------------
# crashes: exit 4
# --------------------------------------------------------------------------

def test_target_that_segfaults_mid_run_exits_4_with_partial_report(tmp_path):
    cmd = write_server(tmp_path, "segv")
    rdir = tmp_path / "r"
    res = run(["server", "ws://127.0.0.1:{port}/", "--exec", cmd, "--cases", "1.*,2.*",
               "--report-dir", str(rdir), "--junit", str(tmp_path / "j.xml")], timeout=90)
    assert res.returncode == 4, (res.stdout, res.stderr)
    assert "SIGSEGV" in res.stderr
    assert "about to crash" in res.stderr  # the stderr tail
    assert (rdir / "index.json").exists()
    assert (tmp_path / "j.xml").exists()
    assert "about to crash" in (rdir / "target-stderr.log").read_text()


def test_sanitizer_report_on_stderr_is_a_crash(tmp_path):
    cmd = write_server(tmp_path, "asan")
    t0 = time.monotonic()
    res = run(["server", "ws://127.0.0.1:{port}/", "--exec", cmd, "--cases", "1.*",
               "--report-dir", str(tmp_path / "r")], timeout=90)
    assert res.returncode == 4, (res.stdout, res.stderr)
    assert "AddressSanitizer" in res.stderr
    # The run stops at the report; it does not wait out every case's deadline.
    assert time.monotonic() - t0 < 30


def test_target_exiting_0_mid_run_is_could_not_test(tmp_path):
    cmd = write_server(tmp_path, "exit0")
    res = run(["server", "ws://127.0.0.1:{port}/", "--exec", cmd, "--cases", "1.*",
               "--report-dir", str(tmp_path / "r")], timeout=90)
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert "status 0" in res.stderr


# --------------------------------------------------------------------------
# interruption: SIGINT stops promptly, writes the partial report, kills the target
# --------------------------------------------------------------------------

def test_sigint_stops_run_writes_partial_report_and_kills_target(tmp_path):
    server = write_server(tmp_path, "silent")
    pidfile = tmp_path / "pid"
    cmd = f"echo $$ > {pidfile}; exec {server}"
    rdir = tmp_path / "r"
    proc = subprocess.Popen([str(wsconform()), "server", "ws://127.0.0.1:{port}/", "--exec",
                             cmd, "--report-dir", str(rdir), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert time.monotonic() < deadline, "target never started"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        time.sleep(1.0)  # let the run get going against the silent server
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        out, err = proc.communicate(timeout=20)
        assert time.monotonic() - t0 < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, (out, err)
    assert "interrupted" in err
    assert (rdir / "index.json").exists()
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid)


# --------------------------------------------------------------------------
# the real thing: wsref-echo passes
# --------------------------------------------------------------------------

def test_wsref_echo_passes_framing_and_pings(tmp_path):
    echo = find_binary("wsref-echo")
    rdir = tmp_path / "r"
    junit = tmp_path / "junit.xml"
    md = tmp_path / "summary.md"
    res = run(["server", "ws://127.0.0.1:{port}/", "--exec", f"{echo} --port {{port}}",
               "--cases", "1.*,2.*", "--report-dir", str(rdir), "--junit", str(junit)],
              env={"GITHUB_STEP_SUMMARY": str(md)}, timeout=120)
    assert res.returncode == 0, (res.stdout, res.stderr)
    index = json.loads((rdir / "index.json").read_text())
    assert list(index) == ["127.0.0.1:{port}"], list(index)
    ids = set(index["127.0.0.1:{port}"])
    assert ids and all(i.startswith(("1.", "2.")) for i in ids)
    assert "1.1.1" in ids and "2.1" in ids
    for v in index["127.0.0.1:{port}"].values():
        assert v["behavior"] in ("OK", "NON-STRICT", "INFORMATIONAL")
    assert (rdir / "index.html").stat().st_size > 0
    assert junit.stat().st_size > 0 and md.stat().st_size > 0


def test_no_arguments_runs_reference_server_into_reports_servers(tmp_path):
    res = run(["--cases", "1.1.*", "-q"], cwd=tmp_path, timeout=120)
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert res.stdout == ""  # -q
    index = json.loads((tmp_path / "reports" / "servers" / "index.json").read_text())
    assert list(index) == ["wsref-echo"]
    assert set(index["wsref-echo"]) and all(i.startswith("1.1.") for i in index["wsref-echo"])


def test_round_trips_cuts_volume_and_says_so(tmp_path):
    # 12.1.10 and 9.7.1 send 1000 messages each; --round-trips 5 sends five,
    # and every output says the run was a quick one.
    md = tmp_path / "summary.md"
    res = run(["--cases", "12.1.10,9.7.1,1.1.1", "--round-trips", "5", "--report-dir", "r",
               "--no-progress", "--markdown", str(md)], cwd=tmp_path, timeout=120)
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert "quick run: at most 5 messages per round trip" in res.stdout
    rdir = tmp_path / "r"
    assert json.loads((rdir / "report.json").read_text())["roundTripCap"] == 5
    index = json.loads((rdir / "index.json").read_text())["wsref-echo"]
    for cid in ("12.1.10", "9.7.1"):
        rep = json.loads((rdir / index[cid]["reportfile"]).read_text())
        assert "round trips cut from 1000 messages (--round-trips)" in rep["result"], rep["result"]
        assert any("ROUND TRIPS CUT: 5 of 1000" in str(e) for e in rep["wirelog"]), cid
    rep = json.loads((rdir / index["1.1.1"]["reportfile"]).read_text())
    assert "--round-trips" not in rep["result"]
    assert "quick run" in (rdir / "index.html").read_text()
    assert "quick run" in md.read_text()
    # without the option: Autobahn's volume, and report.json says null
    res = run(["--cases", "1.1.1", "--report-dir", "full", "-q"], cwd=tmp_path, timeout=60)
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert json.loads((tmp_path / "full" / "report.json").read_text())["roundTripCap"] is None


def test_agent_name_and_no_report(tmp_path):
    echo = find_binary("wsref-echo")
    res = run(["server", "ws://127.0.0.1:{port}/", "--exec", f"{echo} --port {{port}}",
               "--cases", "1.1.1", "--agent", "MyServer/1.0", "--no-report"],
              cwd=tmp_path, timeout=60)
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert not (tmp_path / "reports").exists()
    res = run(["server", "ws://127.0.0.1:{port}/", "--exec", f"{echo} --port {{port}}",
               "--cases", "1.1.1", "--agent", "MyServer/1.0", "--report-dir", "out"],
              cwd=tmp_path, timeout=60)
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert list(json.loads((tmp_path / "out" / "index.json").read_text())) == ["MyServer/1.0"]


def test_exec_refuses_a_port_already_taken(tmp_path):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        port = s.getsockname()[1]
        res = run(["server", f"ws://127.0.0.1:{port}/", "--exec", "sleep 30",
                   "--cases", "1.1.1", "--no-report"], timeout=30)
    assert res.returncode == 3, (res.stdout, res.stderr)
    assert "already" in res.stderr
