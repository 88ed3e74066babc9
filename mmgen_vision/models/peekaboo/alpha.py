# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Learnable alpha-mask parameterisations of Peekaboo.

Every parameterisation holds the masks of ``B`` images at once (independent parameters per
image) and returns ``(B, k, H, W)`` alphas in ``[0, 1]``, one mask per caption. Optionally the
raw (pre-sigmoid) masks are smoothed by an image-guided bilateral filter whose neighbour
weights are computed once from the guide image (:meth:`BaseAlpha.set_guide`).
"""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmgen_vision.registry import MODELS


def _pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    return int(size[0]), int(size[1])


def replicate_pad2d(x: Tensor, r: int) -> Tensor:
    """``F.pad(x, (r, r, r, r), mode='replicate')``; inside ``torch.compile`` built from
    slices and concatenation (:func:`replicate_pad2d_by_slices`).

    torch's ``aten.replication_pad2d_backward`` (torch 2.14) allocates its CPU gradient in the
    input's memory format, but its meta kernel (``meta_pad2d_backward``) always returns a
    contiguous one. Inductor makes every convolution output of a CPU graph channels-last
    (layout optimisation), so when the padded tensor is one (:class:`FourierAlpha`'s last 1x1
    convolution) the compiled backward fails its stride check. Only in float32: bfloat16
    autocast runs ``F.pad`` on a float32 copy, which is contiguous. Eager code keeps ``F.pad``
    and its exact gradient sums.

    Args:
        x (Tensor): ``(..., H, W)``.
        r (int): Padding on every side.

    Returns:
        Tensor: ``(..., H + 2r, W + 2r)``.
    """
    if torch.compiler.is_compiling():
        return replicate_pad2d_by_slices(x, r)
    return F.pad(x, (r, r, r, r), mode='replicate')


def replicate_pad2d_by_slices(x: Tensor, r: int) -> Tensor:
    """Replicate padding from slices and concatenation, which inductor lowers itself.

    The values are those of ``F.pad(x, (r, r, r, r), mode='replicate')``; the gradient sums
    the same terms in another order at the borders (float rounding).

    Args:
        x (Tensor): ``(..., H, W)``.
        r (int): Padding on every side.

    Returns:
        Tensor: ``(..., H + 2r, W + 2r)``.
    """
    if r == 0:
        return x
    top, bottom = x[..., :1, :], x[..., -1:, :]
    x = torch.cat([top.expand(*top.shape[:-2], r, -1), x,
                   bottom.expand(*bottom.shape[:-2], r, -1)], dim=-2)
    left, right = x[..., :1], x[..., -1:]
    return torch.cat([left.expand(*left.shape[:-1], r), x,
                      right.expand(*right.shape[:-1], r)], dim=-1)


class ImageGuidedBilateral(nn.Module):
    """Iterated image-guided bilateral blur.

    For pixel ``p`` and neighbour ``q`` in a ``kernel_size x kernel_size`` window the weight is
    ``exp(-|p - q|^2 / (2 sigma^2)) * exp(-|I_p - I_q|^2 / (2 color_tolerance^2))`` (normalised
    over the window), so smoothing stops at colour edges of the guide image ``I``. The weights
    depend only on the guide and are cached by :meth:`set_guide`; :meth:`forward` applies the
    blur ``num_iters`` times.

    Args:
        kernel_size (int): Odd window size. Defaults to 3.
        sigma (float): Spatial standard deviation in pixels. Defaults to 5.0.
        color_tolerance (float): Colour standard deviation (guide in ``[0, 1]``).
            Defaults to 0.08.
        num_iters (int): Blur iterations. Defaults to 40.
    """

    def __init__(self,
                 kernel_size: int = 3,
                 sigma: float = 5.0,
                 color_tolerance: float = 0.08,
                 num_iters: int = 40) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        self.kernel_size = kernel_size
        self.sigma = sigma
        self.color_tolerance = color_tolerance
        self.num_iters = num_iters
        self.register_buffer('weights', torch.empty(0), persistent=False)

    @torch.no_grad()
    def set_guide(self, guide: Tensor) -> None:
        """Precompute the neighbour weights.

        Args:
            guide (Tensor): Guide images of shape ``(B, C, H, W)`` in ``[0, 1]`` at the mask
                resolution.
        """
        b, c, h, w = guide.shape
        k = self.kernel_size
        r = k // 2
        # replicate padding: border pixels see copies of themselves, not zeros
        padded = replicate_pad2d(guide.float(), r)
        neigh = F.unfold(padded, k).view(b, c, k * k, h, w)
        color = ((neigh - guide.float()[:, :, None]) ** 2).sum(1)  # (B, k*k, H, W)
        ys, xs = torch.meshgrid(torch.arange(k, device=guide.device) - r,
                                torch.arange(k, device=guide.device) - r, indexing='ij')
        spatial = ((ys ** 2 + xs ** 2).float() / (2 * self.sigma ** 2)).view(1, k * k, 1, 1)
        logw = -spatial - color / (2 * self.color_tolerance ** 2)
        weights = torch.softmax(logw, dim=1)  # normalised over the window
        # negligible weights across strong edges would be subnormal floats, which are very
        # slow on CPUs and change nothing: drop them and renormalise
        weights = torch.where(weights < 1e-20, torch.zeros_like(weights), weights)
        self.weights = weights / weights.sum(dim=1, keepdim=True)

    def forward(self, x: Tensor) -> Tensor:
        """Smooth ``x`` of shape ``(B, k, H, W)``; returns the same shape in float32."""
        if self.weights.numel() == 0:
            raise RuntimeError('ImageGuidedBilateral needs set_guide(image) before forward')
        b, m, h, w = x.shape
        if self.weights.shape[0] != b or self.weights.shape[-2:] != (h, w):
            raise ValueError(f'guide weights {tuple(self.weights.shape)} do not match masks '
                             f'{tuple(x.shape)}')
        k = self.kernel_size
        r = k // 2
        # float32 under autocast too (autocast runs F.pad's replicate mode in float32): the
        # iterated averages would accumulate bfloat16 rounding
        x = x.float()
        weights = self.weights.float()[:, None]  # (B, 1, k*k, H, W)
        for _ in range(self.num_iters):
            neigh = F.unfold(replicate_pad2d(x, r), k).view(b, m, k * k, h, w)
            x = (neigh * weights).sum(2)
        return x


class BaseAlpha(nn.Module):
    """Common part of the alpha parameterisations.

    Subclasses implement ``raw_masks()`` returning unbounded masks ``(B, k, H, W)``; this class
    adds the optional bilateral smoothing and the final sigmoid.

    Args:
        num_masks (int): ``k``, masks per image (one per caption). Defaults to 1.
        size (int | tuple[int, int]): Mask resolution ``(H, W)``. Defaults to 256.
        num_images (int): ``B``, images optimised together. Defaults to 1.
        bilateral (dict, optional): Arguments of :class:`ImageGuidedBilateral`; ``None``
            disables smoothing. Defaults to None.
    """

    def __init__(self,
                 num_masks: int = 1,
                 size: Union[int, Sequence[int]] = 256,
                 num_images: int = 1,
                 bilateral: Optional[dict] = None) -> None:
        super().__init__()
        self.num_masks = num_masks
        self.size = _pair(size)
        self.num_images = num_images
        self.bilateral = ImageGuidedBilateral(**bilateral) if bilateral is not None else None

    def set_guide(self, images: Tensor) -> None:
        """Give the images the bilateral filter follows.

        Args:
            images (Tensor): ``(B, 3, h, w)`` in ``[0, 1]``; resized to the mask size.
        """
        if self.bilateral is None:
            return
        if images.shape[0] != self.num_images:
            raise ValueError(f'{images.shape[0]} guide images for {self.num_images} masks')
        if tuple(images.shape[-2:]) != self.size:
            images = F.interpolate(images.float(), size=self.size, mode='bilinear',
                                   align_corners=False)
        self.bilateral.set_guide(images)

    @torch.no_grad()
    def copy_to_every_image(self, single: 'BaseAlpha') -> 'BaseAlpha':
        """Give every image the parameters and buffers of ``single``, the same
        parameterisation built for one image.

        Every tensor of a ``B``-image alpha is either shared by the images (same shape as in
        ``single``) or the ``B`` images' tensors concatenated along one dimension (the image
        dimension of :class:`RasterAlpha`, the groups of :class:`FourierAlpha`'s grouped
        convolutions and their BatchNorm channels): the latter get ``B`` copies of ``single``'s.
        With ``single`` initialised from a seed, each image then starts exactly where it would
        start when optimised alone, wherever it sits in the batch.

        Args:
            single (BaseAlpha): The same parameterisation with ``num_images=1``.

        Returns:
            BaseAlpha: ``self``.
        """
        b = self.num_images
        own = dict(self.named_parameters(), **dict(self.named_buffers()))
        other = dict(single.named_parameters(), **dict(single.named_buffers()))
        if single.num_images != 1 or own.keys() != other.keys():
            raise ValueError('copy_to_every_image needs the same parameterisation built for '
                             'one image')
        for name, value in own.items():
            src = other[name].to(value)
            if src.shape != value.shape:
                dims = [d for d in range(value.dim())
                        if value.dim() == src.dim() and value.shape[d] != src.shape[d]]
                if len(dims) != 1 or value.shape[dims[0]] != b * src.shape[dims[0]]:
                    raise ValueError(f'{name}: {tuple(value.shape)} is not {b} x '
                                     f'{tuple(src.shape)} along one dimension')
                src = torch.cat([src] * b, dim=dims[0])
            value.copy_(src)
        return self

    def forward(self) -> Tensor:
        """Alphas of shape ``(B, k, H, W)`` in ``[0, 1]``."""
        x = self.raw_masks()
        if self.bilateral is not None:
            x = self.bilateral(x)
        return torch.sigmoid(x)


@MODELS.register_module()
class RasterAlpha(BaseAlpha):
    """A plain learnable raster of mask logits.

    Args:
        init_value (float): Initial logit (0 gives alpha 0.5). Defaults to 0.0.
        init_std (float): Standard deviation of the Gaussian noise added at initialisation
            (draws from the global torch generator). Defaults to 0.0.
        **kwargs: See :class:`BaseAlpha` (``num_masks``, ``size``, ``num_images``,
            ``bilateral``).
    """

    def __init__(self, init_value: float = 0.0, init_std: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        logits = torch.full((self.num_images, self.num_masks, *self.size), float(init_value))
        if init_std > 0:
            logits = logits + init_std * torch.randn_like(logits)
        self.logits = nn.Parameter(logits)

    def raw_masks(self) -> Tensor:
        """Mask logits of shape ``(B, k, H, W)``."""
        return self.logits


@MODELS.register_module()
class FourierAlpha(BaseAlpha):
    """Implicit mask ``psi(u, v) -> (alpha_1, ..., alpha_k)``: Gaussian Fourier features of the
    pixel coordinates followed by a per-pixel MLP.

    The features ``[sin(2 pi B uv), cos(2 pi B uv)]`` with a fixed ``B ~ N(0, scale^2)``
    (``2 x num_frequencies``) over a ``[0, 1)`` grid are computed once and stored. The MLP is a
    stack of 1x1 convolutions ``(2F -> hidden) + (hidden -> hidden) x (num_layers - 1)``, each
    followed by BatchNorm and ReLU, then ``hidden -> k``. The ``B`` images have independent
    MLPs, run together as grouped convolutions.

    Args:
        num_frequencies (int): ``F``. Defaults to 128.
        scale (float): Standard deviation of the frequencies. Defaults to 10.0.
        hidden_channels (int): MLP width. Defaults to 256.
        num_layers (int): Hidden layers (each conv + BN + ReLU). Defaults to 3.
        norm (bool): Use BatchNorm after the hidden convolutions. Defaults to True.
        **kwargs: See :class:`BaseAlpha` (``num_masks``, ``size``, ``num_images``,
            ``bilateral``).
    """

    def __init__(self,
                 num_frequencies: int = 128,
                 scale: float = 10.0,
                 hidden_channels: int = 256,
                 num_layers: int = 3,
                 norm: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        b, h, w = self.num_images, *self.size
        freqs = torch.randn(2, num_frequencies) * scale
        v, u = torch.meshgrid(torch.arange(h) / h, torch.arange(w) / w, indexing='ij')
        uv = torch.stack([u, v], dim=-1)  # (H, W, 2)
        proj = 2 * math.pi * uv @ freqs  # (H, W, F)
        feats = torch.cat([proj.sin(), proj.cos()], dim=-1).permute(2, 0, 1)  # (2F, H, W)
        # the same features for every image, laid out for grouped convolutions
        self.register_buffer('features', feats.repeat(b, 1, 1)[None].contiguous(),
                             persistent=False)
        layers = []
        in_channels = 2 * num_frequencies
        for _ in range(num_layers):
            layers.append(nn.Conv2d(in_channels * b, hidden_channels * b, 1, groups=b))
            if norm:
                layers.append(nn.BatchNorm2d(hidden_channels * b))
            layers.append(nn.ReLU(inplace=True))
            in_channels = hidden_channels
        layers.append(nn.Conv2d(in_channels * b, self.num_masks * b, 1, groups=b))
        self.mlp = nn.Sequential(*layers)

    def raw_masks(self) -> Tensor:
        """Mask logits of shape ``(B, k, H, W)``."""
        out = self.mlp(self.features)  # (1, B*k, H, W)
        return out.view(self.num_images, self.num_masks, *self.size)
