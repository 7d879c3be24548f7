"""Helpers for test_cli.py: run wsconform with a hard deadline, pick ports,
and small throwaway TCP servers written in Python that misbehave on purpose.
"""
import os
import pathlib
import socket
import subprocess
import sys
import textwrap

from conftest import build_dir, find_binary, free_port  # noqa: F401 (re-exported)

RUN_TIMEOUT = 120  # seconds: hard deadline of any one wsconform run in these tests


def wsconform() -> pathlib.Path:
    return find_binary("wsconform")


def run(args, cwd=None, timeout=RUN_TIMEOUT, env=None):
    """Run wsconform with args; returns CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    full_env.pop("GITHUB_STEP_SUMMARY", None)
    if env:
        full_env.update(env)
    return subprocess.run([str(wsconform()), *args], cwd=cwd, capture_output=True, text=True,
                          errors="replace", timeout=timeout, env=full_env)


def closed_port() -> int:
    """A loopback port with nothing listening (bound and released)."""
    return free_port()


def natural_key(case_id: str):
    return tuple(int(p) for p in case_id.split("."))


def pid_alive(pid: int) -> bool:
    """True if pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def write_server(tmp_path: pathlib.Path, behaviour: str) -> str:
    """Write a tiny TCP server script; returns a shell command with {port} in it.

    behaviour:
      segv    - accept connections; on the first one that sends data, die by SIGSEGV
      asan    - on the first request, print an AddressSanitizer report to stderr, keep running
      silent  - accept and read forever, never answer
      exit0   - on the first request, exit with status 0
    """
    body = textwrap.dedent(f"""\
        import os, signal, socket, sys, select
        behaviour = {behaviour!r}
        port = int(sys.argv[1])
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen(64)
        conns = []
        while True:
            r, _, _ = select.select([ls] + conns, [], [])
            for s in r:
                if s is ls:
                    c, _ = ls.accept()
                    conns.append(c)
                    continue
                data = s.recv(65536)
                if not data:
                    conns.remove(s)
                    s.close()
                    continue
                if behaviour == "segv":
                    sys.stderr.write("about to crash\\n")
                    sys.stderr.flush()
                    os.kill(os.getpid(), signal.SIGSEGV)
                elif behaviour == "asan":
                    sys.stderr.write("==4242==ERROR: AddressSanitizer: heap-buffer-overflow "
                                     "on address 0x602000000011\\n")
                    sys.stderr.flush()
                elif behaviour == "exit0":
                    sys.exit(0)
                # silent: swallow the bytes
        """)
    script = tmp_path / f"server_{behaviour}.py"
    script.write_text(body)
    return f"{sys.executable} {script} {{port}}"
