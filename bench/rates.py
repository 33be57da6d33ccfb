"""`--rate auto` against limits it is not told: each scenario runs `plan` over a generated
org (every request a GET) against the simulator with one limiter shape, and reads the
server's own per-second books (`/_sim/stats` `per_second`). Figures leave out the first
5 s, as DESIGN.md's targets do. `plot()` draws one scenario as a small SVG."""
import json
import os
import subprocess
import threading
import time
from pathlib import Path

# name, simulator options, limit in req/s, people (requests), (at s, new limit) or None,
# client options
FULL = [
    ("token bucket 20/s, burst 2", ["--rate-limit", "20"], 20, 3200, None, ["--rate", "auto"]),
    ("token bucket 100/s, burst 10", ["--rate-limit", "100"], 100, 5000, None, ["--rate", "auto"]),
    ("token bucket 20/s, burst 20", ["--rate-limit", "20", "--burst", "20"], 20, 3200, None, ["--rate", "auto"]),
    ("token bucket 100/s, burst 100", ["--rate-limit", "100", "--burst", "100"], 100, 5000, None, ["--rate", "auto"]),
    ("token bucket 500/s, burst 500", ["--rate-limit", "500", "--burst", "500"], 500, 20000, None, ["--rate", "auto"]),
    ("fixed window 6,000 per 60 s", ["--limiter", "fixed-window", "--rate-limit", "6000"], 100, 15000, None,
     ["--rate", "auto"]),
    ("sliding window 6,000 per 60 s", ["--limiter", "sliding-window", "--rate-limit", "6000"], 100, 15000, None,
     ["--rate", "auto"]),
    ("token bucket 100/s halving to 50/s at 30 s", ["--rate-limit", "100"], 100, 6000, (30, 50), ["--rate", "auto"]),
    ("--rate 500 against a 100/s bucket", ["--rate-limit", "100"], 100, 5000, None, ["--rate", "500"]),
]
SMOKE = [
    ("token bucket 50/s, burst 5", ["--rate-limit", "50"], 50, 400, None, ["--rate", "auto"]),
    ("--rate 250 against a 50/s bucket", ["--rate-limit", "50"], 50, 500, None, ["--rate", "250"]),
]


def post(url, path, body):
    import urllib.request
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()


def scenario(binary, work, sim_cls, generate, name, sim_args, limit, people, change, client_args):
    fx, d = generate(binary, work, people, 0.0, "rates", seed=3, targets=0.0)
    sim = sim_cls(binary, fx, "--retry-after", "1", *sim_args)
    try:
        if change:
            at, new = change
            timer = threading.Timer(at, post, (sim.url, "/_sim/faults", {"rate_limit": new}))
            timer.start()
        env = dict(os.environ, WEBEX_TOKEN="admin-token")
        rd = work / f"rates-{abs(hash(name))}"
        t0 = time.monotonic()
        p = subprocess.run([binary, "--base-url", sim.base, "--report-dir", str(rd), "-q",
                            "--max-backoff-secs", "70", *client_args, "plan", str(d)],
                           env=env, capture_output=True, text=True)
        wall = time.monotonic() - t0
        if change:
            timer.cancel()
        per_second = sim.get("/_sim/stats")["per_second"]
    finally:
        sim.close()
    summary = json.loads(sorted(rd.glob("ecbn-plan-*.json"))[-1].read_text())
    return figures(per_second, limit, change) | {"exit": p.returncode, "wall": wall, "rate": summary.get("rate"),
                                                  "per_second": per_second, "summary": summary}


def figures(per_second, limit, change):
    """Achieved/limit and the 429 share after the first 5 s (of the seconds with traffic);
    after a change, also the seconds it took to get under 1.1x the new limit and the 429
    share after it."""
    busy = [s for s in per_second if s["requests"] > 0]
    last = busy[-1]["t"] if busy else 0
    part = [s for s in per_second if 5 <= s["t"] < last]  # the last second is partial
    sent = sum(s["requests"] for s in part)
    n429 = sum(s["429"] for s in part)
    seconds = max(1, len(part))
    if change:
        at, new = change
        before = [s for s in part if s["t"] < at]
        limit_before = sum((s["requests"] - s["429"]) for s in before) / max(1, len(before)) / limit
        after = [s for s in per_second if s["t"] >= at and s["t"] < last]
        over = [s["t"] - at for s in after if s["requests"] > 1.1 * new]
        settled = (max(over) + 1) if over else 0
        sent_after = sum(s["requests"] for s in after)
        return {"ratio": limit_before, "share": sum(s["429"] for s in after) / max(1, sent_after),
                "settled_s": settled, "requests": sent}
    return {"ratio": (sent - n429) / seconds / limit, "share": n429 / max(1, sent), "requests": sent}


