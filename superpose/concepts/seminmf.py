"""Semi-NMF (Ding, Li and Jordan 2010), as interpreto's ``SemiNMFConcepts`` defines it.

With tokens as rows, ``A [tokens, d] ~ Z @ D``: the codes ``Z >= 0``, the dictionary ``D [n, d]``
unconstrained (the paper's ``X ~ F G^T`` with ``X = A^T``, ``F = D^T``, ``G = Z``). The data is not
centred. Alternating updates: ``D`` by least squares given ``Z``; ``Z`` by the paper's multiplicative
rule ``Z <- Z * sqrt(((A D^T)^+ + Z (D D^T)^-) / ((A D^T)^- + Z (D D^T)^+))``, which never increases
the squared error and keeps ``Z >= 0``. Start: ``|N(0, 1)| * sqrt(mean|A| / n)`` codes from a seeded
generator, ``D`` by least squares.
"""

from __future__ import annotations

import numpy as np
import torch

from superpose.config import ConceptConfig


def _dictionary(za: torch.Tensor, gram: torch.Tensor) -> torch.Tensor:
    """Least-squares ``D`` for ``A ~ Z D`` from ``Z^T A`` and ``Z^T Z`` (ridge 1e-9 relative, for
    codes that lose rank)."""
    gram = gram + torch.eye(gram.shape[0], dtype=gram.dtype) * 1e-9 * gram.diagonal().mean().clamp(min=1e-30)
    return torch.linalg.solve(gram, za)


def update_codes(a_d: torch.Tensor, d_d: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """One multiplicative step of the codes given ``A D^T`` and ``D D^T``."""
    num = a_d.clamp(min=0) + z @ (-d_d).clamp(min=0)
    den = (-a_d).clamp(min=0) + z @ d_d.clamp(min=0)
    return z * torch.sqrt(num / (den + 1e-12))


def semi_nmf(a: np.ndarray, n: int, *, max_iter: int = ConceptConfig.max_iter, tol: float = 1e-6, seed: int = 0
             ) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Codes ``Z [tokens, n] >= 0`` and dictionary ``D [n, d]`` with ``A ~ Z D``; the relative squared
    error ``|A - Z D|^2 / |A|^2`` after each iteration (stops when it improves by less than ``tol``)."""
    a = np.asarray(a)
    x = torch.from_numpy(a if a.dtype in (np.float32, np.float64) else a.astype(np.float64))
    gen = torch.Generator().manual_seed(int(seed))
    scale = float(torch.sqrt(x.abs().mean() / n))
    z = (torch.randn(x.shape[0], n, generator=gen, dtype=torch.float64).abs() * scale).to(x.dtype)
    d = _dictionary(z.T @ x, z.T @ z)
    total = float((x.double() ** 2).sum()) or 1.0
    errors: list[float] = []  # float32 input stays float32: half the memory of a large fit
    for _ in range(max_iter):
        z = update_codes(x @ d.T, d @ d.T, z)
        za, gram = z.T @ x, z.T @ z
        d = _dictionary(za, gram)
        # |A - Z D|^2 = |A|^2 - 2 <D, Z^T A> + <Z^T Z, D D^T>, without forming Z D
        resid = total - 2 * float((d.double() * za.double()).sum()) \
            + float((gram.double() * (d.double() @ d.double().T)).sum())
        errors.append(max(resid, 0.0) / total)
        if len(errors) > 1 and errors[-2] - errors[-1] < tol:
            break
    return z.numpy(), d.numpy(), errors
