"""What notebook 01 calls: every model x protocol of Nguyen et al. (2024) trained on the orbit
images, one cached unit of work each (an interrupted notebook resumes)."""

from __future__ import annotations

from avalib.data import load_dataset
from avalib.fanout import compute
from avalib.nguyen.trainer import train
from avalib.nguyen.variants import VARIANTS, NguyenConfig, NguyenResult


def orbit_images(image_count: int):
    """The first ``image_count`` images of the orbit set (the paper trains and tests on all 36)."""
    return load_dataset("orbit").images[:image_count]


def train_variant(variant: str, config: NguyenConfig, image_count: int) -> NguyenResult:
    """One unit: ``variant`` at every learning rate x seed of ``config`` on the orbit images."""
    return train(variant, orbit_images(image_count), config)


def variant_cost(config: NguyenConfig, **_) -> float:
    """A unit's work, for starting the longest first: runs taken in chunks (``run_chunk`` > 0, the
    float32 protocols) cost about 5x those taken as one tensor program (notebook 01's units at
    its default profile: 80-260 s against 18-27 s on a 2-core machine)."""
    return 5.0 if config.run_chunk else 1.0


def train_all(configs: dict[str, NguyenConfig], image_count: int, threads: int = 1) -> list[NguyenResult]:
    """Every model under every protocol of ``configs`` (protocol -> config), protocol-major."""
    return compute(train_variant, [{"variant": variant, "config": config, "image_count": image_count}
                                   for config in configs.values() for variant in VARIANTS],
                   threads=threads, label="models x protocols", cost=variant_cost)
