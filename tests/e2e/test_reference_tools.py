"""End-to-end tests of libwsref's tools: wsref-echo against python-websockets
and raw-socket probes, wsref-client against a tiny fuzzingserver stub.

Every test has a hard deadline: sockets carry timeouts, asyncio work runs
under wait_for, and every process is killed in a finally block.
"""
import asyncio
import base64
import hashlib
import os
import select
import signal
import socket
import ssl
import struct
import subprocess
import time
import urllib.parse

import pytest
import websockets

from conftest import find_binary

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
DEADLINE = 20.0  # seconds for any one asyncio exchange


# --------------------------------------------------------------------------
# wsref-echo process management
# --------------------------------------------------------------------------


class Echo:
    def __init__(self, proc: subprocess.Popen, port: int):
        self.proc = proc
        self.port = port

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"


def start_echo(*args: str) -> Echo:
    """Start wsref-echo --port 0 and read its port line (no sleeping)."""
    exe = find_binary("wsref-echo")
    proc = subprocess.Popen([str(exe), "--port", "0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        line = proc.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            err = b""
            if proc.poll() is not None:
                err = proc.stderr.read()
            raise AssertionError(f"wsref-echo printed no port: {line!r} {err!r}")
        return Echo(proc, int(line))
    except BaseException:
        stop(proc)
        raise


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def finish(e: Echo) -> str:
    """Stop a server with SIGTERM; it must exit 0 with no sanitizer report.
    Returns its stderr."""
    if e.proc.poll() is None:
        e.proc.send_signal(signal.SIGTERM)
    try:
        rc = e.proc.wait(timeout=10)
    finally:
        stop(e.proc)
    err = e.proc.stderr.read().decode(errors="replace")
    assert "Sanitizer" not in err and "runtime error" not in err, err
    assert rc == 0, f"wsref-echo exited {rc}: {err}"
    return err


@pytest.fixture
def echo():
    e = start_echo()
    try:
        yield e
    except BaseException:
        stop(e.proc)
        raise
    finish(e)


@pytest.fixture
def echo_factory():
    started = []

    def make(*args):
        e = start_echo(*args)
        started.append(e)
        return e

    yield make
    for e in started:
        finish(e)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, DEADLINE))


# --------------------------------------------------------------------------
# python-websockets client against wsref-echo
# --------------------------------------------------------------------------


async def roundtrip(url, messages, **kw):
    kw.setdefault("max_size", None)
    kw.setdefault("open_timeout", 5)
    kw.setdefault("close_timeout", 5)
    async with websockets.connect(url, **kw) as ws:
        got = []
        for m in messages:
            await ws.send(m)
            got.append(await ws.recv())
        return got, ws.response_headers.get("Sec-WebSocket-Extensions")


def test_text_message_is_echoed_as_text(echo):
    msgs = ["hello", "", "γειά σου κόσμε — 你好 🌍"]
    got, _ = run(roundtrip(echo.url, msgs, compression=None))
    assert got == msgs
    assert all(isinstance(g, str) for g in got)


def test_binary_message_is_echoed_as_binary(echo):
    msgs = [bytes(range(256)), b"", os.urandom(70000)]
    got, _ = run(roundtrip(echo.url, msgs, compression=None))
    assert got == msgs
    assert all(isinstance(g, bytes) for g in got)


def test_fragmented_message_is_echoed_whole(echo):
    async def go():
        async with websockets.connect(echo.url, compression=None, open_timeout=5) as ws:
            await ws.send(["frag", "men", "ted ✓"])
            t = await ws.recv()
            await ws.send([b"\x00\x01", b"", b"\x02"])
            b = await ws.recv()
            return t, b

    t, b = run(go())
    assert t == "fragmented ✓"
    assert b == b"\x00\x01\x02"


def test_16_mib_message_is_echoed(echo):
    big = os.urandom(16 * 1024 * 1024)
    got, _ = run(roundtrip(echo.url, [big], compression=None))
    assert got[0] == big


def test_deflate_is_negotiated_and_compressed_messages_echo(echo):
    text = "compress me please " * 5000
    binary = bytes(range(256)) * 300
    got, ext = run(roundtrip(echo.url, [text, binary, text], compression="deflate"))
    assert ext is not None and ext.startswith("permessage-deflate")
    assert got == [text, binary, text]


