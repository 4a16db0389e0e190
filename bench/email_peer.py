"""Inbound email side by side with django-helpdesk 2.6.1: ../shared/peer-bench, read as figures.

The peer bench sends one synthetic corpus (new requests, replies in six client styles,
auto-replies, bounces) through both systems over the same Dovecot and SMTP sink, and counts a
mail as handled when its ticket is stored and its acknowledgement accepted by SMTP, process
start-up included. Here it runs on a copy (it writes beside itself) and its per-phase JSON
becomes figures, with the peer's rate in the same run as the yardstick.

    .venv/bin/python -m bench.email_peer --mails 1000 --db sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.figures import Figure, write

ROOT = Path(__file__).resolve().parent.parent
BENCHMARK = "inbound email vs django-helpdesk"
CACHE = ROOT / ".bench-cache"
PHASES = {"new": ("new requests", 10.0), "reply": ("replies", 15.0)}


def peer_bench() -> Path:
    """$TICKETBRIDGE_PEER_BENCH, else shared/peer-bench beside the checkout or beside a folder
    above it (a worktree such as /work/wt/NAME finds /work/shared), as for the email corpus."""
    env = os.environ.get("TICKETBRIDGE_PEER_BENCH")
    candidates = [Path(env)] if env else [p / "shared" / "peer-bench" for p in ROOT.parents]
    folder = next((c for c in candidates if (c / "bench_peer.sh").exists()), candidates[0])
    if not (folder / "bench_peer.sh").exists():
        raise SystemExit(f"no peer bench at {folder}; set TICKETBRIDGE_PEER_BENCH")
    return folder


def run(mails: int, db: str, work: Path) -> Path:
    """Run both systems on a writable copy of the peer bench; its results folder.

    The copy lives in .bench-cache/ so the peer's virtualenv (Django and django-helpdesk) is
    installed once per machine, not once per run; its runs and results start empty each time.
    """
    copy = CACHE / "peer-bench"
    for stale in ("run", "results"):
        shutil.rmtree(copy / stale, ignore_errors=True)
    shutil.copytree(peer_bench(), copy, ignore=shutil.ignore_patterns(".venv"), dirs_exist_ok=True)
    for path in [copy, *copy.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    env = {
        **os.environ,
        "SYSTEM": "helpdesk ticketbridge",
        "TB_CHECKOUT": str(ROOT),
        "TB_VENV": str(Path(sys.executable).parent.parent),
        "PHASE": "bench",
        "SIZES": str(mails),
        "DBS": db,
    }
    log = work / "peer-bench.log"
    with log.open("wb") as out:
        done = subprocess.run(
            ["bash", "bench_peer.sh"], cwd=copy, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise SystemExit(f"the peer bench failed ({done.returncode}):\n{tail}")
    return copy / "results"


def figures(results: Path, mails: int, db: str) -> list[Figure]:
    found: list[Figure] = []
    for phase, (label, target) in PHASES.items():
        data = {
            system: json.loads((results / system / f"{db}-{mails}" / f"{phase}.json").read_text())
            for system in ("helpdesk", "ticketbridge")
        }
        rates = {system: result.get("msgs_per_s", 0.0) for system, result in data.items()}
        peak = data["ticketbridge"]["timing"]["max_rss_kb"] / 1024
        peer = f"django-helpdesk {label}/s, end to end"
        found += [
            Figure(BENCHMARK, peer, rates["helpdesk"], "mails/s", note=f"{mails} mails, {db}"),
            Figure(
                BENCHMARK,
                f"ticketbridge {label}/s, end to end",
                rates["ticketbridge"],
                "mails/s",
                yardstick=peer,
                target=target,
            ),
            Figure(
                BENCHMARK,
                f"ticketbridge fetcher peak memory (largest process), {label}",
                peak,
                "MB",
                target=200,
                higher_is_better=False,
            ),
        ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--json", help="append the figures to this file (for bench/run_all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tb-peer-") as folder:
        results = run(args.mails, args.db, Path(folder))
        write(args.json, figures(results, args.mails, args.db))


if __name__ == "__main__":
    main()
