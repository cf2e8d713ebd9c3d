"""`latency.png`: read latency against conversation size, log-log, one line per backend."""

from __future__ import annotations

from pathlib import Path

from . import backends as bk
from .results import READ_ALL, READ_LAST20, WORKLOAD_TITLES, Results

_STYLE = {
    bk.AGENT: ("#d6336c", "o"),
    bk.JSON: ("#f08c00", "s"),
    bk.SDK_REDIS: ("#1c7ed6", "^"),
    bk.SDK_SQLITE: ("#37b24d", "v"),
    bk.MESSAGE_HISTORY: ("#7048e8", "D"),
}


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def write_plot(results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    for ax, workload in zip(axes, (READ_ALL, READ_LAST20), strict=True):
        sizes = results.sizes(workload)
        for name in results.backends:
            points = [
                (size, series.median * 1000)
                for size in sizes
                if (series := results.series(workload, size, name)) is not None
            ]
            if not points:
                continue
            color, marker = _STYLE.get(name, ("#495057", "."))
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker=marker, color=color, label=name, linewidth=1.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("conversation size (items)")
        ax.set_title(
            WORKLOAD_TITLES[workload].split(" (")[0]
            + "\n"
            + ("get_items()" if workload == READ_ALL else "get_items(limit=20)"),
            fontsize=10,
        )
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("median latency (ms)")
    axes[1].legend(fontsize=8, loc="upper left")
    fig.suptitle("Read latency against conversation size (lower is better)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
