"""avalib: a reproducible study of adversarial variational autoencoders.

The core, one job a module:
- ``atomic``     - write-then-rename helper used by every writer in the package.
- ``download``   - the dataset manifest and verified fetching (mirror or canonical URL).
- ``data``       - dataset loaders returning float tensors in [0, 1] plus labels.
- ``numerics``   - portable or native CPU kernels: the variables every process starts with, checked.
- ``kernels``    - the square root and the Adam step from correctly rounded instructions only.
- ``training``   - minibatches, the per-network update, the NaN guard, progress on the terminal.
- ``latent``     - the Gaussian sampling layer and its KL term.
- ``device``     - the ``device`` switch (networks and data move; random streams stay on the CPU).
- ``cache``      - units of work cached on disk: the one place the study stores what it trained.
- ``fanout``     - units of work run serially or on Dask, results in key order.
- ``parameters`` - a notebook's parameters as one checked frozen dataclass (``Run``).
- ``runs``       - one notebook run safely: layered parameters, staging, publishing.
- ``results``    - seeding, provenance, tables and figures into ``results/<notebook>/``, front page.
- ``plotting``   - image grids, bars and metric lines.
- ``metrics``    - classifier Inception Score, Frechet distance, coverage, precision/recall, sharpness.
- ``domain_classifier`` - the per-dataset CNN that judges generated images.
- ``claims``     - the ``Claim`` record and the study's one verdict rule.

One subpackage per study:
- ``nguyen``     - Nguyen, Abdalla & Amer (2024): AVA1..AVA5, VAE and GAN under four protocols (01).
- ``zemouri``    - Zemouri (2020): the two-step semi-supervised adversarial VAE (02, 03).
- ``comparison`` - VAE vs GAN with the study's hybrids in the same table (04).
"""

__version__ = "0.1.0"

# Before anything runs a torch operator: this process's and its children's numerics mode.
from avalib.numerics import configure as _configure  # noqa: E402

_configure()