def test_empty_messages_echo_with_deflate(echo):
    """An empty message after others: zlib can produce nothing for it."""
    msgs = ["first " * 20, "", b"", "last"]
    got, ext = run(roundtrip(echo.url, msgs, compression="deflate"))
    assert ext is not None
    assert got == msgs


def test_no_deflate_flag_declines_the_extension(echo_factory):
    e = echo_factory("--no-deflate")
    got, ext = run(roundtrip(e.url, ["x" * 1000], compression="deflate"))
    assert ext is None
    assert got == ["x" * 1000]


def test_many_concurrent_connections(echo):
    async def one(i):
        async with websockets.connect(echo.url, compression=None, open_timeout=10) as ws:
            for j in range(5):
                m = f"conn {i} msg {j}"
                await ws.send(m)
                assert await ws.recv() == m
        return i

    async def go():
        return await asyncio.gather(*(one(i) for i in range(60)))

    assert sorted(run(go())) == list(range(60))


def test_tls_echo(tmp_path, echo_factory):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    e = echo_factory("--cert", str(cert), "--key", str(key))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(cert))
    ctx.check_hostname = False
    big = os.urandom(3 * 1024 * 1024)
    got, _ = run(roundtrip(f"wss://127.0.0.1:{e.port}/", ["over tls", big], ssl=ctx))
    assert got == ["over tls", big]


# --------------------------------------------------------------------------
# Raw-socket probes
# --------------------------------------------------------------------------


