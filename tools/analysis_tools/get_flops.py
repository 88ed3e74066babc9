# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Count the FLOPs and parameters of a config's model.

    python tools/analysis_tools/get_flops.py CONFIG [--shape H [W]] [--device cpu]
        [--show-table] [--show-arch] [--cfg-options k=v ...]

The model's ``forward(inputs, data_samples, mode='tensor')`` is traced by
``mmengine.analysis.get_model_complexity_info`` in eval mode with batch size 1. The input is

* ``--shape H W``: a random image of that size (``direct``);
* otherwise one sample of the test dataloader (``dataloader``), as the model sees it at test
  time (after the test pipeline and the data preprocessor);
* a config without a test split (GroupViT's pre-training): one sample of the training
  dataloader through the training forward, ``mode='loss'`` (``train_dataloader``; GroupViT: the
  image and the text towers, as a training step runs them);
* otherwise, when the dataset cannot be read, a random image of the config's
  ``model.data_preprocessor.size`` or ``crop_size`` (``config``).

Either way the data preprocessor runs first (normalisation, channel order, test padding), so
the traced tensor is the one the network receives. FLOPs are counted the fvcore way: one fused
multiply-add is one FLOP. Modules the test-time forward never calls and which mmseg drops for
the same reason (``auxiliary_head``) are removed before the parameters are counted.
"""
import argparse
import os.path as osp
import sys
import time
from functools import partial
from typing import List, Optional, Sequence, Tuple

import torch
from mmengine.analysis import get_model_complexity_info
from mmengine.config import Config, DictAction
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import BaseDataElement

# The repository root on sys.path lets configs load projects/ with custom_imports.
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.realpath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgen_vision.registry import MODELS  # noqa: E402
from mmgen_vision.utils import (  # noqa: E402
    load_config, register_all_modules)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Count the FLOPs and parameters of a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        help='input image size H W (one value: square); default: a test dataloader sample, '
        'else the config\'s data_preprocessor.size or crop_size')
    parser.add_argument('--device', default='cpu', help='device the model is traced on')
    parser.add_argument('--show-table', action='store_true', help='print the per-module table')
    parser.add_argument('--show-arch', action='store_true', help='print the annotated model')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value, nested keys with dots')
    args = parser.parse_args(argv)
    if args.shape is not None:
        if len(args.shape) not in (1, 2) or min(args.shape) < 1:
            parser.error('--shape takes H W (or one positive size for a square)')
        args.shape = tuple(args.shape) * (3 - len(args.shape))
    return args


def config_shape(cfg: Config) -> Optional[Tuple[int, int]]:
    """The input size (H, W) the config trains at: ``data_preprocessor.size`` or ``crop_size``."""
    preprocessor = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    for size in (preprocessor.get('size'), cfg.get('crop_size')):
        if size is not None:
            size = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
            return int(size[0]), int(size[1])
    return None


def _num_channels(cfg: Config) -> int:
    preprocessor = cfg.model.get('data_preprocessor') or cfg.get('data_preprocessor') or {}
    mean = preprocessor.get('mean')
    return len(mean) if isinstance(mean, (list, tuple)) else 3


def random_batch(shape: Sequence[int], channels: int = 3) -> dict:
    """One random 0-255 image of size ``shape`` (H, W) with a metainfo-only data sample."""
    h, w = shape
    meta = dict(ori_shape=(h, w), img_shape=(h, w), pad_shape=(h, w), scale_factor=(1.0, 1.0))
    return dict(inputs=[torch.randint(0, 256, (channels, h, w), dtype=torch.uint8)],
                data_samples=[BaseDataElement(metainfo=meta)])


def dataloader_batch(cfg: Config, split: str = 'test') -> dict:
    """The first sample of the config's ``test`` or ``train`` dataloader (batch 1, no workers)."""
    loader_cfg = cfg[f'{split}_dataloader'].copy()
    loader_cfg.update(batch_size=1, num_workers=0, persistent_workers=False)
    loader_cfg.pop('prefetch_factor', None)
    return next(iter(Runner.build_dataloader(loader_cfg)))


def get_flops(cfg: Config,
              shape: Optional[Sequence[int]] = None,
              device: str = 'cpu',
              show_table: bool = False,
              show_arch: bool = False) -> dict:
    """FLOPs, activations and parameters of ``cfg.model`` for one input.

    Args:
        cfg (Config): The config.
        shape (Sequence[int], optional): Input (H, W). Default: a test dataloader sample; a
            config without a test dataloader: a training sample through ``mode='loss'``; else
            :func:`config_shape`.
        device (str): Device to trace on.
        show_table (bool): Also return the per-module table (``out_table``).
        show_arch (bool): Also return the annotated model (``out_arch``).

    Returns:
        dict: ``flops``, ``params`` and ``activations`` (numbers), their ``*_str`` forms,
        ``input_shape`` (the traced tensor's shape), ``compute_type`` (``direct``,
        ``dataloader``, ``train_dataloader`` or ``config``), ``out_table`` and ``out_arch``.
    """
    init_default_scope(cfg.get('default_scope', 'mmgen_vision'))
    mode = 'tensor'  # the test-time forward
    if shape is not None:
        data, compute_type = random_batch(shape, _num_channels(cfg)), 'direct'
    else:
        # no test split: the training forward, whose cost a training step multiplies
        split = 'train' if cfg.get('train_dataloader') and not cfg.get('test_dataloader') \
            else 'test'
        try:
            data = dataloader_batch(cfg, split)
            compute_type = 'dataloader' if split == 'test' else 'train_dataloader'
            mode = 'tensor' if split == 'test' else 'loss'
        except Exception as err:  # no data on this machine: fall back to the config's size
            shape = config_shape(cfg)
            if shape is None:
                raise RuntimeError(f'the {split} dataloader could not be read and the config '
                                   'sets no input size (data_preprocessor.size / crop_size): '
                                   f'pass --shape H W ({type(err).__name__}: {err})') from err
            print(f'the {split} dataloader could not be read ({type(err).__name__}: {err}); '
                  f'using a random {shape[0]}x{shape[1]} image')
            data, compute_type = random_batch(shape, _num_channels(cfg)), 'config'

    model = MODELS.build(cfg.model)
    if getattr(model, 'auxiliary_head', None) is not None:
        model.auxiliary_head = None  # only used by the training loss
    model = revert_sync_batchnorm(model).to(device)
    model.eval()
    with torch.no_grad():
        data = model.data_preprocessor(data, False)
    inputs = data['inputs']
    # data samples are not traceable arguments: bind them to forward (mmdet's get_flops does so)
    model.forward = partial(model.forward, data_samples=data.get('data_samples'), mode=mode)
    result = get_model_complexity_info(
        model, inputs=(inputs, ), show_table=show_table, show_arch=show_arch)
    result['input_shape'] = tuple(inputs.shape) if hasattr(inputs, 'shape') else None
    result['compute_type'] = compute_type
    return result


def gemm_peak_flops(device: str = 'cpu',
                    dtype: torch.dtype = torch.float32,
                    size: int = 2048,
                    repeats: int = 5) -> float:
    """The FLOP/s of a large square matrix product: the practical peak of dense layers here.

    ``repeats`` products of two ``(size, size)`` matrices after one untimed product, on the
    current torch threads; the best repeat counts. FLOPs are counted as :func:`get_flops`
    counts them (one fused multiply-add is one FLOP: ``size ** 3`` per product), so a model's
    FLOPs per second divided by this number is the fraction of the machine it uses.

    Args:
        device (str): ``'cpu'`` or ``'cuda'``.
        dtype (torch.dtype): ``torch.float32`` or ``torch.bfloat16`` (the ``--amp`` path).
        size (int): The matrices' side.
        repeats (int): Timed products.

    Returns:
        float: FLOP/s (fused multiply-adds per second).
    """
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    best = float('inf')
    for i in range(repeats + 1):
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        start = time.perf_counter()
        torch.mm(a, b)
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        if i > 0:
            best = min(best, time.perf_counter() - start)
    return size**3 / best


def format_result(result: dict) -> str:
    split = '=' * 30
    about = dict(direct='random input of the given --shape',
                 dataloader='one sample of the test dataloader',
                 train_dataloader='the training forward of one training sample',
                 config='random input of the config\'s input size')[result['compute_type']]
    return (f'{split}\nCompute type: {result["compute_type"]} ({about})\n'
            f'Input shape: {result["input_shape"]}\nFlops: {result["flops_str"]}\n'
            f'Params: {result["params_str"]}\nActivations: {result["activations_str"]}\n'
            f'{split}\nFLOPs count one fused multiply-add as one operation; verify them '
            'before quoting them in a paper.')


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = load_config(args.config, args.cfg_options, extra_keys=('crop_size', ))
    result = get_flops(cfg, args.shape, args.device, args.show_table, args.show_arch)
    if args.show_table:
        print(result['out_table'])
    if args.show_arch:
        print(result['out_arch'])
    print(format_result(result))
    return result


if __name__ == '__main__':
    main()
