"""The plot beside RESULTS.md: release latency against its floor, deployer scale-out
(processes and prefetch, and the rate at which the most processes' CPU per task would
keep every core busy), and the speed-up over one process at the 20 ms target and at
the control's 100 ms, drawn from bench/results/*.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import RESULTS

PNG = Path(__file__).parent / "results.png"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def draw() -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot (make venv installs it)")
        return None
    latency, scale = _load("release_latency"), _load("scaleout")
    fig, (left, right, third) = plt.subplots(1, 3, figsize=(17, 4.5))
    if latency:
        r = latency["results"][0]
        runs = range(1, len(r["details"]["latencies_ms"]) + 1)
        d = r["details"]
        left.plot(runs, d["latencies_ms"], "o-", label="releasegate: deploy -> all polled")
        left.plot(runs, d["floors_ms"], "s--", label="floor: HTTP + 100 AMQP RT + 100 updates")
        left.plot(runs, [3 * f for f in r["details"]["floors_ms"]], ":", label="target: 3x floor")
        left.set_xlabel("repetition")
        left.set_ylabel("ms")
        left.set_title("Release latency, 100-task package")
        left.set_ylim(bottom=0)
        left.legend(fontsize=8)
    if scale:
        d = scale["results"][0]["details"]
        procs = d["processes"]
        xs = [int(k) for k in procs]
        right.plot(xs, [procs[k] for k in procs], "o-", label="deployer processes (prefetch 1)")
        ideal = [procs[str(xs[0])] * x for x in xs]
        right.plot(xs, ideal, ":", label="linear")
        busy, cores = d.get("busy_cores") or {}, d.get("cores")
        top = busy.get(f"processes {xs[-1]}")
        if top and cores:
            # What the machine's cores could finish at the CPU per task of the most
            # processes: the servers and services all share them.
            ceiling = cores * procs[str(xs[-1])] / top
            right.axhline(ceiling, color="grey", linestyle="-.", linewidth=1)
            right.annotate(
                f"ceiling of {xs[-1]} processes: {cores} cores at their CPU per task"
                f" ({ceiling:.0f}/s)",
                (xs[0], ceiling),
                textcoords="offset points",
                xytext=(0, 4),
                fontsize=8,
                color="grey",
            )
        pre = d.get("prefetch") or {}
        if pre:
            right.plot(
                [int(k) for k in pre],
                [pre[k] for k in pre],
                "s--",
                label="one process, prefetch = x",
            )
        right.set_xlabel("processes (or prefetch)")
        right.set_ylabel("tasks/s")
        right.set_xscale("log", base=2)
        right.set_title("Deployer scale-out, 20 ms I/O-bound target")
        right.legend(fontsize=8)
        _speed_up(third, scale["results"])
    fig.tight_layout()
    fig.savefig(PNG, dpi=110)
    plt.close(fig)
    print(f"plot: {PNG}")
    return PNG


def _speed_up(ax: Any, results: list[dict[str, Any]]) -> None:
    """Tasks/s over one process's, for each process count: the target's phases and
    the control's (a slower target, so four processes leave cores idle)."""
    top = 1
    for r, style in zip(results, ("o-", "^--"), strict=False):
        procs = r["details"]["processes"]
        xs = [int(k) for k in procs]
        top = max(top, *xs)
        label = r["metric"].split("(", 1)[1].rstrip(")")
        ax.plot(xs, [procs[k] / procs[str(xs[0])] for k in procs], style, label=label)
    ax.plot([1, top], [1, top], ":", color="grey", label="linear")
    ax.axhline(3.5, color="red", linestyle="-.", linewidth=1, label="target at 4: 3.5x")
    ax.set_xlabel("deployer processes (prefetch 1)")
    ax.set_ylabel("speed-up over one process")
    ax.set_title("Scale-out: the target and the control")
    ax.legend(fontsize=8)
