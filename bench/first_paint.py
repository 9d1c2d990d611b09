"""First paint of every studio page: a real `streamlit run studio/app.py` and headless Chromium
(tests/browser.py). Each page is opened twice in a new studio: the first visit (the page's imports
and caches cold) and a second one. The time is from navigation until the page has its title and
no script run, skeleton or spinner is left (polled every 0.05 s), i.e. what the user waits for.

    python bench/first_paint.py --runs runs/bench-quality --data ../shared/data/gan-getting-started \
        --run cut-cpu-preview-noidt

--run opens the pages that pick a run (Train, Latent explorer, Export & score) at ?run=ID, so the
Latent explorer loads that run's generator whatever run is newest (a run without a checkpoint
shows only a notice).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from bench.machine import cpu_model  # noqa: E402
from browser import chromium, page_url, studio_server  # noqa: E402
from studio.navigation import PAGE_SPECS  # noqa: E402

RUN_PAGES = ("train", "latent_explorer", "export_score")  # the pages whose run picker follows ?run=


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", default=os.environ.get("GAN_STUDIO_RUNS", "runs"))
    p.add_argument("--data", default=os.environ.get("GAN_STUDIO_DATA", ""))
    p.add_argument("--goal-s", type=float, default=3.0)
    p.add_argument("--run", default="", help="the run the Train, Latent explorer and Export pages open")
    args = p.parse_args()
    print(f"CPU: {cpu_model()}, runs {args.runs}, data {args.data}", flush=True)
    names = [spec[0] for spec in PAGE_SPECS]
    rows = {}
    with studio_server({"GAN_STUDIO_RUNS": args.runs, "GAN_STUDIO_DATA": args.data}) as url, chromium() as browser:
        for visit in ("first", "second"):
            for name in names:
                query = f"?run={args.run}" if args.run and name in RUN_PAGES else ""
                view = browser.open(page_url(url, name) + query, settle_s=0.5, poll_s=0.05)
                rows.setdefault(name, {})[visit] = view.ready_s
                if view.exceptions:
                    print(f"{name}: {view.exceptions} exception(s) on the page", flush=True)
    print("\n| page | first visit (s) | second visit (s) |\n| --- | ---: | ---: |")
    for name, row in rows.items():
        print(f"| {name} | {row['first']:.1f} | {row['second']:.1f} |")
    slow = [name for name, row in rows.items() if row["first"] > args.goal_s]
    print(f"\nover {args.goal_s:g} s at the first visit: {', '.join(slow) or 'none'}")


if __name__ == "__main__":
    main()
