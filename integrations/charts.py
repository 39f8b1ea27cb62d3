"""`ChartRenderer` with matplotlib, drawn off-screen (the Agg backend needs no display)."""

from __future__ import annotations

import io
import threading

# pyplot keeps global state; building Figure objects directly avoids it, and the lock guards
# matplotlib's font cache, which is not safe to fill from two threads at once.
_lock = threading.Lock()


class MatplotlibCharts:
    def line_chart(
        self,
        *,
        title: str,
        labels: list[str],
        values: list[float],
        y_label: str,
        y_range: tuple[float, float],
    ) -> bytes:
        with _lock:
            # Imported on the first chart: matplotlib and numpy add ~40 MB and a second of
            # start-up to every serve worker, and most workers never draw a chart.
            from matplotlib.figure import Figure

            figure = Figure(figsize=(6, 3), dpi=100)
            axes = figure.subplots()
            positions = list(range(len(values)))
            axes.plot(positions, values, marker="o", color="#1264a3")
            axes.axhline(0, color="#999999", linewidth=0.8)
            axes.set_xticks(positions, labels, rotation=30, ha="right", fontsize=8)
            axes.set_ylim(*y_range)
            axes.set_ylabel(y_label)
            axes.set_title(title)
            axes.grid(axis="y", alpha=0.3)
            figure.tight_layout()
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
        return buffer.getvalue()
