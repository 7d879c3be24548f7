"""Mutation score: every bug planted in libwsref (meson -Dplanted_bug=NAME) is
caught by the cases meant to catch it.

For each planted bug, a wsref-echo with that bug compiled in is built into
<build>-mut-<bug> (only the echo server), then `wsconform --strict` runs the
whole catalog against it. A case *detects* the bug when it fails against the
mutant and passes against the unmodified wsref-echo (run the same way first).
The test asserts exit status 1 and that every case in the bug's expected set
below detects it. A table bug -> detecting cases is printed and written to
the pytest temporary directory (mutants.md).

Builds run two at a time (one ninja per directory); each mutant's wsconform run
starts as soon as its build is done.
"""
import concurrent.futures as cf
import csv
import fnmatch
import os

import pytest

from e2e_util import (REPO, binary, build_mutant, case_passes, describe, load_index,
                      natural_key, only_agent, planted_bugs, run_wsconform, server_url)

RUN_TIMEOUT = 240

# The cases meant to catch each bug. Every case matching a pattern must detect
# it. '@utf8_invalid' stands for every row of cases/tables/utf8.tsv expanded
# from the utf8_invalid template. Comments name Autobahn-derived cases that
# cannot catch a bug by design.
EXPECTED = {
    "utf8_off": ["6.3.*", "6.4.*", "@utf8_invalid"],
    "utf8_late": ["6.4.*"],  # valid prefix echoed before failing: NON-STRICT
    # 3.7 (RSV on a Close) passes: the mutant answers with an empty Close,
    # and a Close with no code satisfies any code list (Autobahn's rule).
    "rsv_ignored": ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "102.3.1", "102.3.2", "102.3.3",
                    "102.3.6", "102.3.7"],
    "opcode_ignored": ["4.*"],
    "control_long_ok": ["2.5", "7.3.6"],
    # 5.2 (fragmented Pong) cannot catch it: the ignored Pong leaves its
    # continuation orphaned, which fails the connection as expected.
    "control_frag_ok": ["5.1", "102.6.1", "102.6.2"],
    # 7.9.4 sends 1005, which libwsref rejects before the code check.
    "close_code_any": ["7.9.1", "7.9.2", "7.9.3", "7.9.5", "7.9.6", "7.9.7", "7.9.8", "7.9.9",
                       "103.2.1", "103.2.3", "103.2.4", "103.2.5", "103.2.6", "103.2.7",
                       "103.2.8", "103.2.9", "103.2.10", "103.2.11", "103.2.12"],
    "close_reason_unchecked": ["7.5.1", "103.3.1", "103.3.2", "103.3.3"],
    # 5.12-5.14 send a FIN=0 orphan continuation: it starts a message, so the
    # following text frame still fails the connection (interleaving).
    "orphan_cont_ok": ["5.9", "5.10", "5.11", "5.17"],
    "interleave_ok": ["5.18", "102.6.3"],
    "no_auto_pong": ["2.1", "2.2", "2.3", "2.4", "102.4.1", "102.4.2", "102.4.3"],
    "pong_empty": ["2.2", "2.3", "2.4"],
    # Cases where the harness starts a clean close (the mutant never answers).
    "close_no_reply": ["7.1.1", "7.1.2", "7.1.3", "7.1.4", "7.1.5", "7.7.*", "103.1.*"],
    "unmasked_ok": ["102.1.1", "102.1.2"],
    # 102.2.4 (Ping, 16-bit length) is also > 125 for a control frame.
    "nonminimal_ok": ["102.2.1", "102.2.2", "102.2.3"],
    "hs_version_any": ["100.6.2", "100.6.3", "100.6.4", "100.6.6"],
    "hs_bad_accept": ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"],
    "hs_key_unchecked": ["100.5.2", "100.5.3", "100.5.4", "100.5.6"],
    "pmd_accept_bad_params": ["100.8.2", "100.8.3"],
    # server_no_context_takeover agreed: the mutant's compressor keeps its
    # window, so the harness cannot inflate its second message.
    "takeover_ignored": ["13.2.2", "13.2.3"],
    # Equivalent mutant under wsref-echo's defaults: max_message (64 MiB) also
    # bounds inflated bytes, so a bomb still ends in 1009 without the inflate
    # cap. Only a server whose inflate cap is below its message limit shows it.
    "inflate_no_cap": [],
    # A SIGSEGV on RSV3 in a continuation frame: 102.3.7 sends one. The
    # fuzzer has to make it from the 5.x cases (test_fuzz.py).
    "crash_rsv3_cont": ["102.3.7"],
}
NOT_CAUGHT_YET = {"inflate_no_cap"}

# Bulk categories (9.x, 12.x, 13.x) are left out: minutes each against every
# mutant. Three short 13.2 rows stay in for the context-takeover mutant.
MUTANT_CASES = ",".join(["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*",
                         "100.*", "102.*", "103.*", "104.*", "105.*",
                         "13.2.1", "13.2.2", "13.2.3"])


def utf8_invalid_ids():
    with open(REPO / "cases" / "tables" / "utf8.tsv", newline="", encoding="utf-8") as f:
        return {row["id"] for row in csv.DictReader(f, delimiter="\t")
                if row["template"] == "utf8_invalid"}


