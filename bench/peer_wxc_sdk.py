#!/usr/bin/env python3
"""The same reconciliation as `ecbn-sync apply`, written as a competent user would with
the wxc-sdk async API: its default concurrency (10) and 429 handling, IDs compared by
UUID, the same skip rule (dependents, location default, in-file targets).

usage: peer_wxc_sdk.py BASE_URL DESIRED_CSV   (token: admin-token; IDs only)
prints one JSON line: {"rows", "updated", "skipped", "in_sync", "seconds"}
"""
import asyncio
import base64
import csv
import json
import sys
import time

from wxc_sdk.as_api import AsWebexSimpleApi
from wxc_sdk.as_rest import AsRestSession
from wxc_sdk.person_settings.ecbn import SelectedECBN


def uuid(webex_id: str) -> str:
    s = webex_id.strip()
    s += "=" * (-len(s) % 4)
    return base64.b64decode(s).decode().rsplit("/", 1)[-1].lower()


def val(x):
    return getattr(x, "value", x)


async def reconcile(base: str, desired: str) -> dict:
    AsRestSession.BASE = base.rstrip("/")
    with open(desired, newline="") as f:
        # the member column (its alias `person` too); the generated files are people only
        rows = [{**r, "person": r.get("member") or r.get("person")} for r in csv.DictReader(f)]
    t0 = time.monotonic()
    async with AsWebexSimpleApi(tokens="admin-token") as api:
        ecbn = api.person_settings.ecbn
        currents = await asyncio.gather(*(ecbn.read(r["person"]) for r in rows))

        def same(r, cur) -> bool:
            if val(cur.selected) != r["selected"]:
                return False
            if r["selected"] != "LOCATION_MEMBER_NUMBER":
                return True
            m = cur.location_member_info.member_id if cur.location_member_info else None
            return m is not None and uuid(m) == uuid(r["location_member"])

        differ = [r for r, c in zip(rows, currents) if not same(r, c)]
        targets = {uuid(r["location_member"]) for r in rows if r["selected"] == "LOCATION_MEMBER_NUMBER"}
        candidates = [r for r in differ if uuid(r["person"]) not in targets]
        deps = await asyncio.gather(*(ecbn.dependencies(r["person"]) for r in candidates))
        to_put = [r for r, d in zip(candidates, deps) if not (d.dependent_member_count or d.is_location_ecbn_default)]
        await asyncio.gather(
            *(
                ecbn.configure(
                    r["person"],
                    selected=SelectedECBN(r["selected"]),
                    location_member_id=r["location_member"] or None,
                )
                for r in to_put
            )
        )
    return {
        "rows": len(rows),
        "updated": len(to_put),
        "skipped": len(differ) - len(to_put),
        "in_sync": len(rows) - len(differ),
        "seconds": time.monotonic() - t0,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(reconcile(sys.argv[1], sys.argv[2]))))
