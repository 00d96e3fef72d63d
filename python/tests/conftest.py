"""Fixtures of the binding's tests: the demo (scripts/demo.sh: its index, outputs and policy)
made once per run in a temporary directory, with the `recite` binary of this build
($RECITE_BIN, else build/recite)."""
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("RECITE_BIN", str(ROOT / "build" / "recite"))


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """A directory holding demo-out/ (index, lib, outputs) and examples/policy.json, laid out
    as in the repository after `make demo`."""
    base = tmp_path_factory.mktemp("demo")
    env = dict(os.environ, DEMO_DIR=str(base / "demo-out"))
    run = subprocess.run(["scripts/demo.sh", BIN], cwd=ROOT, env=env, capture_output=True,
                         text=True)
    assert (base / "demo-out" / "index").is_dir(), run.stdout[-2000:] + run.stderr[-2000:]
    (base / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "policy.json", base / "examples" / "policy.json")
    return base


@pytest.fixture(scope="session")
def index(demo):
    import recite
    return recite.Index(demo / "demo-out" / "index")


def cli_json(demo, *args):
    """The JSON report of `recite check` on the same input, for comparison."""
    import json
    run = subprocess.run([BIN, "check", "--json", *map(str, args)], cwd=demo,
                         capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)
