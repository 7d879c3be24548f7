"""`wsconform fuzz`: network fuzzing of a server with mutated catalog traffic.

- Against wsref-echo a short run finds nothing (exit 0, empty --out).
- Against a wsref-echo built with the planted crash `crash_rsv3_cont` (a
  continuation frame with RSV3 set makes libwsref write through a NULL
  pointer: SIGSEGV; no catalog case sends such a frame), the fuzzer must find
  the crash (and nothing else) and save a minimized .wsc reproducer whose raw
  bytes start with that frame header. Replayed by `wsconform server
  --case-file`, the file must fail the run with exit 4 (target crashed)
  against the mutant, while the unmodified wsref-echo passes it.
- Same seed, same target: the same reproducer.
- Usage errors exit 2.

The mutant is built by e2e_util.build_mutant (only wsref-echo, in
<build>-mut-crash_rsv3_cont; test_mutants.py shares the directory).
"""
import json
import re

import pytest

from e2e_util import CRASH_TEXT, binary, build_mutant, describe, run_wsconform

URL = "ws://127.0.0.1:{port}/"

PLANTED = "crash_rsv3_cont"
# The fuzz run against the mutant. The fragmentation cases (5.*) are the seeds
# that carry continuation frames; seed 6 finds the crash at mutated case 52
# (about 4 s here, docs/fuzzing.md). --max-findings 1 ends the run at the
# finding, so the time budget is only an upper bound and can be generous: a
# loaded machine gets the same cases, just more slowly.
FUZZ_SEED = "6"
FUZZ_CASES = "5.*"
FUZZ_SECONDS = "60"


def _exec(exe):
    # `exec` makes the server the process wsconform watches, instead of a
    # shell waiting for it (test_replay_through_a_shell covers the shell).
    return f"exec {exe} --port {{port}}"


def test_no_findings_against_wsref_echo(tmp_path):
    out = tmp_path / "findings"
    res = run_wsconform(["fuzz", URL, "--exec", f"{binary('wsref-echo')} --port {{port}}",
                         "--seconds", "6", "--seed", "11", "--out", out, "-q"], timeout=90)
    assert res.returncode == 0, describe(res)
    m = re.search(r"fuzz: (\d+) cases in [\d.]+ s \(([\d.]+) cases/s\).*0 finding", res.stdout)
    assert m, describe(res)
    assert int(m.group(1)) >= 20, describe(res)
    assert not list(out.iterdir()), describe(res)
    assert not CRASH_TEXT.search(res.stderr), describe(res)


@pytest.fixture(scope="module")
def mutant():
    exe, log = build_mutant(PLANTED)
    if exe is None:
        pytest.fail(f"build of the {PLANTED} mutant failed:\n{log[-3000:]}")
    return exe


def _fuzz_mutant(exe, out):
    """One fuzz run against the mutant; returns (the one crash .wsc, result)."""
    res = run_wsconform(["fuzz", URL, "--exec", _exec(exe), "--cases", FUZZ_CASES,
                         "--seconds", FUZZ_SECONDS, "--seed", FUZZ_SEED, "--max-findings", "1",
                         "--out", out, "-q"], timeout=300)
    assert res.returncode == 1, describe(res)
    files = sorted(out.glob("*.wsc"))
    assert len(files) == 1 and files[0].name.startswith("crash-"), (
        describe(res) + f"\nfiles: {sorted(p.name for p in out.iterdir())}")
    return files[0], res


@pytest.fixture(scope="module")
def finding(mutant, tmp_path_factory):
    return _fuzz_mutant(mutant, tmp_path_factory.mktemp("fuzz") / "a")


def _raw_steps(text):
    return [bytes.fromhex(m.replace(" ", ""))
            for m in re.findall(r'^  raw x"([0-9a-f ]*)"$', text, re.M)]


