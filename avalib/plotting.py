"""Figures: image grids and labelled bar charts, returned as matplotlib figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no screen; notebooks still display the returned figures inline

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import FormatStrFormatter


FRAME_COLOURS = {"red": (0.85, 0.1, 0.1), "green": (0.1, 0.65, 0.1)}


def tile_images(images: torch.Tensor, columns: int, padding: int = 1,
                frames: list[str | None] | None = None) -> torch.Tensor:
    """Tile (N, C, H, W) images in [0, 1] into one (H', W', C) array, white padding between;
    ``frames`` (one colour name of ``FRAME_COLOURS`` or None per image) draws a coloured border
    in an image's padding (grey images are then tiled in RGB)."""
    count, channels, height, width = images.shape
    if frames is not None and channels == 1:
        images, channels = images.repeat(1, 3, 1, 1), 3
    padding = max(padding, 4) if frames is not None else padding
    edge = padding // 2                   # a frame takes half of the gap on each side
    rows = -(-count // columns)
    canvas = torch.ones(channels, rows * (height + padding) + padding,
                        columns * (width + padding) + padding)
    for index in range(count):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        if frames is not None and frames[index]:
            colour = torch.tensor(FRAME_COLOURS[frames[index]]).view(3, 1, 1)
            canvas[:, top - edge:top + height + edge, left - edge:left + width + edge] = colour
        canvas[:, top:top + height, left:left + width] = images[index]
    return canvas.permute(1, 2, 0).clamp(0, 1)


def image_grid_figure(rows: dict[str, torch.Tensor], columns: int, scale: float = 1.0,
                      title: str | None = None, frames: dict[str, list] | None = None):
    """One image grid per labelled row (e.g. a dataset, a model, a learning rate); each row's
    height follows its tiles' aspect ratio, so no space is wasted. ``frames`` maps a row label to
    per-image frame colours (``tile_images``); every row is then tiled in RGB."""
    framed = frames is not None
    tiles = {label: tile_images(images.detach().cpu().float(), columns,
                                frames=(frames.get(label) or [None] * len(images)) if framed else None)
             for label, images in rows.items()}
    width = 0.28 * columns * scale
    heights = [width * tiled.shape[0] / tiled.shape[1] for tiled in tiles.values()]
    figure, axes = plt.subplots(len(rows), 1, squeeze=False, figsize=(width + 1.5, sum(heights) + 0.6),
                                gridspec_kw={"height_ratios": heights})
    for axis, (label, tiled) in zip(axes[:, 0], tiles.items()):
        axis.imshow(tiled.squeeze(-1) if tiled.shape[-1] == 1 else tiled,
                    cmap="gray" if tiled.shape[-1] == 1 else None, vmin=0, vmax=1,
                    interpolation="nearest")
        axis.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        axis.set_xticks([])
        axis.set_yticks([])
    if title:
        figure.suptitle(title)
    figure.tight_layout(h_pad=0.2)
    return figure


def _panel_grid(count: int, columns: int, width: float, height: float):
    """A figure with ``count`` panels of width x height inches, ``columns`` to a row."""
    rows = -(-count // columns)
    return plt.subplots(rows, columns, squeeze=False, figsize=(width * columns, height * rows))


def _finish_panels(figure, axes, used: int, title: str | None):
    """Hide the panels past ``used``, add the title, tighten the layout."""
    for axis in axes.ravel()[used:]:
        axis.set_visible(False)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def latent_scatter_figure(panels: dict[str, tuple[torch.Tensor, torch.Tensor]], columns: int = 2,
                          title: str | None = None):
    """One scatter per panel of 2-D latent codes (N, 2) coloured by their labels (N,)."""
    figure, axes = _panel_grid(len(panels), columns, 5, 4.6)
    for axis, (name, (codes, labels)) in zip(axes.ravel(), panels.items()):
        classes = int(labels.max()) + 1
        colour_map = "tab10" if classes <= 10 else "nipy_spectral"
        points = axis.scatter(codes[:, 0], codes[:, 1], c=labels, cmap=colour_map, s=3, alpha=0.7,
                              vmin=-0.5, vmax=classes - 0.5)
        if classes <= 10:
            figure.colorbar(points, ax=axis, ticks=range(classes))
        axis.set_title(f"{name} ({int(labels.unique().numel())} classes shown)")
        axis.set_xlabel("z1")
        axis.set_ylabel("z2")
        for coordinate in (axis.xaxis, axis.yaxis):   # no offset text: codes may span 1e-5
            coordinate.set_major_formatter(FormatStrFormatter("%.2g"))
    return _finish_panels(figure, axes, len(panels), title)


def grouped_bars_figure(panels: dict, errors: dict | None = None, columns: int = 2,
                        title: str | None = None, ylabel: str | None = None):
    """One bar chart per panel; each panel is a DataFrame (rows = groups on the x axis, columns =
    bars within a group). ``errors``: DataFrames of the same shape drawn as error bars."""
    figure, axes = _panel_grid(len(panels), columns, 6.5, 3.6)
    for axis, (name, frame) in zip(axes.ravel(), panels.items()):
        error = None if errors is None else errors.get(name)
        frame.plot.bar(ax=axis, yerr=error, capsize=2, width=0.8, rot=0, legend=False)
        axis.set_title(name)
        axis.grid(axis="y", alpha=0.3)
        if ylabel:
            axis.set_ylabel(ylabel)
    axes.ravel()[0].legend(fontsize=8)
    return _finish_panels(figure, axes, len(panels), title)


def metric_lines_figure(frame, x: str, metrics: list[str], panel: str, line: list[str],
                        logx: bool = False, title: str | None = None, spread: str | None = "seed"):
    """A grid of line plots: one row per value of ``panel`` (e.g. dataset), one column per metric,
    one line per combination of the ``line`` columns, ``x`` on the horizontal axis. Where the
    frame holds several values of ``spread`` (seeds) per point, the line is their mean and the
    error bars their SD; the legend says how many."""
    panels = list(dict.fromkeys(frame[panel]))
    figure, axes = plt.subplots(len(panels), len(metrics), squeeze=False,
                                figsize=(3.6 * len(metrics), 2.8 * len(panels)))
    repeats = frame.groupby([panel, *line, x])[x].size().max() if spread in frame else 1
    for row, name in zip(axes, panels):
        for axis, metric in zip(row, metrics):
            for key, group in frame[frame[panel] == name].groupby(line, sort=False):
                key = key if isinstance(key, tuple) else (key,)
                label = ", ".join(f"{column}={value}" for column, value in zip(line, key))
                points = group.groupby(x, sort=True)[metric]
                axis.errorbar(points.mean().index, points.mean(),
                              yerr=points.std(ddof=1) if repeats > 1 else None,
                              marker="o", markersize=3, capsize=2, label=label)
            if logx:
                axis.set_xscale("symlog", linthresh=1e-4)
            axis.set_title(f"{name}: {metric}", fontsize=9)
            axis.set_xlabel(x + (" (symmetric log scale)" if logx else ""), fontsize=8)
            axis.set_ylabel(metric, fontsize=8)
            axis.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, title=f"mean +- SD over up to {repeats} {spread}s (no bar: one)"
                      if repeats > 1 else None,
                      title_fontsize=7)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
