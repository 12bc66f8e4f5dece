"""The one training loop: how many batches it yields, in what order, and the per-network update."""

import pytest
import torch

from avalib import training


@pytest.mark.parametrize("count, batch_size", [(100, 16), (96, 16), (103, 16), (5, 16), (17, 16)])
def test_batches_per_epoch_counts_what_minibatches_yields(count, batch_size):
    yielded = list(training.minibatches(count, batch_size, torch.Generator().manual_seed(0)))
    assert training.batches_per_epoch(count, batch_size) == len(yielded)


def test_steps_run_over_epoch_boundaries_in_the_order_of_whole_epochs():
    by_epochs = [index for _, index in training.batches(40, 16, torch.Generator().manual_seed(1), "t",
                                                        epochs=3)]
    by_steps = [index for _, index in training.batches(40, 16, torch.Generator().manual_seed(1), "t",
                                                       steps=5)]
    assert len(by_epochs) == 9 and len(by_steps) == 5
    assert all(torch.equal(a, b) for a, b in zip(by_epochs, by_steps))
    with pytest.raises(ValueError, match="exactly one"):
        next(training.batches(40, 16, torch.Generator(), "t"))


def test_update_moves_only_the_parameters_it_is_given():
    first, second = torch.nn.Linear(2, 1), torch.nn.Linear(1, 1)
    before = [p.detach().clone() for p in second.parameters()]
    optimiser = torch.optim.SGD(first.parameters(), lr=0.1)
    loss = second(first(torch.ones(3, 2))).pow(2).sum()
    training.update(optimiser, loss, list(first.parameters()))
    assert all(p.grad is None for p in [*first.parameters(), *second.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(before, second.parameters()))


def test_a_non_finite_loss_is_an_error():
    with pytest.raises(FloatingPointError, match="the loss is not finite"):
        training.check_finite(torch.tensor(float("nan")), "the loss")


def test_apply_steps_on_given_gradients_and_leaves_no_grad():
    weight = torch.nn.Parameter(torch.ones(3))
    optimiser = torch.optim.SGD([weight], lr=0.5)
    training.apply(optimiser, [weight], [torch.tensor([1.0, 0.0, -2.0])])
    assert torch.equal(weight.detach(), torch.tensor([0.5, 1.0, 2.0])) and weight.grad is None
    with pytest.raises(ValueError):                     # one gradient per parameter, no fewer
        training.apply(optimiser, [weight], [])


def test_progress_file_is_appended_to_not_truncated(tmp_path, monkeypatch):
    """Every Dask worker opens the progress file: opening it for writing would erase the others' lines."""
    target = tmp_path / "progress.log"
    target.write_text("another worker's line\n")
    monkeypatch.setenv(training.PROGRESS_VARIABLE, str(target))
    monkeypatch.delenv("AVALIB_QUIET", raising=False)
    monkeypatch.setattr(training, "_STREAMS", {})
    training.log("this worker's line")
    assert target.read_text().splitlines() == ["another worker's line", "this worker's line"]