class Raw:
    """A raw TCP connection that speaks just enough WebSocket to probe."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def close(self):
        self.sock.close()

    def read_more(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError
        self.buf += d

    def read_head(self) -> bytes:
        while b"\r\n\r\n" not in self.buf:
            self.read_more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def upgrade(self, key=None):
        key = key or base64.b64encode(os.urandom(16))
        self.sock.sendall(b"GET /probe HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                          b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = self.read_head()
        assert head.startswith(b"HTTP/1.1 101"), head
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        assert headers.get(b"sec-websocket-accept") == accept, head
        return self

    def read_exact(self, n):
        while len(self.buf) < n:
            self.read_more()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def read_frame(self):
        b0, b1 = self.read_exact(2)
        assert not b1 & 0x80, "server frames must not be masked"
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.read_exact(8))[0]
        return b0 & 0x0F, b0 & 0x70, self.read_exact(n)

    def expect_close(self, code, eof=True):
        """Read frames until a Close; assert its code, then (if eof) that TCP
        closes without our Close reply."""
        while True:
            op, _, payload = self.read_frame()
            if op == 0x8:
                break
        assert len(payload) >= 2, payload
        got = struct.unpack("!H", payload[:2])[0]
        assert got == code, f"expected close {code}, got {got} {payload[2:]!r}"
        if not eof:
            return
        # After failing, the server closes TCP (it does not wait for us).
        try:
            while True:
                self.read_more()
        except EOFError:
            pass
        except ConnectionResetError:
            pass


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None, ext16=False):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    key = os.urandom(4) if mask else b""
    mbit = 0x80 if mask else 0
    if n < 126 and not ext16:
        hdr = bytes([b0, mbit | n])
    elif n < 65536:
        hdr = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        hdr = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if mask:
        payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    return hdr + key + payload


PROBES = {
    "rsv1_without_extension": (frame(0x1, b"hello", rsv=4), 1002),
    "rsv2": (frame(0x2, b"x", rsv=2), 1002),
    "reserved_data_opcode_3": (frame(0x3, b"x"), 1002),
    "reserved_control_opcode_11": (frame(0xB), 1002),
    "ping_of_126_bytes": (frame(0x9, b"p" * 126), 1002),
    "fragmented_ping": (frame(0x9, b"p", fin=False), 1002),
    "unmasked_client_frame": (frame(0x1, b"hello", mask=False), 1002),
    "invalid_utf8_text": (frame(0x1, b"ab\xc0\xafcd"), 1007),
    "close_code_999": (frame(0x8, struct.pack("!H", 999)), 1002),
    "close_code_1005_on_wire": (frame(0x8, struct.pack("!H", 1005)), 1002),
    "close_payload_of_one_byte": (frame(0x8, b"\x03"), 1002),
    "close_reason_invalid_utf8": (frame(0x8, struct.pack("!H", 1000) + b"\xff"), 1007),
    "non_minimal_16bit_length": (frame(0x1, b"short", ext16=True), 1002),
    "continuation_without_message": (frame(0x0, b"x"), 1002),
}


@pytest.mark.parametrize("name", sorted(PROBES))
def test_strictness_probe_fails_connection_with_close_code(echo, name):
    data, code = PROBES[name]
    r = Raw(echo.port).upgrade()
    try:
        r.sock.sendall(data)
        r.expect_close(code)
    finally:
        r.close()


def test_invalid_utf8_is_rejected_before_the_frame_ends(echo):
    """Fail fast: the header announces 100 bytes; only the first few, with a
    bad sequence, are sent. The Close 1007 must come without the rest."""
    r = Raw(echo.port).upgrade()
    try:
        key = os.urandom(4)
        first = b"abc\xed\xa0\x80xyz"  # a UTF-16 surrogate: never valid
        masked = bytes(c ^ key[i % 4] for i, c in enumerate(first))
        r.sock.sendall(bytes([0x81, 0x80 | 100]) + key + masked)
        r.expect_close(1007)
    finally:
        r.close()


def test_valid_close_is_echoed_and_server_closes_tcp(echo):
    r = Raw(echo.port).upgrade()
    try:
        r.sock.sendall(frame(0x8, struct.pack("!H", 1000) + b"bye"))
        r.expect_close(1000)
    finally:
        r.close()


def test_ping_gets_pong_with_same_payload(echo):
    r = Raw(echo.port).upgrade()
    try:
        r.sock.sendall(frame(0x9, b"are you there") + frame(0x1, b"after"))
        assert r.read_frame() == (0xA, 0, b"are you there")
        assert r.read_frame() == (0x1, 0, b"after")
    finally:
        r.close()


def test_message_over_max_message_closes_with_1009(echo_factory):
    e = echo_factory("--max-message", "1000")
    r = Raw(e.port).upgrade()
    try:
        r.sock.sendall(frame(0x2, b"a" * 600, fin=False) + frame(0x0, b"b" * 600))
        r.expect_close(1009)
    finally:
        r.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_backpressure_bounds_memory_of_a_peer_that_does_not_read(echo):
    """A peer that sends without reading must stall, not grow the server."""
    r = Raw(echo.port).upgrade()
    try:
        before = rss_kib(echo.proc.pid)
        msg = frame(0x2, os.urandom(4096))
        r.sock.setblocking(False)
        sent, pending = 0, b""
        while sent < 300 * 1024 * 1024:
            if not pending:
                pending = msg
            try:
                n = r.sock.send(pending)
            except BlockingIOError:
                _, w, _ = select.select([], [r.sock], [], 1.0)
                if not w:
                    break  # stalled: the server stopped reading
                continue
            sent += n
            pending = pending[n:]
        assert sent < 300 * 1024 * 1024, "the server never stopped reading"
        print(f"stalled after {sent} bytes")
        growth = rss_kib(echo.proc.pid) - before
        print(f"server RSS growth {growth} KiB")
        assert growth < 24 * 1024, f"server grew by {growth} KiB after {sent} bytes"
        # The server still serves others meanwhile.
        got, _ = run(roundtrip(echo.url, ["still here"], compression=None))
        assert got == ["still here"]
    finally:
        r.close()


def test_random_bytes_never_crash_the_server(echo):
    """Hostile input before and after the handshake, in odd chunk sizes.
    The fixture then checks for a clean exit with no sanitizer report."""
    import random
    rng = random.Random(6455)
    for i in range(120):
        r = Raw(echo.port)
        try:
            if i % 2:
                r.upgrade()
            data = bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 7, 300, 5000])))
            if i % 3 == 0:  # a plausible frame header first
                data = bytes([0x81 | rng.choice([0, 0x40]), 0x80 | 126, 0x10, 0x00]) + data
            for k in range(0, len(data), 97):
                r.sock.sendall(data[k:k + 97])
            r.sock.shutdown(socket.SHUT_WR)
            with pytest.raises((EOFError, ConnectionResetError)):
                while True:
                    r.read_more()
        finally:
            r.close()
    got, _ = run(roundtrip(echo.url, ["alive"], compression=None))
    assert got == ["alive"]


def test_malformed_upgrade_gets_400(echo):
    r = Raw(echo.port)
    try:
        r.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\nSec-WebSocket-Key: not-base64\r\n"
                       b"Sec-WebSocket-Version: 13\r\n\r\n")
        head = r.read_head()
        assert head.startswith(b"HTTP/1.1 400"), head
    finally:
        r.close()


def test_garbage_request_gets_400(echo):
    r = Raw(echo.port)
    try:
        r.sock.sendall(b"\x16\x03\x01 this is not http\r\n\r\n")
        head = r.read_head()
        assert head.startswith(b"HTTP/1.1 400"), head
    finally:
        r.close()


def test_version_8_gets_426_with_supported_version(echo):
    r = Raw(echo.port)
    try:
        key = base64.b64encode(os.urandom(16))
        r.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key +
                       b"\r\nSec-WebSocket-Version: 8\r\n\r\n")
        head = r.read_head()
        assert head.startswith(b"HTTP/1.1 426"), head
        lines = [ln.lower().replace(b" ", b"") for ln in head.split(b"\r\n")]
        assert b"sec-websocket-version:13" in lines, head
    finally:
        r.close()


def test_disallowed_origin_gets_403(echo_factory):
    e = echo_factory("--allowed-origin", "https://good.example")
    ok, _ = run(roundtrip(e.url, ["hi"], origin="https://good.example"))
    assert ok == ["hi"]
    r = Raw(e.port)
    try:
        key = base64.b64encode(os.urandom(16))
        r.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\nOrigin: https://evil.example\r\n"
                       b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        assert r.read_head().startswith(b"HTTP/1.1 403")
    finally:
        r.close()


def test_idle_connection_is_closed_with_1001(echo_factory):
    e = echo_factory("--idle-timeout", "1")
    r = Raw(e.port).upgrade()
    try:
        t0 = time.monotonic()
        r.expect_close(1001, eof=False)
        assert time.monotonic() - t0 < 3.5
        r.sock.sendall(frame(0x8, struct.pack("!H", 1001)))
        with pytest.raises(EOFError):
            while True:
                r.read_more()
    finally:
        r.close()


def test_sigterm_exits_zero_with_open_connections(echo_factory):
    e = echo_factory()
    r = Raw(e.port).upgrade()
    try:
        e.proc.send_signal(signal.SIGTERM)
        assert e.proc.wait(timeout=10) == 0
    finally:
        r.close()


# --------------------------------------------------------------------------
# --threads: one epoll loop per worker, listening sockets shared by SO_REUSEPORT
# --------------------------------------------------------------------------


def raw_connections(port, n):
    """n upgraded Raw connections, all open at once: every TCP connection is
    made before any handshake is sent, and every handshake is sent before
    any reply is read."""
    conns = []
    try:
        for _ in range(n):
            conns.append(Raw(port))
        keys = [base64.b64encode(os.urandom(16)) for _ in conns]
        for r, key in zip(conns, keys):
            r.sock.sendall(b"GET /threads HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        for r, key in zip(conns, keys):
            head = r.read_head()
            assert head.startswith(b"HTTP/1.1 101"), head
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            lines = [ln.partition(b":") for ln in head.split(b"\r\n")[1:]]
            headers = {name.strip().lower(): value.strip() for name, _, value in lines}
            assert headers.get(b"sec-websocket-accept") == accept, head
        return conns
    except BaseException:
        for r in conns:
            r.close()
        raise


def test_threads_serve_many_concurrent_connections(echo_factory):
    e = echo_factory("--threads", "4", "--verbose")
    conns = raw_connections(e.port, 32)
    try:
        for i, r in enumerate(conns):
            r.sock.sendall(frame(0x1, f"connection {i}".encode()))
        for i, r in enumerate(conns):
            assert r.read_frame() == (0x1, 0, f"connection {i}".encode())
        for r in conns:
            r.sock.sendall(frame(0x8, struct.pack("!H", 1000)))
            r.expect_close(1000)
    finally:
        for r in conns:
            r.close()
    err = finish(e)
    # The port line came once: nothing else was written to stdout.
    assert e.proc.stdout.read() == b""
    assert "wsref-echo: 4 workers" in err, err
    # Per-worker counters, added up after every worker was joined.
    assert "terminated (32 connections, 32 messages echoed)" in err, err
    workers = [ln for ln in err.splitlines() if ln.startswith("wsref-echo: worker ")]
    assert len(workers) == 4, err
    assert sum(int(ln.split()[3]) for ln in workers) == 32, err


def test_threads_echo_compressed_messages_concurrently(echo_factory):
    e = echo_factory("--threads", "3")
    text = "compress me in a worker thread " * 2000

    async def one(i):
        async with websockets.connect(e.url, compression="deflate", max_size=None,
                                      open_timeout=10) as ws:
            assert ws.response_headers.get("Sec-WebSocket-Extensions", "").startswith(
                "permessage-deflate")
            for j in range(3):
                m = f"{i}.{j} {text}"
                await ws.send(m)
                assert await ws.recv() == m
        return i

    async def go():
        return await asyncio.gather(*(one(i) for i in range(24)))

    assert sorted(run(go())) == list(range(24))


def test_threads_zero_means_one_per_online_cpu(echo_factory):
    e = echo_factory("--threads", "0", "--verbose")
    got, _ = run(roundtrip(e.url, ["per cpu"], compression=None))
    assert got == ["per cpu"]
    err = finish(e)
    cpus = os.sysconf("SC_NPROCESSORS_ONLN")
    if cpus > 1:
        assert f"wsref-echo: {min(cpus, 256)} workers" in err, err
    else:
        assert "workers" not in err, err
    assert "terminated (1 connections, 1 messages echoed)" in err, err


def test_threads_one_is_the_single_loop(echo_factory):
    e = echo_factory("--threads", "1", "--verbose")
    got, _ = run(roundtrip(e.url, ["one loop"], compression=None))
    assert got == ["one loop"]
    err = finish(e)
    assert "workers" not in err and "worker " not in err, err
    assert "terminated (1 connections, 1 messages echoed)" in err, err


def test_threads_sigterm_with_open_connections_exits_zero(echo_factory):
    e = echo_factory("--threads", "4")
    conns = raw_connections(e.port, 8)
    try:
        e.proc.send_signal(signal.SIGTERM)
        assert e.proc.wait(timeout=10) == 0  # a hang guard, not a timing check
        # Every worker closed its connections on the way out.
        for r in conns:
            with pytest.raises((EOFError, ConnectionResetError)):
                while True:
                    r.read_more()
    finally:
        for r in conns:
            r.close()


def test_threads_sigint_stops_every_worker(echo_factory):
    e = echo_factory("--threads", "2")
    got, _ = run(roundtrip(e.url, ["before"], compression=None))
    assert got == ["before"]
    e.proc.send_signal(signal.SIGINT)
    assert e.proc.wait(timeout=10) == 0


@pytest.mark.parametrize("value,message", [
    ("-1", "not a number"),
    ("abc", "not a number"),
    ("", "not a number"),
    ("2.5", "not a number"),
    ("257", "out of range"),
    ("100000000000000000000", "not a number"),
])
def test_bad_threads_value_exits_2(value, message):
    exe = find_binary("wsref-echo")
    p = subprocess.run([str(exe), "--port", "0", "--threads", value], capture_output=True,
                       timeout=30)
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert "--threads" in err and message in err, err
    assert p.stdout == b""


def test_threads_without_value_exits_2():
    exe = find_binary("wsref-echo")
    p = subprocess.run([str(exe), "--port", "0", "--threads"], capture_output=True, timeout=30)
    assert p.returncode == 2
    assert b"--threads needs a value" in p.stderr


def test_help_describes_threads():
    exe = find_binary("wsref-echo")
    p = subprocess.run([str(exe), "--help"], capture_output=True, timeout=30)
    assert p.returncode == 0
    assert b"--threads N" in p.stdout and b"SO_REUSEPORT" in p.stdout


def test_self_check_passes():
    exe = find_binary("wsref-echo")
    for extra in ([], ["--no-deflate"]):
        p = subprocess.run([str(exe), "--self-check", *extra], capture_output=True,
                           timeout=30)
        out = p.stdout.decode()
        assert p.returncode == 0, out + p.stderr.decode()
        assert " 0 failed" in out and "self-check: " in out


# --------------------------------------------------------------------------
# wsref-client against a fuzzingserver stub
# --------------------------------------------------------------------------


class Stub:
    """Serves the fuzzingserver URL protocol with two cases of its own:
    each sends a text and a binary message and checks they come back."""

    def __init__(self, count_text="2", silent=False):
        self.count_text = count_text
        self.silent = silent  # runCase sends nothing and never closes
        self.log = []  # (path, ok, extensions header)

    async def handler(self, ws, path):
        url = urllib.parse.urlsplit(path)
        q = urllib.parse.parse_qs(url.query)
        ext = ws.request_headers.get("Sec-WebSocket-Extensions")
        if url.path == "/getCaseCount":
            await ws.send(self.count_text)
            self.log.append(("count", True, ext))
        elif url.path == "/runCase" and self.silent:
            await ws.wait_closed()
            self.log.append(("silent", True, ext))
            return
        elif url.path == "/runCase":
            case = int(q["case"][0])
            agent = q["agent"][0]
            text = f"case {case} for {agent}: ✓ " * (case * 50)
            data = bytes([case]) * 5000 + os.urandom(1000)
            await ws.send(text)
            await ws.send(data)
            a = await asyncio.wait_for(ws.recv(), 5)
            b = await asyncio.wait_for(ws.recv(), 5)
            self.log.append((f"case{case}", a == text and b == data, ext))
        elif url.path == "/updateReports":
            self.log.append(("update:" + q["agent"][0], True, ext))
        await ws.close()


async def run_client(stub, *args, timeout="10"):
    server = await websockets.serve(stub.handler, "127.0.0.1", 0, max_size=None)
    port = server.sockets[0].getsockname()[1]
    try:
        proc = await asyncio.create_subprocess_exec(
            str(find_binary("wsref-client")), f"ws://127.0.0.1:{port}", "--timeout", timeout,
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        return proc.returncode, err.decode()
    finally:
        server.close()
        await server.wait_closed()


def test_client_completes_the_fuzzingserver_loop():
    stub = Stub()
    rc, err = asyncio.run(run_client(stub, "--agent", "ref client"))
    assert rc == 0, err
    assert [x[:2] for x in stub.log] == [("count", True), ("case1", True), ("case2", True),
                                         ("update:ref client", True)], err
    assert all(x[2] and "permessage-deflate" in x[2] for x in stub.log)


def test_client_no_deflate_offers_no_extension():
    stub = Stub()
    rc, err = asyncio.run(run_client(stub, "--no-deflate", "--cases", "1"))
    assert rc == 0, err
    assert [x[:2] for x in stub.log] == [("case1", True), ("update:wsref-client", True)]
    assert all(x[2] is None for x in stub.log)


def test_client_rejects_a_bad_case_count():
    stub = Stub(count_text="many")
    rc, err = asyncio.run(run_client(stub))
    assert rc == 1
    assert "case count" in err


def test_client_reports_unreachable_server():
    from conftest import free_port
    p = subprocess.run([str(find_binary("wsref-client")), f"ws://127.0.0.1:{free_port()}"],
                       capture_output=True, timeout=30)
    assert p.returncode == 1
    assert b"cannot connect" in p.stderr


def test_client_times_out_on_a_silent_case_instead_of_hanging():
    stub = Stub(silent=True)
    t0 = time.monotonic()
    rc, err = asyncio.run(run_client(stub, "--cases", "1", timeout="1"))
    assert rc == 1
    assert "case 1:" in err and "no data" in err, err
    assert time.monotonic() - t0 < 10
