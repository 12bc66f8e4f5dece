"""avalib.kernels: the square root and Adam step that give the same bits on any CPU are the
functions they stand for (their bits across CPUs: tests/test_emulated_cpu.py)."""

import torch

from avalib import kernels


def test_sqrt_is_the_square_root_within_two_units_in_the_last_place_with_its_gradient():
    x = (torch.rand(10_000, generator=torch.Generator().manual_seed(0)) * 100).requires_grad_()
    root = kernels.sqrt(x)
    exact = torch.sqrt(x.detach().double())
    assert ((root.double() - exact).abs() <= 2 * torch.finfo(torch.float32).eps * exact).all()
    root.sum().backward()
    torch.testing.assert_close(x.grad, 0.5 / exact.float())
    assert kernels.sqrt(torch.zeros(3)).eq(0).all()


def test_adam_is_torchs_adam_through_its_fused_kernel():
    w = torch.nn.Parameter(torch.ones(5))
    reference = torch.nn.Parameter(torch.ones(5))
    fused, plain = kernels.adam([w], 0.1, betas=(0.5, 0.9)), torch.optim.Adam([reference], lr=0.1, betas=(0.5, 0.9))
    assert fused.defaults["fused"] is True
    for step in range(3):
        w.grad = torch.arange(5.0) + step
        reference.grad = torch.arange(5.0) + step
        fused.step()
        plain.step()
    torch.testing.assert_close(w, reference)
