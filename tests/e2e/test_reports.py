"""Report validity: index.json and the per-case JSON in Autobahn's exact layout,
JUnit XML that CI systems parse (name and classname on every testcase,
failures for a planted-bug run), and the HTML report opened in headless
Chromium: its script runs without a console message or an uncaught error,
it loads nothing from the network, and a screenshot is saved.
"""
import json
import re
import shutil
import struct
import xml.etree.ElementTree as ET

import pytest

from e2e_util import (binary, build_mutant, case_passes, describe, load_index, natural_key,
                      only_agent, run_cmd, run_wsconform, server_url)

AGENT = "wsref-echo/1.0 (e2e)"
VERDICTS = {"OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"}
CLOSE_VERDICTS = {"OK", "FAILED", "UNCLEAN", "WRONG CODE", "FAILED BY CLIENT", "INFORMATIONAL"}
INDEX_KEYS = {"behavior", "behaviorClose", "duration", "remoteCloseCode", "reportfile"}
CASE_KEYS = {
    "agent", "behavior", "behaviorClose", "case", "closedByMe", "createStats", "createWirelog",
    "description", "droppedByMe", "duration", "expectation", "expected", "expectedClose",
    "failedByMe", "httpRequest", "httpResponse", "id", "isServer", "localCloseCode",
    "localCloseReason", "received", "remoteCloseCode", "remoteCloseReason",
    "reportCompressionRatio", "reportTime", "result", "resultClose", "rxFrameStats",
    "rxOctetStats", "started", "trafficStats", "txFrameStats", "txOctetStats", "wasClean",
    "wasCloseHandshakeTimeout", "wasNotCleanReason", "wasOpenHandshakeTimeout",
    "wasServerConnectionDropTimeout", "wirelog"}


def _int_keys(obj):
    """Autobahn's statistics dicts have integer keys, which Python 2.7 sorted as numbers."""
    if isinstance(obj, dict):
        ints = bool(obj) and all(k.isdigit() for k in obj)
        return {(int(k) if ints else k): _int_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_int_keys(v) for v in obj]
    return obj


def autobahn_dumps(obj) -> str:
    """How Autobahn (Python 2.7 json.dumps(sort_keys=True, indent=3)) writes JSON."""
    return json.dumps(_int_keys(obj), sort_keys=True, indent=3, separators=(", ", ": "))


def first_diff(got: str, want: str) -> str:
    g, w = got.splitlines(), want.splitlines()
    for i, (a, b) in enumerate(zip(g, w), 1):
        if a != b:
            return f"line {i}: wrote {a!r}, Autobahn writes {b!r}"
    return f"{len(g)} lines written, Autobahn writes {len(w)}"


def agent_file_part(agent: str) -> str:
    """Lower-case, everything outside [a-z0-9] a space, trimmed, each space a '_'."""
    return re.sub(r"[^a-z0-9]", " ", agent.lower()).strip().replace(" ", "_")


@pytest.fixture(scope="module")
def ref_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("reports")
    rep, junit = d / "rep", d / "junit.xml"
    # Every category, but only the first rows of the bulk ones (9.x, 12.x,
    # 13.x take minutes in full; their report fields are the same per row).
    cases = ",".join(["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*", "100.*",
                      "102.*", "103.*", "104.*", "105.*", "9.1.1", "9.7.1", "12.1.1",
                      "12.2.1", "13.1.1", "13.7.1"])
    res = run_wsconform(["server", server_url(), "--exec",
                         f"{binary('wsref-echo')} --port {{port}}", "--agent", AGENT,
                         "--report-dir", rep, "--junit", junit, "--no-progress", "--color",
                         "never", "--cases", cases], timeout=180)
    assert res.returncode in (0, 1), describe(res)
    return {"res": res, "rep": rep, "junit": junit, "dir": d}


def test_index_json_autobahn_layout(ref_run):
    rep = ref_run["rep"]
    raw = (rep / "index.json").read_text(encoding="utf-8")
    index = json.loads(raw)
    assert list(index) == [AGENT]
    cases = index[AGENT]
    assert cases, "no case in index.json"
    want = autobahn_dumps(index)
    assert raw.rstrip("\n") == want, "index.json: " + first_diff(raw, want)
    prefix = agent_file_part(AGENT) + "_case_"
    for cid, e in cases.items():
        assert re.fullmatch(r"\d+(\.\d+)+", cid), cid
        assert set(e) == INDEX_KEYS, (cid, sorted(e))
        assert e["behavior"] in VERDICTS, (cid, e)
        assert e["behaviorClose"] in CLOSE_VERDICTS, (cid, e)
        assert isinstance(e["duration"], int) and e["duration"] >= 0, (cid, e)
        assert e["remoteCloseCode"] is None or isinstance(e["remoteCloseCode"], int), (cid, e)
        assert e["reportfile"] == prefix + cid.replace(".", "_") + ".json", (cid, e)
        assert (rep / e["reportfile"]).is_file(), (cid, e["reportfile"])


