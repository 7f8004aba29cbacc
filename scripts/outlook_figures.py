"""Print the outlook's cumulated flows and back-test per family, as the API computes them (same codec:
`urlstate.parse_outlook`).

    .venv/bin/python scripts/outlook_figures.py [T2A V0Z V4Z …] [--from 2019] [--to 2030] [--territory FR]
        [--param retirement_age_shift=1 …]

Reads the store named by OBSERVATORY_DB (default data/observatory.sqlite). The figures of the README's
« Perspectives » section and of the closing note come from this command.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from observatory import outlook, outlook_data, urlstate  # noqa: E402
from observatory.config import database_url  # noqa: E402
from observatory.store import Store  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("families", nargs="*", help="FAP-87 codes or professions; default: the travail social families")
    parser.add_argument("--from", dest="start")
    parser.add_argument("--to", dest="end", default="2030")
    parser.add_argument("--territory", default="FR")
    parser.add_argument("--param", action="append", default=[], help="name=value, e.g. retirement_age_shift=1")
    args = parser.parse_args(argv)
    data = outlook_data.store(Store(database_url()))
    args.families = args.families or list(data.social)  # as the store's reference says (outlook_data.social_families)
    print(f"Flows after {args.start or data.base_year} up to {args.end}, {args.territory}, persons "
          "(entrants and gaps rest on ILLUSTRATIVE graduates):")
    print("| family | end-of-career exits | net job change | openings | young graduates | gap | "
          "mid-career exits | complete gap |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for family in args.families:
        query = {"profession": [family], "territory": [args.territory], "to": [args.end]}
        if args.start:
            query["from"] = [args.start]
        for pair in args.param:
            name, _, value = pair.partition("=")
            query[name] = [value]
        try:
            request = urlstate.parse_outlook(query, data)
        except outlook.OutlookError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        t = outlook.totals(outlook_data.run(request, data).rows)

        def f(v: float) -> str:
            return "n.d." if v != v else f"{v:,.0f}".replace(",", " ")
        print(f"| {request.family} | {f(t['retirements'])} | {f(t['job_change'])} | {f(t['openings'])} | "
              f"{f(t['entrants'])} | {f(t['gap'])} | {f(t['other_exits'])} | {f(t['complete_gap'])} |")
    print()
    print("Back-test (national): the same model run from ten years before the latest stock, against what happened")
    print("| family | employment observed | projected (error) | naive (error) | 50+ share observed | "
          "projected (error) | naive (error) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for family in args.families:
        bt = data.backtests.get(outlook_data.resolve(family, data) or "")
        if bt is None:
            print(f"| {family} | n.d. | | | | | |")
            continue
        print(f"| {bt.fap} {bt.base_year}→{bt.target_year} | {bt.actual_employment:,.0f} | "
              f"{bt.projected_employment:,.0f} ({bt.employment_error:+.1f} %) | "
              f"{bt.naive_employment:,.0f} ({bt.naive_employment_error:+.1f} %) | {bt.actual_share_50_plus:.1f} % | "
              f"{bt.projected_share_50_plus:.1f} % ({bt.share_error:+.1f} pts) | "
              f"{bt.naive_share_50_plus:.1f} % ({bt.naive_share_error:+.1f} pts) |".replace(",", " "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
