# Copyright (c) mmgen_vision contributors. All rights reserved.
"""PSNR / SSIM of restored images (denoising, deraining, low-light enhancement)."""
from typing import Dict, List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from torch import Tensor

from mmgen_vision.registry import METRICS


def rgb_to_y(img: Tensor) -> Tensor:
    """``(3, H, W)`` RGB in 0-255 -> ``(1, H, W)`` ITU-R BT.601 luma (16-235)."""
    w = img.new_tensor([65.481, 128.553, 24.966]).view(3, 1, 1) / 255.
    return (img * w).sum(0, keepdim=True) + 16.


def psnr(pred: Tensor, gt: Tensor, data_range: float = 255.) -> float:
    """PSNR (dB) of two ``(C, H, W)`` images; ``inf`` when identical."""
    mse = torch.mean((pred.double() - gt.double())**2).item()
    return float('inf') if mse == 0 else 10. * np.log10(data_range**2 / mse)


def ssim(pred: Tensor, gt: Tensor, data_range: float = 255., window: int = 11,
         sigma: float = 1.5) -> float:
    """Mean SSIM (Wang et al. 2004; 11x11 gaussian window, sigma 1.5, valid region) over the
    channels of two ``(C, H, W)`` images."""
    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    coords = torch.arange(window, dtype=torch.float64) - window // 2
    g = torch.exp(-coords**2 / (2 * sigma**2))
    g = g / g.sum()
    kernel = (g[:, None] * g[None, :]).expand(pred.shape[0], 1, window, window)
    x, y = pred.double()[None], gt.double()[None]
    if min(x.shape[-2:]) < window:
        raise ValueError(f'SSIM needs images of at least {window}x{window}, got '
                         f'{tuple(x.shape[-2:])}')

    def blur(t: Tensor) -> Tensor:
        return F.conv2d(t, kernel, groups=pred.shape[0])

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) *
                                                            (sxx + syy + c2))
    return ssim_map.mean().item()


@METRICS.register_module()
class RestorationMetric(BaseMetric):
    """PSNR and SSIM between ``pred_img`` and ``gt_img`` (both ``(3, H, W)``, RGB, 0-255).

    Args:
        metric_names (sequence[str]): Any of ``PSNR``, ``SSIM`` (not ``metrics``: a config
            dict with a ``metrics`` key is read by MMEngine as an evaluator).
        crop_border (int): Pixels ignored at each border.
        convert_to (str, optional): ``'Y'``: compare the luma channel (as many restoration
            benchmarks report); None: RGB.
        pred_key (str): Prediction field (``pred_img``).
        gt_key (str): Ground-truth field (``gt_img``).
    """
    default_prefix = 'restoration'

    def __init__(self, metric_names: Sequence[str] = ('PSNR', 'SSIM'), crop_border: int = 0,
                 convert_to: str = None, pred_key: str = 'pred_img', gt_key: str = 'gt_img',
                 collect_device: str = 'cpu', prefix: str = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = sorted(set(metric_names) - {'PSNR', 'SSIM'})
        if unknown:
            raise ValueError(f'unknown restoration metrics {unknown} (PSNR, SSIM)')
        if convert_to not in (None, 'Y'):
            raise ValueError(f"convert_to must be None or 'Y', got {convert_to!r}")
        self.metrics = tuple(metric_names)
        self.crop_border = crop_border
        self.convert_to = convert_to
        self.pred_key, self.gt_key = pred_key, gt_key

    def _prepare(self, img: Tensor) -> Tensor:
        img = img.float().round().clamp(0, 255)  # as the images would be saved
        if self.convert_to == 'Y':
            img = rgb_to_y(img)
        if self.crop_border:
            b = self.crop_border
            img = img[:, b:-b, b:-b]
        return img

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            for key in (self.pred_key, self.gt_key):
                if key not in sample:
                    raise KeyError(f'RestorationMetric needs `{key}` in every data sample '
                                   f'({sample.get("img_path", "?")})')
            pred = self._prepare(sample[self.pred_key]['data'].cpu())
            gt = self._prepare(sample[self.gt_key]['data'].cpu())
            if pred.shape != gt.shape:
                raise ValueError(f'prediction {tuple(pred.shape)} and ground truth '
                                 f'{tuple(gt.shape)} differ ({sample.get("img_path", "?")})')
            result = {}
            if 'PSNR' in self.metrics:
                result['PSNR'] = psnr(pred, gt)
            if 'SSIM' in self.metrics:
                result['SSIM'] = ssim(pred, gt)
            self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        return {k: float(np.mean([r[k] for r in results])) for k in self.metrics}
