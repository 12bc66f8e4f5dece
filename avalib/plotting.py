"""Figures: image grids and labelled bar charts, returned as matplotlib figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no screen; notebooks still display the returned figures inline

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import FormatStrFormatter


FRAME_COLOURS = {"red": (0.85, 0.1, 0.1), "green": (0.1, 0.65, 0.1)}

# The datasets' names in words (also the front page's, ``avalib.findings``).
DATASET_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "omniglot_alphabets": "Omniglot",
                 "caltech101_silhouettes": "Caltech-101 Silhouettes", "cifar10": "CIFAR-10"}
# Axis and legend words for the study's column names (anything else is shown with spaces).
WORDS = {"pixel_mse": "pixel MSE", "label_agreement": "label agreement",
         "sharpness_ratio": "sharpness / real (1 = as sharp)", "frechet_distance": "Frechet distance",
         "feature_loss": "feature loss L_rec", "step2_steps": "Algorithm 2 iterations", "beta": "beta",
         "Kz": "K_z", "gamma": "gamma", "epoch": "epoch", "reconstruction_mse": "reconstruction MSE",
         "classifier_inception_score": "classifier Inception Score", **DATASET_NAMES}

# Measures that lie in [0, 1] by definition: their spread bars stop at the bounds.
BOUNDED = {"label_agreement", "label_agreement_inputs", "class_coverage", "precision", "recall"}


def spread_bars(mean, sd, metric: str):
    """Error bars of +-``sd`` around ``mean``, cut at 0 and 1 for a ``BOUNDED`` measure (a mean
    +- SD that leaves the range would draw values the measure cannot take): (lower, upper)."""
    sd = np.asarray(sd, dtype=float)
    if metric not in BOUNDED:
        return np.stack([sd, sd])
    mean = np.asarray(mean, dtype=float)
    return np.stack([np.minimum(sd, mean), np.minimum(sd, 1 - mean)])


def words(name: str) -> str:
    """A column name as a reader's words (``WORDS``)."""
    head, _, rest = str(name).partition(" (")
    return WORDS.get(head, head.replace("_", " ")) + (f" ({rest}" if rest else "")


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
                      title: str | None = None, frames: dict[str, list] | None = None,
                      column_labels: list[str] | None = None, frame_legend: dict[str, str] | None = None):
    """One image grid per labelled row (e.g. a dataset, a model, a learning rate); each row's
    height follows its tiles' aspect ratio, so no space is wasted. ``frames`` maps a row label to
    per-image frame colours (``tile_images``); every row is then tiled in RGB, and ``frame_legend``
    (colour -> what it marks) says what the frames mean. ``column_labels`` heads the columns of
    the first row (e.g. one learning rate per column)."""
    framed = frames is not None
    tiles = {label: tile_images(images.detach().cpu().float(), columns,
                                frames=(frames.get(label) or [None] * len(images)) if framed else None)
             for label, images in rows.items()}
    width = 0.28 * columns * scale
    heights = [width * tiled.shape[0] / tiled.shape[1] for tiled in tiles.values()]
    top = 0.5 + (0.3 if title else 0) + (0.3 if column_labels else 0) + (0.3 if frame_legend else 0)
    figure, axes = plt.subplots(len(rows), 1, squeeze=False, figsize=(width + 2.2, sum(heights) + top),
                                gridspec_kw={"height_ratios": heights})
    for axis, (label, tiled) in zip(axes[:, 0], tiles.items()):
        axis.imshow(tiled.squeeze(-1) if tiled.shape[-1] == 1 else tiled,
                    cmap="gray" if tiled.shape[-1] == 1 else None, vmin=0, vmax=1,
                    interpolation="nearest")
        axis.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
        axis.set_xticks([])
        axis.set_yticks([])
    if column_labels:
        first = axes[0, 0]
        step = tiles[next(iter(tiles))].shape[1] / columns
        for column, text in enumerate(column_labels):
            first.text((column + 0.5) * step, -2, text, ha="center", va="bottom", fontsize=10)
    if frame_legend:
        from matplotlib.patches import Patch
        handles = [Patch(facecolor="none", edgecolor=FRAME_COLOURS[colour], linewidth=2.5, label=text)
                   for colour, text in frame_legend.items()]
        figure.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=10, frameon=False,
                      bbox_to_anchor=(0.5, 1.0 - (0.3 if title else 0) / (sum(heights) + top)))
    if title:
        figure.suptitle(title, fontsize=12, y=1.0)
    figure.tight_layout(h_pad=0.2, rect=(0, 0, 1, 1 - (top - 0.5) / (sum(heights) + top)))
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
                          title: str | None = None, class_names: dict[str, tuple[str, ...]] | None = None):
    """One scatter per panel of 2-D latent codes (N, 2) coloured by their labels (N,), with a
    colour bar as the class key: up to 10 classes each named (``class_names``: panel -> names,
    else the label numbers); more, a continuous bar of class numbers, its first and last class
    named where the names are known."""
    figure, axes = _panel_grid(len(panels), columns, 5.4, 4.6)
    for axis, (name, (codes, labels)) in zip(axes.ravel(), panels.items()):
        classes = int(labels.max()) + 1
        colour_map = "tab10" if classes <= 10 else "nipy_spectral"
        points = axis.scatter(codes[:, 0], codes[:, 1], c=labels, cmap=colour_map, s=3, alpha=0.7,
                              vmin=-0.5, vmax=classes - 0.5)
        names = list((class_names or {}).get(name) or [])
        ticks = list(range(classes)) if classes <= 10 else sorted({0, *range(9, classes, 10), classes - 1})
        bar = figure.colorbar(points, ax=axis, ticks=ticks)
        if len(names) >= classes:
            bar.set_ticklabels([names[t] if classes <= 10 or t in (0, classes - 1) else str(t) for t in ticks],
                               fontsize=8)
        if classes > 10:
            bar.set_label("class number (colour)", fontsize=8)
        axis.set_title(f"{words(name)} ({int(labels.unique().numel())} classes shown)", fontsize=10)
        axis.set_xlabel("z1")
        axis.set_ylabel("z2")
        for coordinate in (axis.xaxis, axis.yaxis):   # no offset text: codes may span 1e-5
            coordinate.set_major_formatter(FormatStrFormatter("%.2g"))
    return _finish_panels(figure, axes, len(panels), title)