def run_all(binary, work, sim_cls, generate, smoke, plot_dir=None):
    rows, figs = [], {}
    only = os.environ.get("ECBN_RATES_ONLY")  # one scenario, by its exact name
    for i, (name, sim_args, limit, people, change, client_args) in enumerate(SMOKE if smoke else FULL):
        if only and name != only:
            continue
        r = scenario(binary, work, sim_cls, generate, name, sim_args, limit, people, change, client_args)
        key = f"auto_{i}"
        figs[f"{key}_ratio"], figs[f"{key}_share"] = r["ratio"], r["share"]
        note = f"{r['requests']} requests after 5 s, exit {r['exit']}, rate {r['rate']}"
        if change:
            figs[f"{key}_settled_s"] = r["settled_s"]
            note += f"; under 1.1x the new limit {r['settled_s']} s after the change (target <= 10)"
            label = f"{name}: before / 429s after"
        else:
            label = name
        rows.append((f"{label}", f"{r['ratio']:.3f} / {r['share'] * 100:.2f}%", note))
        if plot_dir:
            Path(plot_dir).mkdir(parents=True, exist_ok=True)
            slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
            plot(Path(plot_dir) / f"rate-{slug}.svg", name, r["per_second"], limit, change)
    return rows, figs


def plot(path, title, per_second, limit, change):
    """Requests per second sent (line), those answered 429 (red bars) and the server's
    limit (dashed), over the run's seconds."""
    W, H, L, B, T = 720, 300, 50, 30, 30
    n = max(1, len(per_second))
    peak = max([s["requests"] for s in per_second] + [limit * 1.3, 1])
    x = lambda t: L + (W - L - 10) * t / n
    y = lambda v: H - B - (H - B - T) * v / peak
    sent = " ".join(f"{x(s['t'] + 0.5):.1f},{y(s['requests']):.1f}" for s in per_second)
    ok = " ".join(f"{x(s['t'] + 0.5):.1f},{y(s['requests'] - s['429']):.1f}" for s in per_second)
    bars = "".join(
        f'<rect x="{x(s["t"]):.1f}" y="{y(s["429"]):.1f}" width="{max(1.0, x(1) - x(0)):.1f}" '
        f'height="{(H - B) - y(s["429"]):.1f}" fill="#d33"/>' for s in per_second if s["429"])
    if change:
        at, new = change
        lim = f'M{x(0):.1f},{y(limit):.1f} H{x(at):.1f} V{y(new):.1f} H{x(n):.1f}'
    else:
        lim = f'M{x(0):.1f},{y(limit):.1f} H{x(n):.1f}'
    ticks = "".join(f'<text x="{L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>'
                    f'<line x1="{L}" x2="{W - 10}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>'
                    for v in nice_ticks(peak))
    tticks = "".join(f'<text x="{x(t):.1f}" y="{H - B + 16}" text-anchor="middle">{t}s</text>'
                     for t in range(0, n, max(1, n // 8)))
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">
<rect width="{W}" height="{H}" fill="white"/>
<text x="{L}" y="18" font-size="13">{esc(title)}: requests per second (429s in red)</text>
{ticks}{tticks}{bars}
<path d="{lim}" fill="none" stroke="#555" stroke-dasharray="6,4"/>
<polyline points="{sent}" fill="none" stroke="#888" stroke-width="1"/>
<polyline points="{ok}" fill="none" stroke="#1565c0" stroke-width="1.5"/>
<text x="{W - 12}" y="{T + 12}" text-anchor="end"><tspan fill="#1565c0">answered</tspan> · <tspan fill="#888">sent</tspan> · <tspan fill="#555">limit (dashed)</tspan></text>
</svg>
"""
    path.write_text(svg)


def nice_ticks(peak):
    step = 10 ** max(0, len(str(int(peak))) - 1)
    if peak / step < 3:
        step /= 2
    return [i * step for i in range(0, int(peak / step) + 1)]


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
