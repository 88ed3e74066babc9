# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Projection head of GroupViT: ``Conv1d(k=1) -> BatchNorm1d -> ReLU -> Conv1d(k=1)``."""
from torch import Tensor, nn

from mmgen_vision.registry import MODELS


@MODELS.register_module()
class ProjectionMLP(nn.Module):
    """Two-layer projection MLP over the channel axis with batch norm.

    Accepts ``(B, C)`` (one vector per sample) or ``(B, L, C)`` (tokens, normalised as the
    length axis of a ``Conv1d`` input) and returns ``(B, D)`` or ``(B, L, D)``.

    Args:
        in_channels (int): ``C``.
        out_channels (int): ``D``. Defaults to 256.
        hidden_channels (int): Defaults to 4096.
        bn_eps (float): Defaults to 1e-5.
    """

    def __init__(self, in_channels: int, out_channels: int = 256, hidden_channels: int = 4096,
                 bn_eps: float = 1e-5) -> None:
        super().__init__()
        self.fc1 = nn.Conv1d(in_channels, hidden_channels, kernel_size=1)
        self.bn = nn.BatchNorm1d(hidden_channels, eps=bn_eps)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv1d(hidden_channels, out_channels, kernel_size=1)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:
            return self.fc2(self.act(self.bn(self.fc1(x.unsqueeze(-1))))).squeeze(-1)
        if x.dim() == 3:
            return self.fc2(self.act(self.bn(self.fc1(x.transpose(1, 2))))).transpose(1, 2)
        raise ValueError(f'expected [B, C] or [B, L, C], got shape {tuple(x.shape)}')