def expand(patterns, all_ids):
    out = set()
    for p in patterns:
        if p == "@utf8_invalid":
            out |= utf8_invalid_ids() & set(all_ids)
        else:
            out |= {i for i in all_ids if fnmatch.fnmatchcase(i, p)}
    return out


def _suite(exe, report_dir, agent):
    return run_wsconform(["server", server_url(), "--exec", f"{exe} --port {{port}}", "--strict",
                          "-j", "16", "--agent", agent, "--report-dir", report_dir,
                          "--no-progress", "--color", "never", "--cases", MUTANT_CASES],
                         timeout=RUN_TIMEOUT)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """bug -> dict(res, cases, error); plus the baseline under key None."""
    base = tmp_path_factory.mktemp("mutants")
    out = {}
    # The baseline alone first, so its timing-sensitive cases run unloaded.
    res = _suite(binary("wsref-echo"), base / "baseline", "wsref-echo")
    out[None] = {"res": res, "cases": only_agent(load_index(base / "baseline"))}

    def one(bug):
        exe, log = build_mutant(bug)
        if exe is None:
            return bug, {"error": f"build of {bug} failed:\n{log[-3000:]}"}
        rd = base / bug
        r = _suite(exe, rd, f"wsref-echo-{bug}")
        try:
            cases = only_agent(load_index(rd))
        except AssertionError as e:
            return bug, {"res": r, "error": f"{e}\n{describe(r)}"}
        return bug, {"res": r, "cases": cases}

    workers = max(1, min(2, os.cpu_count() or 1))
    with cf.ThreadPoolExecutor(workers) as ex:
        for bug, r in ex.map(one, planted_bugs()):
            out[bug] = r
    out["_dir"] = base
    return out


def detecting(runs, bug):
    base = runs[None]["cases"]
    cases = runs[bug]["cases"]
    return sorted((c for c, e in cases.items()
                   if not case_passes(e) and c in base and case_passes(base[c])),
                  key=natural_key)


def test_every_planted_bug_has_expectations():
    bugs = planted_bugs()
    assert bugs, "no WSR_PLANTED_BUG_ names found in reference/src"
    assert sorted(EXPECTED) == bugs, ("planted bugs and EXPECTED disagree: "
                                      f"only in sources {sorted(set(bugs) - set(EXPECTED))}, "
                                      f"only here {sorted(set(EXPECTED) - set(bugs))}")


@pytest.mark.parametrize("bug", [
    pytest.param(b, marks=pytest.mark.xfail(reason=f"no case catches it yet: {b}", strict=False))
    if b in NOT_CAUGHT_YET else b for b in sorted(EXPECTED)])
def test_mutant_is_caught(runs, bug):
    if bug not in runs:
        pytest.fail(f"{bug} is not planted in reference/src (EXPECTED is stale)")
    r = runs[bug]
    assert "error" not in r, r["error"]
    res, cases = r["res"], r["cases"]
    det = detecting(runs, bug)
    assert det, (f"no case catches it: {bug} (exit {res.returncode}; "
                 f"{sum(not case_passes(e) for e in cases.values())} failing cases, "
                 f"all failing against the unmodified reference too)")
    # A planted crash kills the server: the run ends with exit 4 (target
    # crashed), every other mutant with exit 1 (failures).
    assert res.returncode == (4 if bug.startswith("crash_") else 1), describe(res)
    want = expand(EXPECTED[bug], cases)
    assert want or not EXPECTED[bug], (f"{bug}: no case of the catalog matches {EXPECTED[bug]} "
                                       "(catalog renumbered?)")
    base = runs[None]["cases"]
    ref_fails = sorted((c for c in want if not case_passes(base[c])), key=natural_key)
    assert not ref_fails, (f"{bug}: cannot judge, the unmodified wsref-echo already fails "
                           f"{ref_fails}")
    missed = sorted(want - set(det), key=natural_key)
    assert not missed, (f"{bug}: cases meant to catch it did not: "
                        + ", ".join(f"{c} ({cases[c]['behavior']}/{cases[c]['behaviorClose']})"
                                    for c in missed))


def test_mutation_score_table(runs, capsys):
    lines = ["| planted bug | detecting cases | first IDs | exit |",
             "|---|---:|---|---:|"]
    caught = 0
    for bug in planted_bugs():
        r = runs[bug]
        if "error" in r:
            lines.append(f"| {bug} | build/run error | | |")
            continue
        det = detecting(runs, bug)
        caught += bool(det)
        first = " ".join(det[:6]) + (" ..." if len(det) > 6 else "")
        lines.append(f"| {bug} | {len(det)} | {first} | {r['res'].returncode} |")
    n = len(planted_bugs())
    lines.append("")
    lines.append(f"mutation score: {caught}/{n} planted bugs caught")
    table = "\n".join(lines) + "\n"
    path = runs["_dir"] / "mutants.md"
    path.write_text(table)
    with capsys.disabled():
        print(f"\n{table}(written to {path})")
    assert caught >= n - len(NOT_CAUGHT_YET), table
