"""Figures: image grids and labelled bar charts, returned as matplotlib figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no screen; notebooks still display the returned figures inline

import matplotlib.pyplot as plt
import torch


def tile_images(images: torch.Tensor, columns: int, padding: int = 1) -> torch.Tensor:
    """Tile (N, C, H, W) images in [0, 1] into one (H', W', C) array, white padding between."""
    count, channels, height, width = images.shape
    rows = -(-count // columns)
    canvas = torch.ones(channels, rows * (height + padding) + padding,
                        columns * (width + padding) + padding)
    for index in range(count):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        canvas[:, top:top + height, left:left + width] = images[index]
    return canvas.permute(1, 2, 0).clamp(0, 1)


def image_grid_figure(rows: dict[str, torch.Tensor], columns: int, scale: float = 1.0,
                      title: str | None = None):
    """One image grid per labelled row (e.g. a dataset, a model, a learning rate)."""
    figure, axes = plt.subplots(len(rows), 1, squeeze=False,
                                figsize=(scale * columns * 0.6, scale * 0.75 * len(rows) *
                                         max(1.0, 0.6 * columns / 10)))
    for axis, (label, images) in zip(axes[:, 0], rows.items()):
        tiled = tile_images(images.detach().cpu().float(), columns)
        axis.imshow(tiled.squeeze(-1) if tiled.shape[-1] == 1 else tiled,
                    cmap="gray" if tiled.shape[-1] == 1 else None, vmin=0, vmax=1,
                    interpolation="nearest")
        axis.set_ylabel(label, rotation=0, ha="right", va="center")
        axis.set_xticks([])
        axis.set_yticks([])
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def grouped_bars_figure(panels: dict, errors: dict | None = None, columns: int = 2,
                        title: str | None = None):
    """One bar chart per panel; each panel is a DataFrame (rows = groups on the x axis, columns =
    bars within a group). ``errors``: DataFrames of the same shape drawn as error bars."""
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, squeeze=False, figsize=(6.5 * columns, 3.6 * rows))
    for axis, (name, frame) in zip(axes.ravel(), panels.items()):
        error = None if errors is None else errors.get(name)
        frame.plot.bar(ax=axis, yerr=error, capsize=2, width=0.8, rot=0, legend=False)
        axis.set_title(name)
        axis.grid(axis="y", alpha=0.3)
    axes.ravel()[0].legend(fontsize=8)
    for axis in axes.ravel()[len(panels):]:
        axis.set_visible(False)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
