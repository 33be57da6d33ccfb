"""Read an ecbn-sync metrics file with prometheus_client's own text-format parser and hold
it against the JSON summaries of the runs that wrote it.

usage: prom_check.py METRICS_FILE EXPECT_JSON
EXPECT_JSON: {"summaries": {mode: summary}, "last_success": {mode: summary of that success},
              "no_success": [mode]}
Prints "prom check: ok" or raises.
"""
import json
import sys
from datetime import datetime

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = open(sys.argv[1]).read()
    expect = json.load(open(sys.argv[2]))
    series = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", (family.name, family.type)
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in series, f"duplicate series {key}"
            series[key] = s.value

    def value(name, mode, **labels):
        return series.get((name, tuple(sorted({"mode": mode, **labels}.items()))))

    def by(name, mode, label):
        return {dict(k[1])[label]: v for k, v in series.items() if k[0] == name and dict(k[1]).get("mode") == mode}

    for mode, s in expect["summaries"].items():
        assert value("ecbn_sync_exit_code", mode) == s["exit_code"], (mode, "exit_code")
        assert value("ecbn_sync_rerun_needed", mode) == int(s["rerun_needed"]), (mode, "rerun_needed")
        assert value("ecbn_sync_duration_seconds", mode) >= 0, (mode, "duration")
        assert value("ecbn_sync_last_run_timestamp_seconds", mode) > 1.7e9, (mode, "last_run")
        # rows: every action of the summary, split by kind as the summary splits it
        rows = {}
        for (name, labels), v in series.items():
            l = dict(labels)
            if name == "ecbn_sync_rows" and l["mode"] == mode:
                rows.setdefault(l["action"], {})[l["kind"]] = v
        assert set(rows) == set(s["counts"]), (mode, sorted(rows), sorted(s["counts"]))
        for action, n in s["counts"].items():
            assert sum(rows[action].values()) == n, (mode, action, rows[action], n)
            for kind, counts in s.get("counts_by_kind", {}).items():
                assert rows[action][kind] == counts[action], (mode, action, kind)
        assert by("ecbn_sync_requests", mode, "route") == {k: float(v) for k, v in s["requests"].items()}, mode
        assert by("ecbn_sync_responses", mode, "status") == {k: float(v) for k, v in s["http_status"].items()}, mode
        # answer times: the summary's milliseconds, in seconds, by quantile
        want = {q: s["latency_ms"][k] / 1000 for q, k in [("0.5", "p50"), ("0.9", "p90"), ("0.99", "p99")]
                if s["latency_ms"][k] is not None}
        got = by("ecbn_sync_latency_seconds", mode, "quantile")
        assert set(got) == set(want) and all(abs(got[q] - want[q]) < 1e-4 for q in want), (mode, got, want)
    for mode, s in expect["last_success"].items():
        ended = datetime.fromisoformat(s["finished_at"].replace("Z", "+00:00")).timestamp()
        got = value("ecbn_sync_last_success_timestamp_seconds", mode)
        assert got is not None and 0 <= got - ended < 5, (mode, got, ended)
    for mode in expect["no_success"]:
        assert value("ecbn_sync_last_success_timestamp_seconds", mode) is None, mode
    print("prom check: ok")


main()