def grouped_bars_figure(panels: dict, errors: dict | None = None, columns: int = 2,
                        title: str | None = None, ylabel: str | None = None,
                        points: dict | None = None, notes: dict | None = None):
    """One bar chart per panel; each panel is a DataFrame (rows = groups on the x axis, columns =
    bars within a group). ``errors``: DataFrames of the same shape drawn as error bars;
    ``points``: DataFrames of the same shape whose cells hold the per-seed values, drawn as dots
    on their bar; ``notes``: DataFrames of the same shape whose non-empty cells are written where
    a bar is missing (e.g. "diverged (5 of 5 seeds)"). One legend for all panels, below them."""
    figure, axes = _panel_grid(len(panels), columns, 6.5, 3.8)
    for axis, (name, frame) in zip(axes.ravel(), panels.items()):
        error = None if errors is None else errors.get(name)
        frame.plot.bar(ax=axis, yerr=error, capsize=2, width=0.8, rot=0, legend=False)
        bars = len(frame.columns)
        offset = lambda column: -0.4 + (column + 0.5) * 0.8 / bars
        labelled = False
        for column, label in enumerate(frame.columns):
            for group, index in enumerate(frame.index):
                x = group + offset(column)
                if points is not None and name in points:
                    values = [v for v in (points[name].loc[index, label] or ()) if v == v]
                    axis.plot([x] * len(values), values, "o", color="black", markersize=2.2, alpha=0.6,
                              zorder=3, label=None if labelled or not values else "one seed")
                    labelled = labelled or bool(values)
                note = "" if notes is None or name not in notes else notes[name].loc[index, label]
                if note and frame.loc[index, label] != frame.loc[index, label]:
                    axis.text(x, 0, note, rotation=90, ha="center", va="bottom", fontsize=8.5,
                              color="firebrick", fontweight="bold")
        axis.set_title(name, fontsize=11)
        axis.grid(axis="y", alpha=0.3)
        if ylabel:
            axis.set_ylabel(ylabel, fontsize=10)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    labels = [words(label) for label in labels]
    _finish_panels(figure, axes, len(panels), title)
    figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(labels),
                  fontsize=9, frameon=False)
    return figure


