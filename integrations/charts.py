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

    def stacked_bar_chart(
        self,
        *,
        title: str,
        labels: list[str],
        series: list[tuple[str, list[float]]],
        x_label: str,
    ) -> bytes:
        with _lock:
            from matplotlib.figure import Figure

            figure = Figure(figsize=(6, 1.2 + 0.5 * len(labels)), dpi=100)
            axes = figure.subplots()
            positions = list(range(len(labels)))
            starts = [0.0] * len(labels)
            # Light to dark: the higher the level, the darker its part of the bar.
            colours = ["#d6e6f5", "#9ecae1", "#6baed6", "#2f7fc1", "#0b4f8a"]
            for index, (name, values) in enumerate(series):
                axes.barh(
                    positions,
                    values,
                    left=starts,
                    label=name,
                    color=colours[index % len(colours)],
                    edgecolor="white",
                )
                starts = [start + value for start, value in zip(starts, values, strict=True)]
            axes.set_yticks(positions, labels, fontsize=8)
            axes.invert_yaxis()  # the first label on top, as listed
            axes.set_xlabel(x_label)
            axes.set_title(title)
            axes.legend(fontsize=7, loc="lower right", ncols=len(series))
            axes.grid(axis="x", alpha=0.3)
            figure.tight_layout()
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
        return buffer.getvalue()
