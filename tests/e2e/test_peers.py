"""Third-party servers give their recorded verdicts.

python3-websockets (Debian's 10.4) and npm `ws` 8 run as echo servers
(scripts/peers/) through wsconform over categories 1-7, 10, 100, 102 and 103.
tests/e2e/golden/<peer>.json maps each case ID to [behavior, behaviorClose],
or to a list of such pairs when several were seen; any difference fails the
test with the list of changed cases, with one exception: a case that itself
declares both an OK and a NON-STRICT alternative (Autobahn's fail-fast cases,
where whether the echo of the valid message leaves before the peer fails the
connection depends on the peer's scheduling) may move between those two.
Regenerate the golden files after a deliberate change with
WSCONFORM_UPDATE_GOLDEN=1 (each peer then runs UPDATE_RUNS times and every
outcome seen is recorded) and review the diff. Every verdict that is not OK
must come with its explanation (`result` / `resultClose` in the per-case JSON).
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from e2e_util import (HERE, REPO, describe, load_case_report, load_index, natural_key,
                      only_agent, run_wsconform, server_url)

CATEGORIES = ["1", "2", "3", "4", "5", "6", "7", "10", "100", "102", "103"]
PEERS_DIR = REPO / "scripts" / "peers"
GOLDEN = HERE / "golden"
RUN_TIMEOUT = 180
UPDATE_RUNS = 3


def _python_peer():
    py = sys.executable
    ok = subprocess.run([py, "-c", "import websockets"], capture_output=True).returncode == 0
    if not ok:
        pytest.skip(f"python websockets is not importable by {py} "
                    "(apt install python3-websockets; scripts/setup.sh does)")
    return f"{py} {PEERS_DIR / 'python-websockets-server.py'} --port {{port}}"


def _ws_peer():
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed (run scripts/peers/install.sh)")
    if not (PEERS_DIR / "node_modules" / "ws" / "package.json").is_file():
        pytest.skip("npm ws is not installed in scripts/peers/node_modules "
                    "(run scripts/peers/install.sh)")
    return f"{node} {PEERS_DIR / 'ws-server.js'} {{port}}"


PEERS = {"python-websockets": _python_peer, "ws": _ws_peer}


def _allowed(golden_value):
    """The [behavior, behaviorClose] pairs a golden entry allows."""
    if golden_value and isinstance(golden_value[0], list):
        return [tuple(v) for v in golden_value]
    return [tuple(golden_value)]


RACY = {"OK", "NON-STRICT"}


def _diff(golden, got, alts):
    """Changed cases; alts: case ID -> the verdicts the case declares alternatives for."""
    lines = []
    for cid in sorted(set(golden) | set(got), key=natural_key):
        g, n = golden.get(cid), got.get(cid)
        if g is not None and n is not None:
            allowed = _allowed(g)
            if tuple(n) in allowed:
                continue
            if RACY <= alts.get(cid, set()) and all(
                    a[0] in RACY and n[0] in RACY and a[1] == n[1] for a in allowed):
                continue
        lines.append(f"  {cid}: golden {g} -> now {n}")
    return lines


def _run_peer(peer, cmd, rep):
    res = run_wsconform(["server", server_url(), "--exec", cmd, "--agent", peer,
                         "--cases", ",".join(f"{c}.*" for c in CATEGORIES),
                         "--report-dir", rep, "--no-progress", "--color", "never"],
                        timeout=RUN_TIMEOUT)
    assert res.returncode in (0, 1), describe(res)
    cases = only_agent(load_index(rep))
    assert {c.split(".")[0] for c in cases} <= set(CATEGORIES)

    # Every verdict that is not OK says why.
    unexplained = []
    alts = {}
    for cid, e in cases.items():
        rpt = load_case_report(rep, e)
        alts[cid] = set(rpt.get("expected") or {})
        if e["behavior"] != "OK" and not (rpt.get("result") or "").strip():
            unexplained.append(f"{cid} behavior {e['behavior']} with an empty result")
        if e["behaviorClose"] != "OK" and not (rpt.get("resultClose") or "").strip():
            unexplained.append(f"{cid} behaviorClose {e['behaviorClose']} with an empty "
                               "resultClose")
    assert not unexplained, "\n".join(unexplained)
    return {cid: [e["behavior"], e["behaviorClose"]] for cid, e in cases.items()}, alts


@pytest.mark.parametrize("peer", sorted(PEERS))
def test_peer_verdicts_match_golden(peer, tmp_path):
    cmd = PEERS[peer]()
    path = GOLDEN / f"{peer}.json"
    if os.environ.get("WSCONFORM_UPDATE_GOLDEN") == "1":
        seen = {}
        for i in range(UPDATE_RUNS):
            for cid, pair in _run_peer(peer, cmd, tmp_path / f"rep{i}")[0].items():
                if pair not in seen.setdefault(cid, []):
                    seen[cid].append(pair)
        golden = {cid: (v[0] if len(v) == 1 else sorted(v))
                  for cid, v in sorted(seen.items(), key=lambda kv: natural_key(kv[0]))}
        GOLDEN.mkdir(exist_ok=True)
        path.write_text("{\n" + ",\n".join(f" {json.dumps(c)}: {json.dumps(v)}"
                                           for c, v in golden.items()) + "\n}\n")
        return
    assert path.is_file(), (f"no golden file {path}: run with WSCONFORM_UPDATE_GOLDEN=1 "
                            "to record one")
    golden = json.loads(path.read_text())
    rep = tmp_path / "rep"
    diff = _diff(golden, *_run_peer(peer, cmd, rep))
    assert not diff, (f"{peer}: {len(diff)} case(s) changed against {path.name} (rerun with "
                      "WSCONFORM_UPDATE_GOLDEN=1 if the change is deliberate):\n"
                      + "\n".join(diff) + f"\nreport: {rep}/index.html")


def test_peer_scripts_exit_cleanly_on_sigterm(tmp_path):
    """The peers print their port and exit 0 on SIGTERM (what --exec relies on)."""
    import signal
    import socket
    import time

    ran = 0
    for peer, make in sorted(PEERS.items()):
        try:
            cmd = make().replace("{port}", "0")
        except pytest.skip.Exception:
            continue
        p = subprocess.Popen(cmd.split(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
        try:
            line = p.stdout.readline().strip()
            assert line.isdigit(), (peer, line, p.stderr.read() if p.poll() is not None else "")
            with socket.create_connection(("127.0.0.1", int(line)), timeout=5):
                pass
            time.sleep(0.2)
            p.send_signal(signal.SIGTERM)
            assert p.wait(timeout=10) == 0, (peer, p.stderr.read())
            ran += 1
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    if not ran:
        pytest.skip("no peer installed")
