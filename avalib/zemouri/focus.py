"""Which settings the claims of Zemouri (2020) section 4.4 read (``avalib.zemouri.claims``), kept
apart from the claim rules so that the units the sweep trains (``avalib.zemouri.experiment``) do
not depend on how a claim is judged."""

FOCUS = "mnist"                  # the dataset of the beta claims (B), at K_z = 2
FOCUS_LATENT_SIZE = 2
LARGE_BETAS = (0.1, 0.5)         # C: the betas section 4.4 calls large


def claims_use(dataset: str, latent_size: int, gamma: float, beta: float) -> bool:
    """Whether a claim of section 4.4 uses the setting: beta = gamma = 0 (A, D), the large betas
    at both gammas (C), and the focus of the beta claims, FOCUS at K_z = 2 and gamma = 0 (B)."""
    return ((beta == 0.0 and gamma == 0.0) or beta in LARGE_BETAS
            or (dataset, latent_size, gamma) == (FOCUS, FOCUS_LATENT_SIZE, 0.0))
