"""PNG plots for every benchmark (`--plot FILE.png`): seconds against problem size or case,
one line per tool and variant, log scale.

matplotlib (a dev dependency) is imported only when a plot is asked for, with the Agg
backend, so no display is needed. A run that did not finish is drawn as a cross on the
panel's `limit` line (its timeout), never as a time it did not take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["TOOL_COLOURS", "Panel", "Series", "colour_for", "save_plot", "style_for"]

TOOL_COLOURS = {
    "depsat": "tab:blue", "depsat-stratified": "tab:purple", "resolvelib": "tab:orange",
    "libsolv": "tab:green", "uv": "tab:red", "importlib.metadata": "tab:olive",
    "pip": "tab:brown", "depsat-urllib3": "tab:cyan", "depsat-lex": "tab:pink",
}
"""The same colour for a tool in every benchmark's plot."""

_STYLES = ("-", "--", ":", "-.")


@dataclass(frozen=True)
class Series:
    """One line: `points` are (x, seconds); `failed` are the x where the run did not finish."""

    label: str
    points: Sequence[tuple[float, float]]
    failed: Sequence[float] = ()
    colour: str | None = None
    style: str = "-"


@dataclass(frozen=True)
class Panel:
    """One set of axes. With `categories`, x is a position (0, 1, ...) named by them."""

    title: str
    series: Sequence[Series]
    xlabel: str
    ylabel: str = "seconds"
    categories: Sequence[str] = field(default_factory=tuple)
    xlog: bool = True
    ylog: bool = True
    limit: float | None = None
    """A time no run exceeds (the timeout): where the crosses sit, drawn as a line only when
    a run failed (otherwise it would squash the finished runs at the bottom)."""


def style_for(index: int) -> str:
    """The line style of the index-th variant of a tool (cold/warm, conflict rates...)."""
    return _STYLES[index % len(_STYLES)]


def colour_for(tool: str, fallback: int = 0) -> str:
    return TOOL_COLOURS.get(tool, f"C{fallback % 10}")


def save_plot(path: Path, panels: Sequence[Panel], *, title: str = "",
              notes: Mapping[str, str] | None = None) -> None:
    """Draw `panels` side by side and write a PNG to `path` (its folder is made)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5), squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        for series in panel.series:
            points = sorted(series.points)
            colour = series.colour or "tab:grey"
            ax.plot([x for x, _ in points], [max(y, 1e-4) for _, y in points], series.style,
                    marker="o", color=colour, label=series.label)
            if series.failed and panel.limit is not None:
                ax.scatter(list(series.failed), [panel.limit] * len(series.failed),
                           marker="x", s=60, color=colour)
        if panel.limit is not None and any(series.failed for series in panel.series):
            ax.axhline(panel.limit, color="grey", linewidth=0.5)
        if panel.categories:
            ax.set_xticks(range(len(panel.categories)), list(panel.categories),
                          rotation=20, ha="right")
        elif panel.xlog:
            # Ticks at the measured sizes: over a decade or two, matplotlib labels minor
            # ticks too, and their labels ran into each other.
            from matplotlib.ticker import NullFormatter

            ax.set_xscale("log")
            measured = sorted({x for series in panel.series for x, _ in series.points}
                              | {x for series in panel.series for x in series.failed})
            if measured:
                ax.set_xticks(measured, [f"{x:g}" for x in measured], rotation=20,
                              ha="right")
            ax.xaxis.set_minor_formatter(NullFormatter())
        if panel.ylog:
            ax.set_yscale("log")
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel(panel.ylabel)
        ax.set_title(panel.title)
        ax.grid(True, which="both", linewidth=0.3)
        if any(series.points for series in panel.series):
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    if notes:
        fig.text(0.01, 0.01, "; ".join(f"{k}: {v}" for k, v in notes.items()), fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
