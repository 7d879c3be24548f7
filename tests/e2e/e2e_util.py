"""Helpers shared by the end-to-end test files of engineer H (conformance,
mutants, peers, reports, hostile): find the built programs, run wsconform with
a hard deadline (its whole process group is killed on expiry, so no target it
started survives), parse the Autobahn-layout reports, build planted-bug
variants of wsref-echo.

Binaries are looked up in $WSCONFORM_BUILD (default: <repo>/build; a relative
value is taken relative to the repo root).
"""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent

# Verdicts that pass (cases/README.md, "Verdicts and exit codes").
PASS_BEHAVIOR_STRICT = {"OK", "INFORMATIONAL"}
PASS_CLOSE = {"OK", "INFORMATIONAL"}

# Text a sanitizer or a crashing C program leaves on stderr.
CRASH_TEXT = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                        r"runtime error:|Segmentation fault|core dumped|stack smashing")


def build_dir() -> pathlib.Path:
    b = pathlib.Path(os.environ.get("WSCONFORM_BUILD", "build"))
    return b if b.is_absolute() else REPO / b


def binary(name: str) -> pathlib.Path:
    """Absolute path of a built program (fails the test if it is not built)."""
    for sub in ("", "harness", "reference"):
        p = build_dir() / sub / name
        if p.is_file() and os.access(p, os.X_OK):
            return p
    pytest.fail(f"{name} not found in {build_dir()} (build first, or set WSCONFORM_BUILD)")


def wsconform() -> pathlib.Path:
    return binary("wsconform")


def natural_key(case_id: str):
    return tuple(int(p) if p.isdigit() else p for p in case_id.split("."))


class Timeout(Exception):
    pass


def run_cmd(argv, cwd=None, timeout=120, env=None, check_timeout=True):
    """Run argv in its own process group with a hard deadline.

    Returns a CompletedProcess (text mode) with an extra attribute `elapsed`
    (seconds). On expiry the whole group is killed with SIGKILL and the test
    fails (or Timeout is raised when check_timeout is False).
    """
    full_env = dict(os.environ)
    full_env.pop("GITHUB_STEP_SUMMARY", None)
    if env:
        full_env.update(env)
    t0 = time.monotonic()
    p = subprocess.Popen([str(a) for a in argv], cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         errors="replace", start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
        msg = (f"{' '.join(map(str, argv))} did not finish within {timeout} s\n"
               f"--- stdout (tail)\n{out[-2000:]}\n--- stderr (tail)\n{err[-2000:]}")
        if check_timeout:
            pytest.fail(msg)
        raise Timeout(msg)
    finally:
        # Anything the command left behind in its group (it should leave nothing).
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    res = subprocess.CompletedProcess(p.args, p.returncode, out, err)
    res.elapsed = time.monotonic() - t0
    return res


def run_wsconform(args, **kw):
    return run_cmd([wsconform(), *args], **kw)


def describe(res) -> str:
    """A failure message: the command, exit status, output tails."""
    return (f"$ {' '.join(map(str, res.args))}\nexit {res.returncode}\n"
            f"--- stdout (tail)\n{res.stdout[-3000:]}\n--- stderr (tail)\n{res.stderr[-3000:]}")


def list_cases(selection=()):
    """The catalog as `wsconform list --json` prints it (a list of dicts)."""
    res = run_wsconform(["list", "--json", *selection], timeout=30)
    assert res.returncode == 0, describe(res)
    return json.loads(res.stdout)


def server_cases(selection=()):
    """IDs of the cases that test a server (side server or both), natural order."""
    return sorted((c["id"] for c in list_cases(selection) if c["side"] in ("server", "both")),
                  key=natural_key)


def load_index(report_dir) -> dict:
    """index.json: agent -> case ID -> entry."""
    p = pathlib.Path(report_dir) / "index.json"
    assert p.is_file(), f"no index.json in {report_dir}"
    with open(p, encoding="utf-8") as f:
        return json.load(f)


def only_agent(index: dict) -> dict:
    assert len(index) == 1, f"expected one agent in index.json, got {list(index)}"
    return next(iter(index.values()))


def load_case_report(report_dir, entry: dict) -> dict:
    with open(pathlib.Path(report_dir) / entry["reportfile"], encoding="utf-8") as f:
        return json.load(f)


def case_passes(entry: dict, strict: bool = True) -> bool:
    ok_b = set(PASS_BEHAVIOR_STRICT) | (set() if strict else {"NON-STRICT"})
    return entry["behavior"] in ok_b and entry["behaviorClose"] in PASS_CLOSE


def server_url() -> str:
    return "ws://127.0.0.1:{port}/"


# --------------------------------------------------------------------------
# planted-bug builds of wsref-echo (meson option -Dplanted_bug=NAME)
# --------------------------------------------------------------------------

def planted_bugs() -> list:
    """Every planted bug compiled into libwsref's sources, lower-case."""
    names = set()
    for src in (REPO / "reference" / "src").glob("*.c"):
        names.update(m.lower() for m in re.findall(r"WSR_PLANTED_BUG_([A-Z0-9_]+)",
                                                    src.read_text(errors="replace")))
    return sorted(names)


def mutant_dir(bug: str) -> pathlib.Path:
    """<build>-mut-<bug> beside the build directory (build-h -> build-h-mut-utf8_off)."""
    b = build_dir()
    return b.parent / f"{b.name}-mut-{bug}"


def build_mutant(bug: str, timeout=300):
    """Configure (once) and build the planted-bug wsref-echo; returns (path, log).

    Only the echo server is built. On failure returns (None, log).
    """
    d = mutant_dir(bug)
    log = []
    env = {"CC": os.environ.get("CC", "cc")}
    if (d / "build.ninja").is_file():
        # Reconfigure if a previous setup used another option value.
        info = d / "meson-info" / "intro-buildoptions.json"
        current = None
        try:
            with open(info) as f:
                current = next((o["value"] for o in json.load(f) if o["name"] == "planted_bug"),
                               None)
        except (OSError, ValueError):
            pass
        if current != bug:
            shutil.rmtree(d)
    if not (d / "build.ninja").is_file():
        if d.exists():
            shutil.rmtree(d)
        res = run_cmd(["meson", "setup", d, f"-Dplanted_bug={bug}", "--buildtype=debug"],
                      cwd=REPO, timeout=timeout, env=env, check_timeout=False)
        log.append(res.stdout + res.stderr)
        if res.returncode != 0:
            return None, "\n".join(log)
    res = run_cmd(["ninja", "-C", d, "reference/wsref-echo"], cwd=REPO, timeout=timeout,
                  check_timeout=False)
    log.append(res.stdout + res.stderr)
    exe = d / "reference" / "wsref-echo"
    if res.returncode != 0 or not exe.is_file():
        return None, "\n".join(log)
    return exe, "\n".join(log)
