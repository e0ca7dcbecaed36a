"""The fixed catalog every tenant sees: regions, flavors, images, stock, prices.

Names follow the ones Hyperstack publishes (flavor names such as
`n3-H100x1`, GPU models such as `H100-80G-PCIe`, Ubuntu images with and
without CUDA). Sizes and prices are plausible figures, not quotes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

REGIONS: tuple[tuple[int, str, str], ...] = (
    (1, "CANADA-1", "CA"),
    (2, "NORWAY-1", "NO"),
    (3, "US-1", "US"),
)
REGION_NAMES: frozenset[str] = frozenset(name for _, name, _ in REGIONS)

# Norway runs on hydro power and is sold as fully green; the others partly.
GREEN_STATUS: dict[str, str] = {
    "CANADA-1": "PARTIALLY_GREEN",
    "NORWAY-1": "GREEN",
    "US-1": "PARTIALLY_GREEN",
}

PROTOCOLS: tuple[str, ...] = (
    "any", "ah", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "igmp", "ip",
    "ipip", "ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt",
    "ipv6-opts", "ipv6-route", "ospf", "pgm", "rsvp", "sctp", "tcp", "udp",
    "udplite", "vrrp",
)  # fmt: skip

VOLUME_TYPES: tuple[str, ...] = ("Cloud-SSD",)

SUPPORTED_KEY_TYPES: tuple[str, ...] = (
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
)

CATALOG_CREATED_AT = 1_704_067_200.0  # 2024-01-01T00:00:00 UTC


@dataclass(frozen=True)
class FlavorSpec:
    """One flavor as sold in every region that offers it."""

    name: str
    cpu: int
    ram: float
    disk: int
    ephemeral: int
    gpu: str
    gpu_count: int
    regions: tuple[str, ...]
    no_hibernation: bool = False
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flavor:
    """A flavor in one region; ids differ per region as on the real API."""

    id: int
    region: str
    spec: FlavorSpec

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class Image:
    """A public image in one region."""

    id: int
    region: str
    name: str
    version: str
    size_bytes: int
    description: str
    labels: tuple[str, ...] = field(default=())


_ALL = ("CANADA-1", "NORWAY-1", "US-1")


def _gpu_family(
    prefix: str,
    gpu: str,
    cpu_per_gpu: int,
    ram_per_gpu: float,
    ephemeral_per_gpu: int,
    regions: tuple[str, ...],
) -> list[FlavorSpec]:
    return [
        FlavorSpec(
            name=f"{prefix}x{count}",
            cpu=cpu_per_gpu * count,
            ram=ram_per_gpu * count,
            disk=100,
            ephemeral=ephemeral_per_gpu * count,
            gpu=gpu,
            gpu_count=count,
            regions=regions,
            labels=("network_optimised",) if count == 8 else (),
        )
        for count in (1, 2, 4, 8)
    ]


FLAVOR_SPECS: tuple[FlavorSpec, ...] = (
    FlavorSpec("n1-cpu-small", 4, 4.0, 100, 0, "", 0, _ALL, no_hibernation=True),
    FlavorSpec("n1-cpu-medium", 8, 16.0, 100, 0, "", 0, _ALL),
    FlavorSpec("n1-cpu-large", 16, 32.0, 200, 0, "", 0, _ALL),
    FlavorSpec("n2-cpu-medium", 16, 64.0, 200, 0, "", 0, ("CANADA-1", "US-1")),
    *_gpu_family("n3-RTX-A6000", "RTX-A6000", 28, 58.0, 0, ("CANADA-1", "NORWAY-1")),
    *_gpu_family("n3-L40", "L40", 16, 60.0, 725, _ALL),
    *_gpu_family("n3-A100", "A100-80G-PCIe", 28, 120.0, 750, ("CANADA-1", "NORWAY-1")),
    *_gpu_family("n3-H100", "H100-80G-PCIe", 28, 180.0, 750, ("CANADA-1", "US-1")),
)

# GPUs each region holds per model. Zero means the model is listed but sold
# out there, which keeps "out of stock" paths reachable.
GPU_CAPACITY: dict[tuple[str, str], int] = {
    ("CANADA-1", "RTX-A6000"): 256,
    ("NORWAY-1", "RTX-A6000"): 128,
    ("CANADA-1", "L40"): 128,
    ("NORWAY-1", "L40"): 64,
    ("US-1", "L40"): 0,
    ("CANADA-1", "A100-80G-PCIe"): 128,
    ("NORWAY-1", "A100-80G-PCIe"): 32,
    ("CANADA-1", "H100-80G-PCIe"): 256,
    ("US-1", "H100-80G-PCIe"): 64,
}

# Hourly on-demand prices in USD: per GPU for GPU models, per VM for the
# CPU-only flavors, per GB for block storage, per address for public IPs.
PRICES: dict[str, float] = {
    "RTX-A6000": 0.50,
    "L40": 1.00,
    "A100-80G-PCIe": 1.35,
    "H100-80G-PCIe": 1.90,
    "n1-cpu-small": 0.0296,
    "n1-cpu-medium": 0.0592,
    "n1-cpu-large": 0.1184,
    "n2-cpu-medium": 0.1376,
    "Cloud-SSD": 0.000082,
    "Public IP": 0.00672,
}

_CUDA = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
_CUDA_NEW = "Ubuntu Server 24.04 LTS R570 CUDA 12.8"
IMAGE_NAMES: tuple[tuple[str, str, str], ...] = (
    (_CUDA, "22.04", "Ubuntu 22.04 with the NVIDIA R535 driver and CUDA 12.2."),
    (f"{_CUDA} with Docker", "22.04", "As above, with Docker and the NVIDIA runtime."),
    (_CUDA_NEW, "24.04", "Ubuntu 24.04 with the NVIDIA R570 driver and CUDA 12.8."),
    (f"{_CUDA_NEW} with Docker", "24.04", "As above, with Docker."),
    ("Ubuntu Server 22.04 LTS (Jammy Jellyfish)", "22.04", "Plain Ubuntu 22.04."),
    ("Ubuntu Server 24.04 LTS (Noble Numbat)", "24.04", "Plain Ubuntu 24.04."),
)


def _build_flavors() -> tuple[Flavor, ...]:
    flavors: list[Flavor] = []
    next_id = 101
    for region in (name for _, name, _ in REGIONS):
        for spec in FLAVOR_SPECS:
            if region in spec.regions:
                flavors.append(Flavor(next_id, region, spec))
                next_id += 1
    return tuple(flavors)


def _build_images() -> tuple[Image, ...]:
    images: list[Image] = []
    next_id = 201
    for region in (name for _, name, _ in REGIONS):
        for name, version, description in IMAGE_NAMES:
            size = (100 if "CUDA" in name else 20) * 1024**3
            images.append(Image(next_id, region, name, version, size, description))
            next_id += 1
    return tuple(images)


FLAVORS: tuple[Flavor, ...] = _build_flavors()
IMAGES: tuple[Image, ...] = _build_images()

FLAVORS_BY_REGION_NAME: dict[tuple[str, str], Flavor] = {
    (flavor.region, flavor.name): flavor for flavor in FLAVORS
}
IMAGES_BY_REGION_NAME: dict[tuple[str, str], Image] = {
    (image.region, image.name): image for image in IMAGES
}
IMAGES_BY_ID: dict[int, Image] = {image.id: image for image in IMAGES}