def metric_lines_figure(frame, x: str, metrics: list[str], panel: str, line: list[str],
                        logx: bool = False, title: str | None = None, spread: str | None = "seed"):
    """A grid of line plots: one row per value of ``panel`` (e.g. dataset), one column per metric,
    one line per combination of the ``line`` columns, ``x`` on the horizontal axis. Where the
    frame holds several values of ``spread`` (seeds) per point, the line is their mean, the error
    bars their SD, and each seed is a small dot of the line's colour beside it; the legend, below
    the panels, says how many."""
    panels = list(dict.fromkeys(frame[panel]))
    figure, axes = plt.subplots(len(panels), len(metrics), squeeze=False,
                                figsize=(4.0 * len(metrics), 3.1 * len(panels)))
    repeats = frame.groupby([panel, *line, x])[x].size().max() if spread in frame else 1
    for row, name in zip(axes, panels):
        for axis, metric in zip(row, metrics):
            for key, group in frame[frame[panel] == name].groupby(line, sort=False):
                key = key if isinstance(key, tuple) else (key,)
                label = ", ".join(f"{words(column)} = {value}" for column, value in zip(line, key))
                points = group.groupby(x, sort=True)[metric]
                drawn = axis.errorbar(points.mean().index, points.mean(),
                                      yerr=spread_bars(points.mean(), points.std(ddof=1), metric)
                                      if repeats > 1 else None,
                                      marker="o", markersize=3, capsize=2, label=label)
                if repeats > 1:
                    axis.plot(group[x], group[metric], ".", markersize=3, alpha=0.45,
                              color=drawn.lines[0].get_color())
            if logx:
                axis.set_xscale("symlog", linthresh=1e-4)
            axis.set_title(f"{name}: {words(metric)}", fontsize=10)
            axis.set_xlabel(words(x) + (" (symmetric log scale)" if logx else ""), fontsize=9)
            axis.set_ylabel(words(metric), fontsize=9)
            axis.tick_params(labelsize=8)
            axis.grid(alpha=0.3)
    if title:
        figure.suptitle(title, fontsize=12)
    figure.tight_layout()
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(labels), 4),
                  fontsize=9, frameon=False,
                  title=f"mean +- SD over up to {repeats} {spread}s (dots: one seed each; no bar: one)"
                  if repeats > 1 else None, title_fontsize=9)
    return figure


