"""Figures: metric lines show the seed spread; latent scatters have no offset tick text."""

import numpy as np
import pandas as pd
import torch

from avalib import plotting


def test_metric_lines_show_mean_and_sd_over_seeds():
    frame = pd.DataFrame([{"dataset": "d", "Kz": 2, "beta": b, "seed": s, "mse": b + s}
                          for b in (0.0, 0.1) for s in (0, 1, 2)])
    figure = plotting.metric_lines_figure(frame, "beta", ["mse"], "dataset", ["Kz"])
    axis = figure.axes[0]
    line = axis.lines[0]
    assert list(line.get_ydata()) == [1.0, 1.1]                 # the mean over the 3 seeds
    assert axis.containers and axis.containers[0].has_yerr      # error bars: the SD
    assert "3 seeds" in figure.legends[0].get_title().get_text()
    assert len(axis.lines[-1].get_xdata()) == 6                 # one dot per seed and beta
    assert axis.get_xlabel() == "beta" and axis.get_ylabel() == "mse"


def test_latent_scatter_ticks_carry_no_offset_text():
    codes = torch.tensor([[1e-5, 3e-4], [2e-5, 3.1e-4], [3e-5, 3.2e-4]])
    figure = plotting.latent_scatter_figure({"tiny": (codes, torch.tensor([0, 1, 2]))})
    figure.canvas.draw()
    axis = figure.axes[0]
    assert axis.xaxis.get_offset_text().get_text() == "" and axis.yaxis.get_offset_text().get_text() == ""


def test_figure_9_frames_mark_lost_and_restored_labels():
    from avalib.zemouri.experiment import figure_9_frames
    frames = figure_9_frames({(0.0, 0.1): torch.tensor([True, False, False]),
                              (0.1, 0.1): torch.tensor([True, True, False])})
    assert frames == {"g=0.0 b=0.1": [None, "red", "red"], "g=0.1 b=0.1": [None, "green", "red"]}


def test_framed_tiles_draw_the_colour_around_the_image_only():
    images = torch.zeros(2, 1, 4, 4)
    tiled = plotting.tile_images(images, columns=2, frames=["red", None])
    assert tiled.shape[-1] == 3
    assert torch.allclose(tiled[2, 2], torch.tensor(plotting.FRAME_COLOURS["red"]))   # the frame
    assert torch.equal(tiled[4, 4], torch.zeros(3))                                   # the image
    assert torch.equal(tiled[4, 10], torch.ones(3))                # white gap before the next one


def test_paired_differences_stack_one_panel_per_claim_with_every_pair_named():
    frame = pd.DataFrame([{"claim": claim, "pair": f"{claim} pair {p}", "seed": s, "difference": p - s / 10,
                           "margin": 0.05 if claim == "C" else float("nan"), "metric": f"m{claim} (within a seed)"}
                          for claim, pairs in (("A", 4), ("C", 16)) for p in range(pairs) for s in range(3)])
    grid = plotting.paired_differences_figure(frame, row="claim", column="metric", group="pair")
    assert len(grid.axes) == 4                   # one per (claim, metric), two of them empty
    figure = plotting.paired_differences_figure(frame, row="claim", column=None, group="pair", label="metric")
    assert len(figure.axes) == 2
    a, c = figure.axes
    assert [t.get_text() for t in c.get_yticklabels()] == [f"C pair {p}" for p in range(16)]
    assert a.get_xlabel() == "mA (within a seed)" and len(c.patches) == 1 and not a.patches   # the band: C's only
    assert c.get_position().height > 2 * a.get_position().height   # as tall as its pairs need
    assert {t.get_text() for t in figure.legends[0].get_texts()} == {
        "one seed", "mean over seeds", "equivalence band (+-margin)"}


def test_spread_bars_of_a_measure_in_0_1_stop_at_its_bounds():
    lower, upper = plotting.spread_bars([0.95, 0.5, 0.02], [0.1, 0.1, 0.1], "label_agreement")
    assert np.allclose(lower, [0.1, 0.1, 0.02]) and np.allclose(upper, [0.05, 0.1, 0.1])
    assert np.allclose(plotting.spread_bars([0.95], [0.1], "frechet_distance"), [[0.1], [0.1]])
