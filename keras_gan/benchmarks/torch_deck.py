"""The slide deck's GAN written in PyTorch, at its best on a CPU, for `make bench` to race.

The same networks, initialisation of D's first kernel, loss, labels, optimizers and batches as the
deck (seeds/003): G 10-256-512-1024-784 with LeakyReLU(0.2) and tanh, D 784-1024-512-256-1 with
LeakyReLU(0.2) and Dropout(0.3), D's first kernel N(0, 0.02), binary cross-entropy on D's logits of
`concat([real, G(z)])` with labels 0.9 and 0, then on D(G(z')) with labels 1, noise U(-1, 1) of
dimension 10, Adam(2e-4, betas (0.5, 0.999)) for each model. What a careful PyTorch user would do
for speed is done too: the fakes of D's step are made without a graph (`torch.no_grad`), D's
weights ask for no gradient in G's step, Adam is PyTorch's fused kernel where it has one on the CPU,
and every core is used. Four variants: eager or `torch.compile` (inductor), float32 or bfloat16
autocast. PyTorch is an optional extra (`pip install -e '.[bench]'`); `available()` says whether
it is installed.
"""

import importlib.util
import os

import numpy as np

NOISE_DIM, G_UNITS, D_UNITS = 10, (256, 512, 1024), (1024, 512, 256)
VARIANTS = {  # name: (compiled, bfloat16 autocast)
    "PyTorch eager, float32": (False, False),
    "PyTorch eager, bfloat16": (False, True),
    "PyTorch compiled, float32": (True, False),
    "PyTorch compiled, bfloat16": (True, True),
}


def available() -> bool:
    return importlib.util.find_spec("torch") is not None


def torch_version() -> str:
    import torch

    return f"PyTorch {torch.__version__}"


def build(seed: int = 0):
    """The deck's (G, D) as torch modules."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    def dense(sizes, dropout=0.0):
        layers = []
        for i, o in zip(sizes[:-2], sizes[1:-1]):
            layers += [nn.Linear(i, o), nn.LeakyReLU(0.2)] + ([nn.Dropout(dropout)] if dropout else [])
        return layers + [nn.Linear(sizes[-2], sizes[-1])]

    generator = nn.Sequential(*dense((NOISE_DIM, *G_UNITS, 784)), nn.Tanh())
    discriminator = nn.Sequential(*dense((784, *D_UNITS, 1), dropout=0.3))
    nn.init.normal_(discriminator[0].weight, std=0.02)
    return generator, discriminator


def _adam(parameters):
    import torch

    try:
        return torch.optim.Adam(parameters, lr=2e-4, betas=(0.5, 0.999), fused=True)
    except (RuntimeError, TypeError):  # no fused kernel for this device or version
        return torch.optim.Adam(parameters, lr=2e-4, betas=(0.5, 0.999), foreach=True)


def step_function(uint8_images: np.ndarray, batch: int, *, compiled: bool, bfloat16: bool, seed: int = 0):
    """A function that runs one training step of the deck (a D update and a G update) on the next
    real batch, as the keras_gan benchmark's loops do."""
    import torch
    from torch.nn import functional

    torch.set_num_threads(os.cpu_count() or 1)
    generator, discriminator = build(seed)
    g_opt, d_opt = _adam(generator.parameters()), _adam(discriminator.parameters())
    g_net = torch.compile(generator) if compiled else generator
    d_net = torch.compile(discriminator) if compiled else discriminator
    images = torch.from_numpy(uint8_images.reshape(len(uint8_images), -1).astype(np.float32) / 127.5 - 1.0)
    targets = torch.cat([torch.full((batch, 1), 0.9), torch.zeros((batch, 1))])
    ones = torch.ones((batch, 1))
    steps = len(images) // batch
    generator_rng = torch.Generator().manual_seed(seed)
    state = {"i": 0, "order": torch.randperm(len(images), generator=generator_rng)}

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16)

    def noise():
        return torch.rand((batch, NOISE_DIM), generator=generator_rng) * 2 - 1

    def step():
        if state["i"] == steps:
            state["i"], state["order"] = 0, torch.randperm(len(images), generator=generator_rng)
        real = images[state["order"][state["i"] * batch:(state["i"] + 1) * batch]]
        state["i"] += 1
        with torch.no_grad(), autocast():
            fake = g_net(noise()).float()
        discriminator.requires_grad_(True)
        d_opt.zero_grad(set_to_none=True)
        with autocast():
            d_loss = functional.binary_cross_entropy_with_logits(d_net(torch.cat([real, fake])).float(), targets)
        d_loss.backward()
        d_opt.step()
        discriminator.requires_grad_(False)
        g_opt.zero_grad(set_to_none=True)
        with autocast():
            g_loss = functional.binary_cross_entropy_with_logits(d_net(g_net(noise())).float(), ones)
        g_loss.backward()
        g_opt.step()
        return float(d_loss.detach()), float(g_loss.detach())

    return step