def _seed_strips(axis, part, group: str, value: str, margin: str | None, across: bool) -> None:
    """One strip of dots (one per seed) per ``group`` with its mean as a bar, zero as a line and
    +-``margin`` shaded; ``across``: the groups down the y axis, the differences along x."""
    groups = list(dict.fromkeys(part[group]))
    line, span = (axis.axvline, axis.axvspan) if across else (axis.axhline, axis.axhspan)
    if margin and len(part) and part[margin].notna().any():
        band = float(part[margin].dropna().iloc[0])
        span(-band, band, color="tab:green", alpha=0.15, label="equivalence band (+-margin)")
    line(0, color="black", linewidth=0.8)
    for position, name in enumerate(groups):
        values = part[part[group] == name][value].to_numpy(dtype=float)
        at, bar = [position] * len(values), [position - 0.25, position + 0.25]
        mean = [np.nanmean(values)] * 2
        axis.plot(*((values, at) if across else (at, values)), "o", color="tab:blue", alpha=0.6,
                  markersize=4, label="one seed" if position == 0 else None)
        axis.plot(*((mean, bar) if across else (bar, mean)), color="tab:red", linewidth=2,
                  label="mean over seeds" if position == 0 else None)
    if across:
        axis.set_yticks(range(len(groups)), groups, fontsize=9)
        axis.invert_yaxis()                       # the first group on top, as in the table
    else:
        axis.set_xticks(range(len(groups)), groups, rotation=30, ha="right", fontsize=9)
    axis.grid(axis="x" if across else "y", alpha=0.3)
    axis.tick_params(axis="x" if across else "y", labelsize=8)


def _legend_below(figure, axes) -> None:
    """One legend under the panels: every label any panel has, once."""
    shown = {}
    for axis in np.ravel(axes):
        for handle, name in zip(*axis.get_legend_handles_labels()):
            shown.setdefault(name, handle)
    figure.legend(list(shown.values()), list(shown), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(shown),
                  fontsize=9, frameon=False)


def paired_differences_figure(frame, row: str, column: str | None, group: str, value: str = "difference",
                              margin: str | None = "margin", title: str | None = None, label: str | None = None):
    """Per-seed differences against a baseline: one panel per (``row``, ``column``) value, one
    strip of dots (one per seed) per ``group`` on the x axis with its mean as a bar, zero as a
    line, and +-``margin`` (a column, one value per panel) shaded: the equivalence band.
    ``column`` None: one panel per ``row`` value, stacked, each as tall as its groups need, the
    groups down the y axis (their names read across) and the differences along x, named by the
    panel's ``label`` column."""
    if column is None:
        return _stacked_differences(frame, row, group, value, margin, title, label)
    rows, columns = list(dict.fromkeys(frame[row])), list(dict.fromkeys(frame[column]))
    figure, axes = plt.subplots(len(rows), len(columns), squeeze=False,
                                figsize=(4.2 * len(columns), 3.4 * len(rows)))
    for axis_row, row_value in zip(axes, rows):
        for axis, column_value in zip(axis_row, columns):
            part = frame[(frame[row] == row_value) & (frame[column] == column_value)]
            _seed_strips(axis, part, group, value, margin, across=False)
            axis.set_title(f"{row_value}\n{words(column_value)}", fontsize=10)   # two lines: never wider than the panel
    if title:
        figure.suptitle(title, fontsize=12)
    figure.tight_layout()
    _legend_below(figure, axes)
    return figure


def _stacked_differences(frame, row: str, group: str, value: str, margin: str | None,
                         title: str | None, label: str | None):
    panels = list(dict.fromkeys(frame[row]))
    sizes = [frame.loc[frame[row] == p, group].nunique() for p in panels]
    figure, axes = plt.subplots(len(panels), 1, squeeze=False, figsize=(8.5, 1.2 + sum(0.32 * n + 0.9 for n in sizes)),
                                gridspec_kw={"height_ratios": [n + 2.5 for n in sizes]})
    for axis, panel in zip(axes[:, 0], panels):
        part = frame[frame[row] == panel]
        _seed_strips(axis, part, group, value, margin, across=True)
        axis.set_title(str(panel), fontsize=10)
        if label:
            axis.set_xlabel(words(part[label].iloc[0]), fontsize=9)
    if title:
        figure.suptitle(title, fontsize=12)
    figure.tight_layout()
    _legend_below(figure, axes)
    return figure


# One colour per verdict kind (Okabe-Ito, distinguishable without colour vision), the cell's
# word written on it as well.
VERDICT_COLOURS = {"holds": "#009E73", "equivalent": "#56B4E9", "does not hold": "#D55E00",
                   "inconclusive": "#E0E0E0", "diverged": "#8C8C8C"}
