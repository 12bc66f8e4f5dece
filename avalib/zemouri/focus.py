"""Which settings each claim of Zemouri (2020) section 4.4 reads, declared once per claim: the
sweep trains them at every seed (``claims_use``, ``avalib.zemouri.experiment``), the claim rules
(``avalib.zemouri.claims``), notebook 05's further seeds (``avalib.zemouri.more_seeds``) and the
figures read them from here. Kept apart from the claim rules so that the units the sweep trains
do not depend on how a claim is judged."""

from __future__ import annotations

from dataclasses import dataclass

FOCUS = "mnist"                  # the dataset of the beta claims (B), at K_z = 2
FOCUS_LATENT_SIZE = 2
LARGE_BETAS = (0.1, 0.5)         # C: the betas section 4.4 calls large
CLAIM_LETTERS = ("A", "B", "C", "D")   # section 4.4's claims: A, B (B0-B4), C, D


@dataclass(frozen=True)
class Settings:
    """The (dataset, K_z, gamma, beta) a claim reads: each field a tuple of the allowed values,
    or None for every value of the sweep (``dataset_prefix``: datasets whose name starts so)."""

    dataset_prefix: str | None = None
    latent_sizes: tuple[int, ...] | None = None
    gammas: tuple[float, ...] | None = None
    betas: tuple[float, ...] | None = None

    def covers(self, dataset: str, latent_size: int, gamma: float, beta: float) -> bool:
        return ((self.dataset_prefix is None or dataset.startswith(self.dataset_prefix))
                and all(allowed is None or value in allowed for allowed, value in
                        ((self.latent_sizes, latent_size), (self.gammas, gamma), (self.betas, beta))))


# Per claim (its section letter): A compares K_z = 100 with K_z = 2 at beta = gamma = 0 on every
# dataset; B (B0-B4) reads every beta of the focus at gamma = 0; C every large beta at gamma = 0
# and 0.1 on every dataset and K_z; D Omniglot at beta = gamma = 0, both K_z.
CLAIM_SETTINGS = {
    "A": Settings(gammas=(0.0,), betas=(0.0,)),
    "B": Settings(dataset_prefix=FOCUS, latent_sizes=(FOCUS_LATENT_SIZE,), gammas=(0.0,)),
    "C": Settings(betas=LARGE_BETAS),
    "D": Settings(dataset_prefix="omniglot", gammas=(0.0,), betas=(0.0,)),
}


def claim_letter(section: str) -> str:
    """The letter of a claim's section: "4.4 (B2)" -> "B"."""
    return section.partition("(")[2][:1]


def claims_use(dataset: str, latent_size: int, gamma: float, beta: float, letters=CLAIM_LETTERS) -> bool:
    """Whether a claim of section 4.4 whose letter is in ``letters`` reads the setting
    (``CLAIM_SETTINGS``)."""
    return any(CLAIM_SETTINGS[letter].covers(dataset, latent_size, gamma, beta) for letter in letters)
