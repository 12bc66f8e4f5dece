"""avalib: a reproducible study of adversarial variational autoencoders.

Modules, one job each:
- ``atomic``   - write-then-rename helper used by every writer in the package.
- ``download`` - the dataset manifest and verified fetching (mirror or canonical URL).
- ``data``     - dataset loaders returning float tensors in [0, 1] plus labels.
- ``results``  - seeding, provenance, tables and figures into ``results/<notebook>/``.
- ``plotting`` - image grids and bar charts.
- ``metrics``  - the balance metric of Nguyen et al. (2024) and friends.
- ``nguyen``   - AVA1..AVA5, VAE and GAN as configurations of one update-rule trainer.
"""

__version__ = "0.1.0"
