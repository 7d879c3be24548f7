"""End-to-end tests of client mode (`wsconform client`), Autobahn spec files
(`wsconform --spec`), `wsconform report` (judge, merge) and --shard.

Every subprocess runs with a hard timeout. Peers that are not installed
(python3-websockets, npm ws, chromium) make their test skip, never pass.
"""
import base64
import json
import os
import pathlib
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from conftest import REPO, find_binary

PEERS = REPO / "scripts" / "peers"
DEBIAN_PY = "/usr/bin/python3"
T = 300  # hard timeout of one full client run (s)


def wsconform():
    return str(find_binary("wsconform"))


def run(args, timeout=T, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def index(d):
    with open(os.path.join(d, "index.json")) as f:
        return json.load(f)


def passed(e):
    return e["behavior"] in ("OK", "NON-STRICT", "INFORMATIONAL") and \
        e["behaviorClose"] in ("OK", "INFORMATIONAL")


def client_case_ids(selection=()):
    args = [wsconform(), "list", "--json"]
    for s in selection:
        args += ["--cases", s]
    res = run(args, timeout=60)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    cases = data["cases"] if isinstance(data, dict) else data
    return [c["id"] for c in cases if c.get("side") in ("client", "both")]


# ---------------------------------------------------------------- a raw test client

SLOPPY = r'''
import base64, os, socket, struct, sys
# A deliberately sloppy client: never checks the handshake answer.
# mode echo: echo every data message; mode silent: read and ignore everything.
url, mode = sys.argv[1], sys.argv[2]
host, port = url[5:].split(":")
def conn(path):
    s = socket.create_connection((host, int(port)), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)).encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d: return s, b""
        buf += d
    return s, buf.split(b"\r\n\r\n", 1)[1]
def send(s, op, p):
    m = os.urandom(4)
    h = bytes([0x80 | op])
    n = len(p)
    h += bytes([0x80 | n]) if n < 126 else (bytes([0xfe]) + struct.pack(">H", n) if n < 65536 else bytes([0xff]) + struct.pack(">Q", n))
    s.sendall(h + m + bytes(b ^ m[i % 4] for i, b in enumerate(p)))
def frames(s, buf):
    while True:
        while len(buf) < 2 or len(buf) < 2 + {126: 2, 127: 8}.get(buf[1] & 127, 0):
            d = s.recv(65536)
            if not d: return
            buf += d
        n = buf[1] & 127; o = 2
        if n == 126: n = struct.unpack(">H", buf[2:4])[0]; o = 4
        elif n == 127: n = struct.unpack(">Q", buf[2:10])[0]; o = 10
        while len(buf) < o + n:
            d = s.recv(65536)
            if not d: return
            buf += d
        yield buf[0] & 15, buf[o:o + n]
        buf = buf[o + n:]
s, rest = conn("/getCaseCount")
count = int([p for op, p in frames(s, rest) if op == 1][0])
s.close()
for i in range(1, count + 1):
    s, rest = conn("/runCase?case=%d&agent=sloppy" % i)
    s.settimeout(15)
    try:
        for op, p in frames(s, rest):
            if op in (1, 2) and mode == "echo": send(s, op, p)
            elif op == 9: send(s, 10, p)
            elif op == 8: send(s, 8, p[:2]); break
    except OSError:
        pass
    s.close()
s, rest = conn("/updateReports?agent=sloppy")
s.close()
'''


@pytest.fixture(scope="module")
def sloppy(tmp_path_factory):
    p = tmp_path_factory.mktemp("sloppy") / "sloppy.py"
    p.write_text(SLOPPY)
    return p


# ---------------------------------------------------------------- raw protocol helper

class Ws:
    """Minimal blocking WebSocket client for poking the URL protocol."""

    def __init__(self, port, path, host_header=None):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET {path} HTTP/1.1\r\nHost: {host_header or '127.0.0.1:%d' % port}\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = self.s.recv(4096)
            assert d, "closed during the handshake"
            buf += d
        self.head, self.buf = buf.split(b"\r\n\r\n", 1)
        self.status = int(self.head.split()[1])

    def frame(self):
        while True:
            if len(self.buf) >= 2:
                n, o = self.buf[1] & 127, 2
                if n == 126 and len(self.buf) >= 4:
                    n, o = struct.unpack(">H", self.buf[2:4])[0], 4
                if len(self.buf) >= o + n and n < 126:
                    op, p = self.buf[0] & 15, self.buf[o:o + n]
                    self.buf = self.buf[o + n:]
                    return op, p
                if o == 4 and len(self.buf) >= o + n:
                    op, p = self.buf[0] & 15, self.buf[o:o + n]
                    self.buf = self.buf[o + n:]
                    return op, p
            d = self.s.recv(65536)
            if not d:
                return None, None
            self.buf += d

    def send(self, op, p):
        m = os.urandom(4)
        assert len(p) < 126
        self.s.sendall(bytes([0x80 | op, 0x80 | len(p)]) + m +
                       bytes(b ^ m[i % 4] for i, b in enumerate(p)))

    def message(self):
        while True:
            op, p = self.frame()
            if op is None or op == 8:
                return op, p
            if op in (1, 2):
                return op, p

    def close(self):
        try:
            self.send(8, b"\x03\xe8")
        except OSError:
            pass
        self.s.close()


def start_client_mode(tmp_path, *extra):
    port = free_port()
    rep = tmp_path / "rep"
    p = subprocess.Popen([wsconform(), "client", "--listen", f"127.0.0.1:{port}",
                          "--report-dir", str(rep), *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, port, rep
        except OSError:
            if p.poll() is not None:
                break
            time.sleep(0.05)
    p.kill()
    pytest.fail("client mode did not listen: " + p.stderr.read())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- tests


def test_wsref_client_passes_every_client_case(tmp_path):
    rep = tmp_path / "rep"
    client = find_binary("wsref-client")
    res = run([wsconform(), "client", "--listen", "127.0.0.1:0", "--report-dir", str(rep),
               "--exec", f"{client} {{url}} --agent wsref-client"])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    idx = index(rep)
    assert list(idx) == ["wsref-client"]
    ids = client_case_ids()
    got = idx["wsref-client"]
    assert sorted(got) == sorted(ids)
    bad = {k: v for k, v in got.items() if not passed(v) and v["behavior"] != "UNIMPLEMENTED"}
    assert not bad
    # wsref-client offers client_max_window_bits, so 101.4.2 does not apply to it
    assert got["101.4.2"]["behavior"] == "UNIMPLEMENTED"
    for cid in ("101.1.1", "101.2.1", "101.5.1"):
        case = json.load(open(rep / got[cid]["reportfile"]))
        assert case["isServer"] is True
    assert "101 Switching" in json.load(open(rep / got["101.5.1"]["reportfile"]))["httpResponse"]


@pytest.mark.parametrize("mode", ["echo", "silent"])
def test_sloppy_client_fails_handshake_cases(tmp_path, sloppy, mode):
    rep = tmp_path / "rep"
    res = run([wsconform(), "client", "--listen", "127.0.0.1:0", "--report-dir", str(rep),
               "--cases", "101.*", "--exec", f"{sys.executable} {sloppy} {{url}} {mode}"],
              timeout=120)
    assert res.returncode == 1, res.stdout + res.stderr
    got = index(rep)["sloppy"]
    for cid, e in got.items():
        if cid.startswith("101.5."):
            if mode == "echo":
                assert passed(e), (cid, e)
            else:
                assert not passed(e), (cid, e)
        else:
            assert e["behavior"] == "FAILED", (cid, e)
            assert e["behaviorClose"] == "FAILED", (cid, e)
    case = json.load(open(rep / got["101.1.1"]["reportfile"]))
    if mode == "echo":
        assert "did not fail the connection" in case["result"] + case["resultClose"]


def test_url_protocol_by_hand(tmp_path, sloppy):
    p, port, rep = start_client_mode(tmp_path, "--cases", "1.1.1,1.1.2,1.1.3")
    try:
        w = Ws(port, "/getCaseCount", host_header="anything.example:1")
        assert w.status == 101
        assert w.message() == (1, b"3")
        w.close()
        w = Ws(port, "/getCaseInfo?case=2")
        info = json.loads(w.message()[1])
        assert info["id"] == "1.1.2" and info["description"]
        w.close()
        # two runCase connections at once (different cases), echoed by hand
        ws = [Ws(port, "/runCase?casetuple=1.1.3&agent=hand"),
              Ws(port, "/runCase?case=1&agent=hand")]
        for w in ws:
            op, msg = w.message()
            assert op == 1
            w.send(1, msg if len(msg) < 126 else b"")
        for w in ws:
            w.s.settimeout(5)
            op, _ = w.message()
            assert op == 8
            w.close()
        time.sleep(0.3)
        w = Ws(port, "/getCaseStatus?case=1&agent=hand")
        assert json.loads(w.message()[1]) == {"behavior": "OK"}
        w.close()
        # a bad runCase: HTTP 500
        w = Ws(port, "/runCase?case=99&agent=hand")
        assert w.status == 500
        # the browser page
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        page = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            page += d
        assert page.startswith(b"HTTP/1.1 200") and b"getCaseCount" in page
        assert b"arraybuffer" in page and b"updateReports" in page
        w = Ws(port, "/updateReports?agent=hand")
        w.message()
        w.close()
        time.sleep(0.3)
        idx = index(rep)
        assert set(idx["hand"]) == {"1.1.1", "1.1.3"}
        w = Ws(port, "/stopServer")
        w.message()
        w.close()
        rc = p.wait(timeout=30)
        assert rc == 3  # 1.1.2 never ran for agent "hand"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_python_websockets_client(tmp_path):
    if subprocess.run([DEBIAN_PY, "-c", "import websockets"], capture_output=True).returncode:
        pytest.skip("python3-websockets not installed (apt install python3-websockets)")
    rep = tmp_path / "rep"
    res = run([wsconform(), "client", "--listen", "127.0.0.1:0", "--report-dir", str(rep),
               "--exec", f"{DEBIAN_PY} {PEERS / 'python-websockets-client.py'} {{url}}"])
    assert res.returncode in (0, 1), res.stdout[-2000:] + res.stderr[-2000:]
    idx = index(rep)
    (agent,) = idx
    assert agent.startswith("python-websockets/")
    assert sorted(idx[agent]) == sorted(client_case_ids())
    assert all(e["behavior"] in ("OK", "UNIMPLEMENTED") for k, e in idx[agent].items()
               if k.startswith("101."))


def test_ws_client(tmp_path):
    if not (PEERS / "node_modules" / "ws").is_dir() or not shutil.which("node"):
        pytest.skip("npm ws not installed (scripts/peers/install.sh)")
    rep = tmp_path / "rep"
    res = run([wsconform(), "client", "--listen", "127.0.0.1:0", "--report-dir", str(rep),
               "--exec", f"node {PEERS / 'ws-client.js'} {{url}}"])
    assert res.returncode in (0, 1), res.stdout[-2000:] + res.stderr[-2000:]
    idx = index(rep)
    (agent,) = idx
    assert agent.startswith("ws/")
    assert sorted(idx[agent]) == sorted(client_case_ids())


def test_chromium(tmp_path):
    if not os.access("/usr/bin/chromium", os.X_OK):
        pytest.skip("chromium not installed")
    rep = tmp_path / "rep"
    prof = tmp_path / "profile"
    cmd = ("/usr/bin/chromium --headless --no-sandbox --disable-gpu "
           "--disable-background-networking --disable-component-update --disable-sync "
           f"--no-first-run --user-data-dir={prof} "
           "'http://127.0.0.1:{port}/?autorun=1&shutdown=1&agent=Chromium'")
    res = run([wsconform(), "client", "--listen", "127.0.0.1:0", "--report-dir", str(rep),
               "--exec", cmd])
    assert res.returncode in (0, 1), res.stdout[-2000:] + res.stderr[-2000:]
    idx = index(rep)
    assert list(idx) == ["Chromium"]
    got = idx["Chromium"]
    assert sorted(got) == sorted(client_case_ids())
    for k, e in got.items():
        if k.startswith("101."):
            assert e["behavior"] in ("OK", "UNIMPLEMENTED"), (k, e)


def test_client_crash_and_no_client(tmp_path):
    res = run([wsconform(), "client", "--listen", "127.0.0.1:0", "--report-dir",
               str(tmp_path / "a"), "--exec", "kill -SEGV $$"], timeout=60)
    assert res.returncode == 4, res.stderr
    res = run([wsconform(), "client", "--listen", "127.0.0.1:0", "--report-dir",
               str(tmp_path / "b"), "--exec", "true"], timeout=60)
    assert res.returncode == 3, res.stderr


def test_usage_errors():
    for args in (["client"], ["client", "--listen", "nonsense"],
                 ["client", "--listen", "127.0.0.1:0", "--shard", "3/3"],
                 ["client", "--listen", "127.0.0.1:0", "--bogus"],
                 ["report"], ["report", "merge", "x"], ["server", "ws://x", "--shard", "a"]):
        res = run([wsconform(), *args], timeout=30)
        assert res.returncode == 2, (args, res.stderr)


# ---------------------------------------------------------------- spec files


@pytest.fixture
def echo_server():
    p = subprocess.Popen([str(find_binary("wsref-echo")), "--port", "0", "--host", "127.0.0.1"],
                         stdout=subprocess.PIPE, text=True)
    port = int(p.stdout.readline())
    yield port
    p.terminate()
    p.wait(timeout=10)


def test_spec_fuzzingclient(tmp_path, echo_server):
    out = tmp_path / "out"
    spec = {
        "outdir": str(out),
        "options": {"failByDrop": False},
        "servers": [{"agent": "EchoA", "url": f"ws://127.0.0.1:{echo_server}"},
                    {"agent": "EchoB", "url": f"ws://127.0.0.1:{echo_server}",
                     "options": {"version": 18}}],
        "cases": ["1.1.*", "2.1"],
        "exclude-cases": ["1.1.8"],
        "exclude-agent-cases": {"EchoB": ["1.1.2"]},
    }
    f = tmp_path / "fuzzingclient.json"
    f.write_text(json.dumps(spec))
    res = run([wsconform(), "--spec", str(f)])
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    idx = index(out)
    want = {f"1.1.{i}" for i in range(1, 8)} | {"2.1"}
    assert set(idx["EchoA"]) == want
    assert set(idx["EchoB"]) == want - {"1.1.2"}
    assert all(passed(e) for a in idx.values() for e in a.values())
    assert (out / idx["EchoB"]["2.1"]["reportfile"]).is_file()


def test_spec_fuzzingserver(tmp_path):
    out = tmp_path / "out"
    port = free_port()
    spec = {"url": f"ws://127.0.0.1:{port}", "outdir": str(out), "options": {},
            "webport": 8080, "cases": ["1.1.*", "7.1.1"], "exclude-cases": ["1.1.7"],
            "exclude-agent-cases": {"wsref*": ["1.1.2"]}}
    f = tmp_path / "fuzzingserver.json"
    f.write_text(json.dumps(spec))
    client = find_binary("wsref-client")
    res = run([wsconform(), "--spec", str(f), "--exec", f"{client} {{url}} --agent wsref-x"])
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    got = index(out)["wsref-x"]
    assert set(got) == {f"1.1.{i}" for i in (1, 3, 4, 5, 6, 8)} | {"7.1.1"}


def test_spec_errors(tmp_path):
    for text in ("{", "[]", '{"servers": [], "url": "ws://x:1"}', '{"servers": 3}',
                 '{"url": "http://x"}', '{"url": "ws://127.0.0.1:1", "cases": "1.*"}'):
        f = tmp_path / "s.json"
        f.write_text(text)
        res = run([wsconform(), "--spec", str(f)], timeout=30)
        assert res.returncode == 2, (text, res.stderr)
    res = run([wsconform(), "--spec", str(tmp_path / "missing.json")], timeout=30)
    assert res.returncode == 2


# ---------------------------------------------------------------- report, merge, shard

def write_report(d, entries, texts=None):
    d.mkdir(parents=True, exist_ok=True)
    idx = {}
    for (agent, cid), (b, c) in entries.items():
        rf = f"{agent.lower()}_case_{cid.replace('.', '_')}.json"
        idx.setdefault(agent, {})[cid] = {"behavior": b, "behaviorClose": c, "duration": 3,
                                          "remoteCloseCode": 1000, "reportfile": rf}
        if texts and (agent, cid) in texts:
            (d / rf).write_text(json.dumps({"result": texts[(agent, cid)],
                                            "resultClose": "close text"}))
    (d / "index.json").write_text(json.dumps(idx, indent=3, sort_keys=True))


def test_report_judges_hand_made_directory(tmp_path):
    ok = tmp_path / "ok"
    write_report(ok, {("AutobahnPython", "1.1.1"): ("OK", "OK"),
                      ("AutobahnPython", "6.4.1"): ("NON-STRICT", "OK"),
                      ("AutobahnPython", "12.1.1"): ("UNIMPLEMENTED", "OK"),
                      ("Other", "7.1.6"): ("INFORMATIONAL", "INFORMATIONAL")})
    j = tmp_path / "ok.xml"
    res = run([wsconform(), "report", str(ok), "--junit", str(j)], timeout=30)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "<skipped" in j.read_text() and "<failure" not in j.read_text()
    res = run([wsconform(), "report", str(ok / "index.json"), "--strict"], timeout=30)
    assert res.returncode == 1
    bad = tmp_path / "bad"
    write_report(bad, {("A", "1.1.1"): ("OK", "OK"), ("A", "5.1"): ("OK", "UNCLEAN"),
                       ("A", "2.3"): ("FAILED", "OK")},
                 texts={("A", "2.3"): "expected pong got nothing"})
    j = tmp_path / "bad.xml"
    res = run([wsconform(), "report", str(bad), "--junit", str(j)], timeout=30)
    assert res.returncode == 1
    assert "2.3" in res.stdout and "expected pong got nothing" in res.stdout
    x = j.read_text()
    assert x.count("<failure") == 2 and 'classname="autobahn.a.2"' in x
    assert "expected pong got nothing" in x


def test_report_malformed(tmp_path):
    cases = ['{"A": {"1.1.1": {"behavior": "GREAT", "behaviorClose": "OK"}}}',
             '{"A": {"1.1.1": {"behavior": "OK"}}}', '{"A": [1]}', "[]", "{,}",
             '{"A": {"1.1.1": {"behavior": "OK", "behaviorClose": "OK", '
             '"reportfile": "../x.json"}}}']
    for text in cases:
        d = tmp_path / "m"
        d.mkdir(exist_ok=True)
        (d / "index.json").write_text(text)
        res = run([wsconform(), "report", str(d)], timeout=30)
        assert res.returncode == 2, (text, res.stdout, res.stderr)
    res = run([wsconform(), "report", str(tmp_path / "nothing")], timeout=30)
    assert res.returncode == 2


def test_shards_and_merge(tmp_path, echo_server):
    client = find_binary("wsref-client")
    dirs = []
    for i in range(3):
        d = tmp_path / f"c{i}"
        res = run([wsconform(), "client", "--listen", "127.0.0.1:0", "--report-dir", str(d),
                   "--cases", "1.1.*,1.2.*", "--shard", f"{i}/3",
                   "--exec", f"{client} {{url}} --agent wsref-client"])
        assert res.returncode == 0, res.stderr
        dirs.append(str(d))
    ids = client_case_ids(["1.1.*", "1.2.*"])
    sizes = [len(index(d)["wsref-client"]) for d in dirs]
    assert sum(sizes) == len(ids) and max(sizes) - min(sizes) <= 1
    assert set(index(dirs[1])["wsref-client"]) == set(ids[1::3])
    out = tmp_path / "merged"
    res = run([wsconform(), "report", "merge", *dirs, "--report-dir", str(out)], timeout=60)
    assert res.returncode == 0, res.stderr
    merged = index(out)["wsref-client"]
    assert sorted(merged) == sorted(ids)
    assert all((out / e["reportfile"]).is_file() for e in merged.values())
    assert (out / "index.html").is_file()
    assert run([wsconform(), "report", str(out)], timeout=30).returncode == 0
    # the same pair twice is an error
    res = run([wsconform(), "report", "merge", dirs[0], dirs[0], "--report-dir",
               str(tmp_path / "dup")], timeout=30)
    assert res.returncode == 2
    # server mode shards
    sd = []
    for i in range(2):
        d = tmp_path / f"s{i}"
        res = run([wsconform(), "server", f"ws://127.0.0.1:{echo_server}", "--agent", "echo",
                   "--cases", "1.1.*", "--shard", f"{i}/2", "--report-dir", str(d)])
        assert res.returncode == 0, res.stderr
        sd.append(set(index(d)["echo"]))
    assert sd[0].isdisjoint(sd[1]) and len(sd[0] | sd[1]) == 8