def test_per_case_json(ref_run):
    rep = ref_run["rep"]
    cases = only_agent(load_index(rep))
    for cid, e in sorted(cases.items(), key=lambda kv: natural_key(kv[0])):
        raw = (rep / e["reportfile"]).read_text(encoding="utf-8")
        c = json.loads(raw)
        assert set(c) == CASE_KEYS, (cid, sorted(set(c) ^ CASE_KEYS))
        want = autobahn_dumps(c)
        assert raw.rstrip("\n") == want, f"{e['reportfile']}: " + first_diff(raw, want)
        assert c["id"] == cid and c["agent"] == AGENT
        for k in ("behavior", "behaviorClose", "duration", "remoteCloseCode"):
            assert c[k] == e[k], (cid, k, c[k], e[k])
        assert isinstance(c["case"], int) and c["case"] >= 1
        assert c["isServer"] is False  # the harness played the client
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", c["started"]), c["started"]
        assert isinstance(c["expected"], dict) and isinstance(c["received"], list)
        assert set(c["expectedClose"]) >= {"closeCode", "closedByMe", "requireClean"}
        # Category 100 sends wrong methods and raw requests on purpose.
        if not cid.startswith("100."):
            assert c["httpRequest"].startswith("GET "), (cid, c["httpRequest"][:80])
        assert isinstance(c["result"], str) and c["result"], cid
        assert isinstance(c["resultClose"], str) and c["resultClose"], cid
        for k in ("rxOctetStats", "txOctetStats", "rxFrameStats", "txFrameStats"):
            assert isinstance(c[k], dict), (cid, k)
            assert all(isinstance(v, int) for v in c[k].values()), (cid, k)
        assert isinstance(c["wirelog"], list) and c["wirelog"], cid


def _junit_cases(path):
    root = ET.parse(path).getroot()
    assert root.tag in ("testsuites", "testsuite"), root.tag
    tcs = list(root.iter("testcase"))
    for tc in tcs:
        assert tc.get("name"), ET.tostring(tc)[:200]
        assert tc.get("classname"), ET.tostring(tc)[:200]
    return root, tcs


def _junit_id(tc):
    return tc.get("name").split()[0]


def test_junit_reference_run(ref_run):
    cases = only_agent(load_index(ref_run["rep"]))
    root, tcs = _junit_cases(ref_run["junit"])
    assert len(tcs) == len(cases)
    assert {_junit_id(tc) for tc in tcs} == set(cases)
    failing = {c for c, e in cases.items() if not case_passes(e, strict=False)
               and e["behavior"] != "UNIMPLEMENTED"}
    junit_failing = {_junit_id(tc) for tc in tcs
                     if tc.find("failure") is not None or tc.find("error") is not None}
    assert junit_failing == failing
    suites = list(root.iter("testsuite"))
    assert len(suites) == len({c.split(".")[0] for c in cases}), "expected a suite per category"


def test_junit_has_failures_for_a_mutant(tmp_path):
    exe, log = build_mutant("rsv_ignored")
    assert exe, log[-3000:]
    rep, junit = tmp_path / "rep", tmp_path / "junit.xml"
    res = run_wsconform(["server", server_url(), "--exec", f"{exe} --port {{port}}", "--cases",
                         "1.1.1,3.*", "--report-dir", rep, "--junit", junit, "--no-progress",
                         "--color", "never"], timeout=120)
    assert res.returncode == 1, describe(res)
    cases = only_agent(load_index(rep))
    failing = {c for c, e in cases.items() if not case_passes(e, strict=False)}
    assert {"3.1", "3.2"} <= failing, failing
    root, tcs = _junit_cases(junit)
    failed_tcs = [tc for tc in tcs if tc.find("failure") is not None]
    assert {_junit_id(tc) for tc in failed_tcs} == failing
    for tc in failed_tcs:
        f = tc.find("failure")
        assert (f.get("message") or f.text or "").strip(), ET.tostring(tc)[:300]
    counted = sum(int(s.get("failures", 0)) for s in root.iter("testsuite"))
    assert counted == len(failing)


# --------------------------------------------------------------------------
# HTML in headless Chromium
# --------------------------------------------------------------------------

def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    pytest.skip("chromium is not installed (apt install chromium; scripts/setup.sh does)")


def _chromium_run(tmp_path, url, *extra):
    """Run headless Chromium on url; returns (stdout, console lines)."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    res = run_cmd([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                   "--enable-logging=stderr", "--v=0", "--window-size=1280,900", *extra, url],
                  timeout=90)
    assert res.returncode == 0, describe(res)
    console = [ln for ln in res.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    return res.stdout, console


def test_console_check_detects_a_broken_page(tmp_path):
    """The checker below must see a script error (or it proves nothing)."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>x</p><script>noSuchFunction();</script></body></html>")
    _, console = _chromium_run(tmp_path, page.as_uri(), "--dump-dom")
    assert any("Uncaught" in ln for ln in console), console


def test_html_report_in_chromium(ref_run, tmp_path):
    html = ref_run["rep"] / "index.html"
    text = html.read_text(encoding="utf-8")
    # Self-contained: nothing is fetched from anywhere.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text, re.I), \
        "the report loads an external resource"
    cases = only_agent(load_index(ref_run["rep"]))
    for cid in list(cases)[:5]:
        assert cid in text

    # Open the detail panel of the first case through the URL hash: the
    # report's own script shows it on load, so the dumped DOM proves it ran.
    m = re.search(r'id="(d\d+)"', text)
    assert m, "no per-case detail element in the report"
    detail = m.group(1)
    url = html.as_uri() + "#" + detail
    dom, console = _chromium_run(tmp_path, url, "--dump-dom")
    assert not console, "console output from the report:\n" + "\n".join(console)
    assert re.search(r'id="panel"[^>]*style="[^"]*display:\s*block', dom), \
        "the report's script did not open the detail panel for " + url
    assert re.search(rf'id="{detail}"[^>]*style="[^"]*display:\s*block', dom)

    shot = tmp_path / "report.png"
    _, console = _chromium_run(tmp_path, url, f"--screenshot={shot}")
    assert not console, "console output from the report:\n" + "\n".join(console)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (1280, 900), (w, h)
    assert len(data) > 20000, f"screenshot suspiciously small ({len(data)} bytes): blank page?"
    print(f"screenshot: {shot}")
