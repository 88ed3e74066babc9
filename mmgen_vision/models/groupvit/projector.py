# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Projection head of GroupViT: ``Conv1d(k=1) -> BatchNorm1d -> ReLU -> Conv1d(k=1)`` (or one
``Conv1d``, or the identity: the release's ``proj_num_layers``)."""
from torch import Tensor, nn

from mmgen_vision.registry import MODELS


@MODELS.register_module()
class ProjectionMLP(nn.Module):
    """Projection MLP over the channel axis: two layers with batch norm (the release's
    configs), one linear layer, or the identity.

    Accepts ``(B, C)`` (one vector per sample) or ``(B, L, C)`` (tokens, normalised as the
    length axis of a ``Conv1d`` input) and returns ``(B, D)`` or ``(B, L, D)``.

    Args:
        in_channels (int): ``C``.
        out_channels (int): ``D``. Defaults to 256.
        hidden_channels (int): Defaults to 4096.
        bn_eps (float): Defaults to 1e-5.
        num_layers (int): 2 (``fc1 -> bn -> ReLU -> fc2``), 1 (``fc2`` alone: a linear map,
            so the projection of a mean is the mean of the projections) or 0 (identity, needs
            ``in_channels == out_channels``): the release's ``proj_num_layers``.
            Defaults to 2.
    """

    def __init__(self, in_channels: int, out_channels: int = 256, hidden_channels: int = 4096,
                 bn_eps: float = 1e-5, num_layers: int = 2) -> None:
        super().__init__()
        if num_layers not in (0, 1, 2):
            raise ValueError(f'num_layers must be 0, 1 or 2, got {num_layers}')
        if num_layers == 0 and in_channels != out_channels:
            raise ValueError(f'an identity projection (num_layers=0) needs in_channels == '
                             f'out_channels, got {in_channels} and {out_channels}')
        self.num_layers = num_layers
        if num_layers == 2:
            self.fc1 = nn.Conv1d(in_channels, hidden_channels, kernel_size=1)
            self.bn = nn.BatchNorm1d(hidden_channels, eps=bn_eps)
            self.act = nn.ReLU(inplace=True)
        if num_layers >= 1:
            self.fc2 = nn.Conv1d(hidden_channels if num_layers == 2 else in_channels,
                                 out_channels, kernel_size=1)

    def _project(self, x: Tensor) -> Tensor:
        """``(B, C, L) -> (B, D, L)``."""
        if self.num_layers == 2:
            x = self.act(self.bn(self.fc1(x)))
        return self.fc2(x) if self.num_layers >= 1 else x

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:
            return self._project(x.unsqueeze(-1)).squeeze(-1)
        if x.dim() == 3:
            return self._project(x.transpose(1, 2)).transpose(1, 2)
        raise ValueError(f'expected [B, C] or [B, L, C], got shape {tuple(x.shape)}')
