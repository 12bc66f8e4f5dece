"""Each hand-derived rule of Nguyen et al. (2024) against autograd on a tiny network: exact where
the paper's derivation is exact, and measured where it is not."""

import torch

from avalib.nguyen import rules
from avalib.nguyen.networks import ChannelMLP, logistic, logistic_derivative
from avalib.nguyen.updates import injected_gradients

torch.manual_seed(0)


def _injected_gradients(pairs, net):
    return injected_gradients(pairs, net.parameters())


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
    """The discriminator's true ascent direction on eq. 9 (autograd over the whole objective,
    reconstruction term included) equals eq. 7's rule without the lean term, and eq. 10's lean
    term moves it away by a measured amount."""
    d = tiny(6, 1)
    image, decoded = torch.rand(3, 6, dtype=torch.float64), torch.rand(3, 6, dtype=torch.float64)
    real_out, fake_out = d.forward(image)[1], d.forward(decoded)[1]
    objective = (real_out.log() + (1 - fake_out).log()).sum() - 0.5 * (image - decoded).pow(2).sum()
    ascent = [-g for g in torch.autograd.grad(objective, d.parameters(), retain_graph=True)]
    plain = rules.paper_discriminator_errors(real_out, fake_out)
    assert_same(_injected_gradients([(real_out, plain[0]), (fake_out, plain[1])], d), ascent)
    leaning = rules.paper_discriminator_errors(real_out, fake_out, rules.lean_term(image, decoded))
    lean_update = _injected_gradients([(real_out, leaning[0]), (fake_out, leaning[1])], d)
    relative = sum((a - b).norm() for a, b in zip(lean_update, ascent)) / sum(a.norm() for a in ascent)
    assert relative > 0.05


A0 = 0.43782349911420193          # a(0) = 1 / (1 + e^0.25): every zero-weight output


def one_run(*values):
    """A (3 channels, len(values)) tensor holding ``values`` in every channel."""
    return torch.tensor(values, dtype=torch.float64).repeat(3, 1)


def test_reference_push_is_the_codes_derivative_of_the_value():
    """The spec's hand values of a'(v)/(1 - v): the published build applies the logistic to the
    value again; the value reading gives v / 2."""
    values = one_run(0.1, A0, 0.9, 0.99)
    published = rules.reference_self_push(values, channels=3)
    torch.testing.assert_close(published[0], torch.tensor([0.1375, 0.2223, 1.2376, 12.31],
                                                          dtype=torch.float64), atol=6e-5, rtol=1e-3)
    value_reading = rules.reference_self_push(values, 3, rules.VALUE_DERIVATIVES["reference_value_derivative"])
    torch.testing.assert_close(value_reading[0], values[0] / 2)
    white = values.clone()
    white[1, 2] = 1.0                                    # one channel exactly 1: the code's 0
    assert rules.reference_self_push(white, channels=3)[:, 2].eq(0).all()


def test_reference_deltas_at_a_known_pre_activation():
    """At u = 0 (output a(0) = 0.43782) with target 1: a(a(0)) = 0.492229, so the code's
    a'(a(0)) = 0.5 * 0.492229 * 0.507771 = 0.124970 and the push is 0.124970 / 0.562177 = 0.222298;
    a'(0) = 0.5 * 0.43782 * 0.56218 = 0.123068. Decoder delta (1 - 0.43782 + 0.222298) * 0.123068
    = 0.096543; discriminator delta with d(x) = d(x') = a(0): 0.124970 / 0.43782 - 0.222298
    = 0.063138."""
    decoded, image = one_run(A0), one_run(1.0)
    delta = rules.reference_decoder_delta(image, decoded, True, channels=3)
    torch.testing.assert_close(delta, torch.full_like(delta, 0.096543), atol=2e-6, rtol=0)
    without = rules.reference_decoder_delta(image, decoded, False, channels=3)
    torch.testing.assert_close(without, torch.full_like(delta, (1 - A0) * 0.123068), atol=2e-6, rtol=0)
    output = torch.tensor([[A0]], dtype=torch.float64)
    torch.testing.assert_close(rules.reference_discriminator_delta(output, output, None),
                               torch.tensor([[0.063138]], dtype=torch.float64), atol=2e-6, rtol=0)


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