VERDICT_TEXT = {"holds": "holds", "equivalent": "equiv.", "does not hold": "no", "inconclusive": "?",
                "diverged": "div."}


def _short(label: str, width: int) -> str:
    """A label cut to ``width`` characters at a word, keeping a short final "(...)" or "[...]"
    (a dataset, a measure) whole."""
    if len(label) <= width:
        return label
    tail = ""
    for opening, closing in ("()", "[]"):
        if label.endswith(closing) and opening in label and len(label) - label.rindex(opening) <= 36:
            tail = label[label.rindex(opening) - 1:]
    head = label[:len(label) - len(tail)]
    return head[:width - 4 - len(tail)].rsplit(" ", 1)[0] + " ..." + tail


def verdict_matrix_figure(matrices: dict, legend: str = "", label_width: int = 64):
    """Claims x conditions, one panel per study: each cell coloured by its verdict's kind (a key
    of ``VERDICT_COLOURS``, marks appended, e.g. "holds*"), its word and marks written on it;
    blank where the claim was not judged under that condition. The first (widest) panel spans the
    top, the others stand side by side below it. ``matrices``: panel title -> DataFrame of cells
    (rows: claims, columns: conditions)."""
    titles = list(matrices)
    first, rest = matrices[titles[0]], [matrices[t] for t in titles[1:]]
    label = 0.075 * label_width                       # inches of row labels beside each panel
    width = max(label + 0.8 * len(first.columns), sum(label + 0.8 * len(m.columns) for m in rest))
    below = max((len(m) for m in rest), default=0)
    figure = plt.figure(figsize=(width, 0.22 * (len(first) + below) + 4.2))
    grid = figure.add_gridspec(2 if rest else 1, max(len(rest), 1),
                               height_ratios=[len(first) + 4, below + 4] if rest else [1],
                               width_ratios=[label / 0.8 + len(m.columns) for m in rest] or [1])
    axes = [figure.add_subplot(grid[0, :])] + [figure.add_subplot(grid[1, i]) for i in range(len(rest))]
    for axis, title in zip(axes, titles):
        cells = matrices[title]
        for i, row in enumerate(cells.index):
            for j, column in enumerate(cells.columns):
                cell = str(cells.loc[row, column])
                verdict = cell.rstrip("*+")
                if not verdict:
                    continue
                axis.add_patch(plt.Rectangle((j, i), 1, 1, facecolor=VERDICT_COLOURS[verdict], edgecolor="white"))
                axis.text(j + 0.5, i + 0.55, VERDICT_TEXT[verdict] + cell[len(verdict):], ha="center",
                          va="center", fontsize=7.5, color="white" if verdict in ("does not hold", "diverged") else "black")
        axis.set_xlim(0, len(cells.columns))
        axis.set_ylim(len(cells), 0)
        axis.set_yticks(np.arange(len(cells)) + 0.5, [_short(str(r), label_width) for r in cells.index], fontsize=7.5)
        axis.set_xticks(np.arange(len(cells.columns)) + 0.5, [str(c) for c in cells.columns], fontsize=7.5,
                        rotation=30, ha="left")
        axis.xaxis.tick_top()
        axis.tick_params(length=0)
        for side in axis.spines.values():
            side.set_visible(False)
        axis.set_title(title, fontsize=10, loc="left", fontweight="bold")
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=c) for c in VERDICT_COLOURS.values()]
    figure.legend(handles, [k if VERDICT_TEXT[k] == k else f"{VERDICT_TEXT[k]} = {k}" for k in VERDICT_COLOURS],
                  loc="lower center",
                  ncol=len(handles), fontsize=8, frameon=False)
    if legend:
        figure.text(0.5, 0.035, legend, ha="center", fontsize=7.5, wrap=True)
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    return figure
