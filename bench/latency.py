"""The configured rate reached whatever the API's answer time: `plan` of 4,000 people
(every request a GET) with default settings (no --concurrency: the requests in flight
follow the latency), `--rate auto` and `--rate 100`, against a 100/s limit of each
shape, with answers taking 0, 50, 250 and 1,000 ms (±50 %, 1 % of them 8× slower).
Figures from the simulator's per-second books: answered/limit after the first 5 s and
over the whole request phase, and the 429 share."""
import rates

PEOPLE = 4000
LATENCIES = [0, 50, 250, 1000]
LIMITERS = [
    ("token bucket 100/s, burst 10", ["--rate-limit", "100"]),
    ("token bucket 100/s, burst 100", ["--rate-limit", "100", "--burst", "100"]),
    ("fixed window 1,000 per 10 s", ["--limiter", "fixed-window", "--rate-limit", "1000", "--window-secs", "10"]),
    ("sliding window 1,000 per 10 s", ["--limiter", "sliding-window", "--rate-limit", "1000", "--window-secs", "10"]),
]
MODES = [("--rate auto", ["--rate", "auto"]), ("--rate 100", ["--rate", "100"])]
SMOKE = [(250, LIMITERS[0], MODES[0], 600)]


def whole_phase(per_second, limit):
    """Answered/limit from the first second with traffic to the last whole one."""
    busy = [s for s in per_second if s["requests"] > 0]
    if len(busy) < 2:
        return 0.0
    first, last = busy[0]["t"], busy[-1]["t"]
    part = [s for s in per_second if first <= s["t"] < last]
    return sum(s["requests"] - s["429"] for s in part) / max(1, len(part)) / limit


def run_all(binary, work, sim_cls, generate, smoke, plot_dir=None, only=None):
    rows, figs = [], {}
    grid = SMOKE if smoke else [(ms, lim, mode, PEOPLE) for ms in LATENCIES for lim in LIMITERS for mode in MODES]
    for ms, (lim_name, lim_args), (mode_name, mode_args), people in grid:
        name = f"{ms} ms, {lim_name}, {mode_name}"
        if only and only not in name:
            continue
        slow = ["--latency-ms", str(ms), "--latency-jitter", "0.5", "--slow-rate", "0.01", "--slow-factor", "8"]
        r = rates.scenario(binary, work, sim_cls, generate, name, (slow if ms else []) + lim_args, 100, people,
                           None, mode_args)
        whole = whole_phase(r["per_second"], 100)
        key = f"latency_{ms}_{'_'.join(lim_name.split()[:2])}_{mode_args[1]}"
        figs[f"{key}_ratio"], figs[f"{key}_whole"], figs[f"{key}_share"] = r["ratio"], whole, r["share"]
        s = r["summary"]
        note = (f"{r['requests']} requests after 5 s, exit {r['exit']}, in flight {s.get('in_flight')}, "
                f"latency {s.get('latency_ms')}, rate {s.get('rate')}")
        rows.append((name, f"{r['ratio']:.3f} / {whole:.3f} / {r['share'] * 100:.2f}%", note))
        if plot_dir:
            from pathlib import Path
            Path(plot_dir).mkdir(parents=True, exist_ok=True)
            slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
            rates.plot(Path(plot_dir) / f"latency-{slug}.svg", name, r["per_second"], 100, None)
    return rows, figs
