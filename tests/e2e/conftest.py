"""Shared pytest fixtures for the end-to-end tests.

Binaries are looked up in $WSCONFORM_BUILD (default: "build" under the repo
root; a relative value is taken relative to the repo root).
"""
import os
import pathlib
import socket

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def build_dir() -> pathlib.Path:
    b = pathlib.Path(os.environ.get("WSCONFORM_BUILD", "build"))
    return b if b.is_absolute() else REPO / b


def find_binary(name: str) -> pathlib.Path:
    for sub in ("", "reference", "harness"):
        p = build_dir() / sub / name
        if p.is_file() and os.access(p, os.X_OK):
            return p
    pytest.fail(f"{name} not found in {build_dir()} (build first, or set WSCONFORM_BUILD)")


@pytest.fixture(scope="session")
def binary():
    """binary("wsref-echo") -> absolute path of a built program."""
    return find_binary


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
