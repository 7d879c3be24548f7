"""The reference server scores 100% under --strict, under both profiles, and
the newcomer's command (`wsconform` with no arguments) passes and writes the
HTML report where the README says.
"""
import pytest

from e2e_util import (PASS_BEHAVIOR_STRICT, PASS_CLOSE, binary, describe, load_index,
                      natural_key, only_agent, run_wsconform, server_cases, server_url)

RUN_TIMEOUT = 900  # the whole catalog, 12.x/13.x included, takes a few minutes

# The compression round trips (12.x, 13.x) read the same under both profiles,
# so the autobahn-profile run leaves them out to keep CI short.
PROFILE_EXCLUDES = {"rfc": [], "autobahn": ["--exclude", "12.*,13.*"]}


@pytest.mark.parametrize("profile", ["rfc", "autobahn"])
def test_reference_scores_100_strict(profile, tmp_path):
    echo = binary("wsref-echo")
    rep = tmp_path / "rep"
    res = run_wsconform(["server", server_url(), "--exec", f"{echo} --port {{port}}", "--strict",
                         "--profile", profile, "--agent", "wsref-echo", "--report-dir", rep,
                         "--no-progress", "--color", "never"] + PROFILE_EXCLUDES[profile],
                        timeout=RUN_TIMEOUT)
    cases = only_agent(load_index(rep))
    bad = {cid: (e["behavior"], e["behaviorClose"]) for cid, e in cases.items()
           if e["behavior"] not in PASS_BEHAVIOR_STRICT or e["behaviorClose"] not in PASS_CLOSE}
    assert not bad, (f"wsref-echo under --profile {profile} --strict: {len(bad)} case(s) not "
                     f"OK/INFORMATIONAL: "
                     + ", ".join(f"{c} {v}" for c, v in sorted(bad.items(),
                                                             key=lambda kv: natural_key(kv[0])))
                     + "\n" + describe(res))
    assert res.returncode == 0, describe(res)
    # Every selected server-side case ran (none dropped from the report).
    want = set(server_cases())
    if PROFILE_EXCLUDES[profile]:
        want = {c for c in want if not c.startswith(("12.", "13."))}
    missing = sorted(want - set(cases), key=natural_key)
    assert not missing, f"cases missing from index.json: {missing[:20]}"


def test_plain_wsconform_runs_reference(tmp_path):
    """`wsconform` alone finds wsref-echo, passes, writes reports/servers/.
    The slow bulk categories are left out here: the full catalog against the
    reference is test_reference_scores_100_strict[rfc]."""
    res = run_wsconform(["--no-progress", "--color", "never", "--exclude", "9.*,12.*,13.*"],
                        cwd=tmp_path, timeout=RUN_TIMEOUT)
    assert res.returncode == 0, describe(res)
    html = tmp_path / "reports" / "servers" / "index.html"
    assert html.is_file(), f"no {html}\n" + describe(res)
    assert html.stat().st_size > 1000
    cases = only_agent(load_index(tmp_path / "reports" / "servers"))
    assert len(cases) == len([c for c in server_cases()
                              if not c.startswith(("9.", "12.", "13."))])
    assert "reports/servers/index.html" in res.stdout, describe(res)
