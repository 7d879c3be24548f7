"""A hostile server never crashes or hangs the harness.

Each server below is a few lines of Python on raw sockets (one thread per
connection) that misbehaves in one way. wsconform runs a handful of cases
against each with -j 4; it must finish within a bounded time with a report
and a verdict for every selected case, exit 1 (failures) or 3 (could not
test), never die by a signal, and print no sanitizer report. All servers run
at once (one wsconform each), so the file takes about as long as its slowest
server.
"""
import base64
import concurrent.futures as cf
import hashlib
import os
import re
import socket
import threading
import time

import pytest

from e2e_util import (CRASH_TEXT, describe, load_case_report, load_index, only_agent,
                      run_wsconform)

CASES = ["1.1.1", "2.1", "5.19"]
BOUND = 60  # seconds a run may take, at most
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _read_head(conn, limit=65536):
    """Read an HTTP request head; returns the Sec-WebSocket-Key (or b"")."""
    buf = b""
    while b"\r\n\r\n" not in buf and len(buf) < limit:
        d = conn.recv(4096)
        if not d:
            return None
        buf += d
    m = re.search(rb"(?im)^sec-websocket-key:\s*(\S+)\s*$", buf)
    return m.group(1) if m else b""


def _accept(key):
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def _upgrade(conn, accept=True):
    key = _read_head(conn)
    if key is None:
        return False
    head = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\n")
    if accept:
        head += b"Sec-WebSocket-Accept: " + _accept(key) + b"\r\n"
    conn.sendall(head + b"\r\n")
    return True


def _drain_until_closed(conn, stop):
    conn.settimeout(0.2)
    while not stop.is_set():
        try:
            if not conn.recv(65536):
                return
        except socket.timeout:
            continue


def _trickle(conn, stop, data, interval):
    """Send data one byte every interval seconds until the peer goes or stop."""
    conn.settimeout(0)
    for b in data:
        if stop.wait(interval):
            return
        try:
            conn.recv(65536)
        except BlockingIOError:
            pass
        except OSError:
            return
        conn.sendall(bytes([b]))


# ---- behaviours: each gets (conn, stop) and misbehaves ------------------------

def garbage_after_handshake(conn, stop):
    if _upgrade(conn):
        conn.sendall(os.urandom(8192))
        _drain_until_closed(conn, stop)


def endless_frame(conn, stop):
    # A binary frame announcing 1 GiB, then a trickle of payload.
    if _upgrade(conn):
        conn.sendall(bytes([0x82, 127]) + (1 << 30).to_bytes(8, "big") + b"x" * 100)
        _trickle(conn, stop, b"y" * 100000, 0.05)


def length_2_63(conn, stop):
    if _upgrade(conn):
        conn.sendall(bytes([0x82, 127]) + (1 << 63).to_bytes(8, "big") + b"z" * 64)
        _drain_until_closed(conn, stop)


def byte_per_second(conn, stop):
    key = _read_head(conn)
    if key is not None:
        head = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + _accept(key) + b"\r\n\r\n")
        _trickle(conn, stop, head, 1.0)


def no_accept_header(conn, stop):
    if _upgrade(conn, accept=False):
        _drain_until_closed(conn, stop)


def never_closes(conn, stop):
    # A valid upgrade, then it reads everything and never writes or closes.
    if _upgrade(conn):
        _drain_until_closed(conn, stop)
        stop.wait()


def never_answers_upgrade(conn, stop):
    _drain_until_closed(conn, stop)
    stop.wait()


def closes_at_once(conn, stop):
    pass  # closed by the server loop as soon as we return


BEHAVIOURS = {f.__name__: f for f in (garbage_after_handshake, endless_frame, length_2_63,
                                      byte_per_second, no_accept_header, never_closes,
                                      never_answers_upgrade, closes_at_once)}


class HostileServer:
    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.stop = threading.Event()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.ls.settimeout(0.2)
        self.port = self.ls.getsockname()[1]
        self.conns = []
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            self.conns.append(c)
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        try:
            self.behaviour(c, self.stop)
        except OSError:
            pass
        finally:
            if self.behaviour is not never_closes and self.behaviour is not never_answers_upgrade:
                c.close()

    def close(self):
        self.stop.set()
        self.ls.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.thread.join(5)


def _attack(name, base):
    srv = HostileServer(BEHAVIOURS[name])
    rep = base / name
    try:
        t0 = time.monotonic()
        res = run_wsconform(["server", f"ws://127.0.0.1:{srv.port}/", "--cases", ",".join(CASES),
                             "-j", "4", "--agent", name, "--report-dir", rep, "--no-progress",
                             "--color", "never"], timeout=BOUND + 30)
        return {"res": res, "elapsed": time.monotonic() - t0, "rep": rep,
                "accepted": srv.accepted}
    finally:
        srv.close()


@pytest.fixture(scope="module")
def attacks(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    with cf.ThreadPoolExecutor(len(BEHAVIOURS)) as ex:
        futs = {n: ex.submit(_attack, n, base) for n in BEHAVIOURS}
        return {n: f.result() for n, f in futs.items()}


@pytest.mark.parametrize("name", sorted(BEHAVIOURS))
def test_hostile_server(attacks, name):
    a = attacks[name]
    res = a["res"]
    assert res.returncode >= 0, f"wsconform died by signal {-res.returncode}\n" + describe(res)
    assert not CRASH_TEXT.search(res.stderr), describe(res)
    assert a["elapsed"] < BOUND, f"took {a['elapsed']:.1f} s\n" + describe(res)
    assert res.returncode in (1, 3), describe(res)
    assert a["accepted"] >= 1, "wsconform never connected"
    cases = only_agent(load_index(a["rep"]))
    assert sorted(cases) == sorted(CASES), describe(res)
    for cid, e in cases.items():
        assert e["behavior"] and e["behaviorClose"], (cid, e)
        assert load_case_report(a["rep"], e)["result"].strip(), (cid, "empty result text")
    # Nothing can pass against these servers.
    assert all(e["behavior"] == "FAILED" or e["behaviorClose"] != "OK"
               for e in cases.values()), {c: (e["behavior"], e["behaviorClose"])
                                          for c, e in cases.items()}
