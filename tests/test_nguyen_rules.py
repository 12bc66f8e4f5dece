"""Each hand-derived rule of Nguyen et al. (2024) against autograd on a tiny network: exact where
the paper's derivation is exact, and measured where it is not."""

import torch

from avalib import nguyen_rules as rules
from avalib.nets import ChannelMLP, logistic, logistic_derivative
from avalib.nguyen import _injected_gradients

torch.manual_seed(0)


def tiny(inputs, outputs, batch=3):
    generator = torch.Generator().manual_seed(1)
    return ChannelMLP(batch, inputs, 4, outputs, init="uniform", dtype=torch.float64,
                      generator=generator).requires_grad_()


def assert_same(first, second):
    for a, b in zip(first, second):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_eq5_encoder_error_is_minus_the_kl_gradient():
    encoder, image = tiny(6, 4), torch.rand(3, 6, dtype=torch.float64)
    encoded = encoder.forward(image)[1]
    mu, sigma = encoded[:, :2], encoded[:, 2:]
    kl = 0.5 * (sigma + mu ** 2 - 1 - sigma.log()).sum()
    expected = torch.autograd.grad(kl, encoder.parameters(), retain_graph=True)
    assert_same(_injected_gradients([(encoded, rules.paper_encoder_error(mu, sigma))], encoder), expected)


def test_eq6_without_push_is_minus_the_reconstruction_gradient():
    decoder = tiny(2, 6)
    code, image = torch.randn(3, 2, dtype=torch.float64), torch.rand(3, 6, dtype=torch.float64)
    decoded = decoder.forward(code)[1]
    expected = torch.autograd.grad(0.5 * (image - decoded).pow(2).sum(), decoder.parameters(),
                                   retain_graph=True)
    assert_same(_injected_gradients([(decoded, rules.paper_decoder_error(image, decoded))], decoder),
                expected)


def test_eq7_discriminator_errors_are_the_gradient_of_the_balance_function():
    d = tiny(6, 1)
    real, fake = torch.rand(3, 6, dtype=torch.float64), torch.rand(3, 6, dtype=torch.float64)
    real_out, fake_out = d.forward(real)[1], d.forward(fake)[1]
    balance = (real_out.log() + (1 - fake_out).log()).sum()
    ascent = [-g for g in torch.autograd.grad(balance, d.parameters(), retain_graph=True)]
    real_error, fake_error = rules.paper_discriminator_errors(real_out, fake_out)
    assert_same(_injected_gradients([(real_out, real_error), (fake_out, fake_error)], d), ascent)


def test_eq6_push_is_exact_only_when_discriminator_input_weights_are_one():
    decoded = torch.rand(3, 6, dtype=torch.float64, requires_grad=True)
    # a discriminator whose d u / d x'_i = 1 for every pixel: the paper's assumption
    ones = logistic(decoded.sum(-1, keepdim=True))
    true_push = -torch.autograd.grad(torch.log1p(-ones).sum(), decoded)[0]
    torch.testing.assert_close(true_push, rules.discriminator_push(ones).expand_as(decoded))
    # a real (random) discriminator network: the push has the wrong size and direction per pixel
    d = tiny(6, 1)
    output = d.forward(decoded)[1]
    true_push = -torch.autograd.grad(torch.log1p(-output).sum(), decoded)[0]
    paper_push = rules.discriminator_push(output).expand_as(decoded).detach()
    cosine = torch.nn.functional.cosine_similarity(true_push, paper_push, dim=-1)
    relative = (true_push - paper_push).norm() / true_push.norm()
    assert relative > 0.5 and cosine.min() < 0.9


def test_eq10_lean_term_is_not_a_gradient_of_eq9():
    """-1/2 ||x - x'||^2 in eq. 9 does not depend on the discriminator: its gradient is zero,
    yet eq. 10 adds a non-zero term to the discriminator's update."""
    d = tiny(6, 1)
    image, decoded = torch.rand(3, 6, dtype=torch.float64), torch.rand(3, 6, dtype=torch.float64)
    fake_out = d.forward(decoded)[1]
    extra = -0.5 * (image - decoded).pow(2).sum() + 0 * fake_out.sum()
    assert all(g.abs().max() == 0 for g in torch.autograd.grad(extra, d.parameters()))
    assert rules.lean_term(image, decoded).abs().min() > 0


def test_reference_backprop_uses_already_updated_output_weights():
    """The code's order (spec): the hidden delta is computed with the updated output weights.
    Output-layer updates equal textbook SGD on 1/2 ||t - o||^2; the hidden delta differs by
    exactly lr * (delta . delta) * h * a'(h)."""
    net, image = tiny(5, 3), torch.rand(3, 5, dtype=torch.float64)
    target, lr = torch.rand(3, 3, dtype=torch.float64), torch.tensor([0.5, 0.1, 1.0], dtype=torch.float64)
    hidden, output = net.forward(image)
    textbook = torch.autograd.grad(0.5 * (target - output).pow(2).sum(), net.parameters())
    before = [p.detach().clone() for p in net.parameters()]
    delta = ((target - output) * logistic_derivative(output)).detach()
    net.backprop_step(image, hidden.detach(), delta, lr)
    change = [p.detach() - b for p, b in zip(net.parameters(), before)]
    for index in (2, 3):                                   # output layer: textbook
        torch.testing.assert_close(change[index], -lr.view(-1, *[1] * (before[index].dim() - 1))
                                   * textbook[index])
    h = hidden.detach()
    textbook_hidden_delta = -textbook[1]
    extra = lr[:, None] * (delta * delta).sum(-1, keepdim=True) * h * logistic_derivative(h)
    torch.testing.assert_close(change[1], lr[:, None] * (textbook_hidden_delta + extra))