def test_finds_planted_crash_minimized(finding):
    f, res = finding
    assert "finding: crash" in res.stdout, describe(res)
    text = f.read_text()
    assert "SIGSEGV" in text, text
    # Minimized to the trigger: the first byte sent after the handshake is the
    # header of a continuation frame (opcode 0) with RSV3 (0x10) set. The rest
    # of that header comes from the Close the case ends with.
    raw = _raw_steps(text)
    assert raw and raw[0], text
    assert raw[0][0] & 0x0F == 0 and raw[0][0] & 0x10, text
    assert len(raw) <= 2 and sum(map(len, raw)) <= 14, text


def test_reproducer_replays(finding, mutant):
    f, _ = finding
    case_id = re.search(r"^case (\S+)$", f.read_text(), re.M).group(1)
    rep = run_wsconform(["server", URL, "--exec", _exec(mutant), "--case-file", f,
                         "--cases", case_id, "--no-report"], timeout=60)
    # Exit 4 and TARGET CRASHED: the run failed because the target died, and
    # the case is blamed for it even when its connection ended first.
    assert rep.returncode == 4, describe(rep)
    assert "TARGET CRASHED" in rep.stdout and "SIGSEGV" in rep.stdout, describe(rep)
    assert re.search(rf"FAIL {re.escape(case_id)} .*the target crashed during this case",
                     rep.stdout), describe(rep)
    # The reproducer is fair: the unmodified server passes it.
    ok = run_wsconform(["server", URL, "--exec", _exec(binary("wsref-echo")), "--case-file", f,
                        "--cases", case_id, "--no-report"], timeout=60)
    assert ok.returncode == 0, describe(ok)


def test_replay_through_a_shell(finding, mutant):
    # Without `exec` a shell sits between wsconform and the server; it reaps
    # the crashed server a moment after the server's sockets closed. Stopping
    # the target must not kill the shell first and hide the crash (it did in
    # about 2 of 12 replays before the group's other processes were stopped
    # first), so every replay here must exit 4.
    f, _ = finding
    case_id = re.search(r"^case (\S+)$", f.read_text(), re.M).group(1)
    for _ in range(5):
        rep = run_wsconform(["server", URL, "--exec", f"{mutant} --port {{port}}; exit $?",
                             "--case-file", f, "--cases", case_id, "--no-report"], timeout=60)
        assert rep.returncode == 4, describe(rep)
        assert "SIGSEGV" in rep.stdout, describe(rep)


def test_crash_is_blamed_on_the_case_that_caused_it(mutant, tmp_path):
    # One case at a time: 102.3.1-6 end before 102.3.7 sends RSV3 on a
    # continuation. The crash is blamed on 102.3.7 alone; the six before it,
    # whose connections the healthy server closed with 1002, keep their OK.
    out = tmp_path / "r"
    rep = run_wsconform(["server", URL, "--exec", _exec(mutant), "--cases", "102.3.*", "-j", "1",
                         "--report-dir", out, "--no-progress"], timeout=120)
    assert rep.returncode == 4, describe(rep)
    index = json.loads((out / "index.json").read_text())
    cases = next(iter(index.values()))
    for cid in ("102.3.1", "102.3.2", "102.3.3", "102.3.4", "102.3.5", "102.3.6"):
        assert cases[cid]["behavior"] == "OK", (cid, describe(rep))
    assert cases["102.3.7"]["behavior"] == "FAILED", describe(rep)
    r = json.loads((out / cases["102.3.7"]["reportfile"]).read_text())
    assert r["result"] == "the target crashed during this case", r["result"]


def test_same_seed_same_reproducer(finding, mutant, tmp_path):
    a, _ = finding
    b, _ = _fuzz_mutant(mutant, tmp_path / "b")

    def body(p):
        t = p.read_text()
        return t[t.index("category"):]

    assert a.name == b.name
    assert body(a) == body(b)


def test_usage_errors(tmp_path):
    for args in (["fuzz"], ["fuzz", URL], ["fuzz", "ws://127.0.0.1:1/", "--seconds", "x"],
                 ["fuzz", "ws://127.0.0.1:1/", "--bogus"]):
        res = run_wsconform(args, timeout=30)
        assert res.returncode == 2, describe(res)
