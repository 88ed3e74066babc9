# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Train a tiny text-conditioned latent diffusion model on ShapesWorld, on CPU, in minutes.

The result is a diffusers-layout directory (``model_index.json``, ``unet/``, ``vae/``,
``text_encoder/``, ``scheduler/``) that :class:`mmgen_vision.models.peekaboo.StableDiffusionGuide`
loads like Stable Diffusion, so Peekaboo can segment ShapesWorld with a *learned* model (the
embedded demo of the method, ``docs/peekaboo_demo.md``).

Two stages, both on the ShapesWorld COCO train split (generated first when ``--data-dir``
holds no ShapesWorld):

1. ``AutoencoderKL`` (2 blocks: downsampling /2, 4 latent channels, no attention) trained
   briefly with an L1 + MSE reconstruction loss and a small KL term; its ``scaling_factor``
   is then set to ``1 / std`` of the latents so the diffusion sees unit-variance latents.
2. ``UNet2DConditionModel`` (cross-attention at both resolutions) and a small ``CLIPTextModel``
   trained jointly with the epsilon-prediction DDPM loss (scaled-linear betas 0.00085..0.012,
   1000 steps, as the guide expects). Training pairs (caption dropout to ``''`` for
   classifier-free guidance):

   * *object composites*: one instance mask over a random uniform colour,
     ``m x + (1 - m) c``, captioned with a short phrase of the object ("the red circle",
     "a red circle", "red circle", "the circle", "the red shape", ...) or, when the RefCOCO
     layout is there, one of the train-split referring expressions of that object. This is the
     distribution of Peekaboo's own composites, so the model learns what "the red circle"
     looks like cut out of a scene;
   * *full scenes* with their COCO captions.

Prompts are tokenized with :class:`mmgen_vision.models.common.CLIPTokenizer` exactly as the
guide does (``context_length = max_position_embeddings``, end-of-text padding).

Example::

    python tools/misc/train_tiny_text2img.py --data-dir data/shapesworld_t2i \
        --out-dir work_dirs/tiny_t2i_shapesworld
"""
import argparse
import json
import os
import os.path as osp
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

OBJECT_TEMPLATES = ('the {c} {s}', 'a {c} {s}', '{c} {s}', 'the {s}', 'the {c} shape', 'a {s}')
PERSON_TEMPLATES = ('the person', 'a person', 'person')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data-dir', default='data/shapesworld_t2i',
                   help='ShapesWorld root (with coco/); generated there when missing')
    p.add_argument('--out-dir', default='work_dirs/tiny_t2i_shapesworld',
                   help='output diffusers-layout directory')
    p.add_argument('--num-train', type=int, default=1024,
                   help='train scenes to generate when --data-dir has none')
    p.add_argument('--num-val', type=int, default=32,
                   help='val scenes to generate when --data-dir has none')
    p.add_argument('--image-size', type=int, default=32,
                   help='training resolution (multiple of 4); scenes are resized to it')
    p.add_argument('--steps', type=int, default=600, help='UNet + text encoder steps')
    p.add_argument('--vae-steps', type=int, default=200, help='autoencoder steps')
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--lr', type=float, default=1e-3, help='UNet / text encoder learning rate')
    p.add_argument('--vae-lr', type=float, default=2e-3)
    p.add_argument('--kl-weight', type=float, default=1e-5)
    p.add_argument('--object-prob', type=float, default=0.6,
                   help='fraction of training pairs that are object composites')
    p.add_argument('--uncond-prob', type=float, default=0.1,
                   help='caption dropout (empty prompt) for classifier-free guidance')
    p.add_argument('--text-length', type=int, default=24,
                   help='text positions (max_position_embeddings, the guide context length)')
    p.add_argument('--width', type=int, default=32, help='base UNet channels')
    p.add_argument('--text-width', type=int, default=32, help='text encoder hidden size')
    p.add_argument('--log-interval', type=int, default=50)
    p.add_argument('--threads', type=int, default=1,
                   help='torch CPU threads (1 is fastest on a busy shared CPU: multi-thread '
                   'kernels stall when the cores are oversubscribed; 0 keeps torch\'s default)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--loss-log', default=None,
                   help='optional json file for the loss curves and timings')
    return p.parse_args(argv)


# ---------------------------------------------------------------- data
def _coco_root(data_dir):
    for cand in (osp.join(data_dir, 'coco'), data_dir):
        if osp.isfile(osp.join(cand, 'annotations', 'instances_train2017.json')):
            return cand
    return None


def prepare_data(args):
    coco = _coco_root(args.data_dir)
    if coco is None:
        from mmgen_vision.datasets import generate_shapesworld
        print(f'[data] generating ShapesWorld ({args.num_train} train scenes, '
              f'{args.image_size} px) in {args.data_dir}', flush=True)
        generate_shapesworld(args.data_dir, num_train=args.num_train, num_val=args.num_val,
                             image_size=max(64, min(128, args.image_size)), seed=0,
                             formats=('coco', 'refcoco'))
        coco = _coco_root(args.data_dir)
    return coco


def load_data(coco_root, image_size, data_dir):
    """All train scenes in memory: images ``(N, 3, S, S)`` in [0, 1], object masks, captions."""
    import mmcv
    from pycocotools import mask as mask_utils
    with open(osp.join(coco_root, 'annotations', 'instances_train2017.json')) as f:
        inst = json.load(f)
    with open(osp.join(coco_root, 'annotations', 'captions_train2017.json')) as f:
        caps = json.load(f)
    cat_names = {c['id']: c['name'] for c in inst['categories']}
    images, index = [], {}
    for img in inst['images']:
        arr = mmcv.imread(osp.join(coco_root, 'train2017', img['file_name']), channel_order='rgb')
        t = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).float() / 255
        if t.shape[-1] != image_size or t.shape[-2] != image_size:
            t = F.interpolate(t[None], size=(image_size, image_size), mode='bilinear',
                              align_corners=False, antialias=True)[0]
        index[img['id']] = len(images)
        images.append(t)
    scene_caps = [[] for _ in images]
    for c in caps['annotations']:
        if c['image_id'] in index:
            scene_caps[index[c['image_id']]].append(c['caption'].strip().rstrip('.').lower())
    # referring expressions of the train split (same annotation ids as the COCO layout)
    ref_sents = {}
    refs_file = osp.join(data_dir, 'refcoco', 'refcoco', 'refs(unc).p')
    if osp.isfile(refs_file):
        from mmgen_vision.utils import safe_pickle_load
        for ref in safe_pickle_load(refs_file):  # builtin containers only, never code
            if ref['split'] == 'train':
                ref_sents.setdefault(ref['ann_id'], []).extend(
                    s['sent'] for s in ref['sentences'])
    objects = []  # (scene index, mask (1, S, S), captions)
    for ann in inst['annotations']:
        if ann['image_id'] not in index:
            continue
        seg = ann['segmentation']
        h, w = seg['size'] if isinstance(seg, dict) else (None, None)
        if not isinstance(seg, dict):
            img = next(i for i in inst['images'] if i['id'] == ann['image_id'])
            h, w = img['height'], img['width']
            seg = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
        elif isinstance(seg['counts'], list):
            seg = mask_utils.frPyObjects(seg, h, w)
        m = torch.from_numpy(mask_utils.decode(seg).astype(np.float32))[None]
        if m.shape[-1] != image_size:
            m = F.interpolate(m[None], size=(image_size, image_size), mode='nearest')[0]
        if m.sum() < 1:
            continue
        name = cat_names[ann['category_id']]
        colour = (ann.get('attributes') or {}).get('color')
        if name == 'person' or colour is None:
            captions = [t.format(s=name) if '{s}' in t else t
                        for t in (PERSON_TEMPLATES if name == 'person' else ('the {s}', 'a {s}'))]
        else:
            captions = [t.format(c=colour, s=name) for t in OBJECT_TEMPLATES]
        captions += ref_sents.get(ann['id'], [])
        objects.append((index[ann['image_id']], m, list(dict.fromkeys(captions))))
    return torch.stack(images), objects, scene_caps


class PairSampler:
    """Random (image, caption) training pairs: object composites and full scenes."""

    def __init__(self, images, objects, scene_caps, object_prob, uncond_prob, seed):
        self.images = images
        self.objects = objects
        self.scene_caps = scene_caps
        self.object_prob = object_prob
        self.uncond_prob = uncond_prob
        self.rng = random.Random(seed)
        self.gen = torch.Generator().manual_seed(seed)

    def sample(self, n, with_text=True):
        imgs, texts = [], []
        for _ in range(n):
            if self.rng.random() < self.object_prob:
                si, m, captions = self.objects[self.rng.randrange(len(self.objects))]
                colour = torch.rand((3, 1, 1), generator=self.gen)
                imgs.append(m * self.images[si] + (1 - m) * colour)
                text = self.rng.choice(captions)
            else:
                si = self.rng.randrange(len(self.images))
                imgs.append(self.images[si])
                caps = self.scene_caps[si] or ['']
                text = self.rng.choice(caps)
            if self.rng.random() < self.uncond_prob:
                text = ''
            texts.append(text)
        return torch.stack(imgs), (texts if with_text else None)


# ---------------------------------------------------------------- models
def build_models(args):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from mmgen_vision.models.peekaboo.diffusion import stable_diffusion_scheduler
    w = args.width
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=('DownEncoderBlock2D', ) * 2,
        up_block_types=('UpDecoderBlock2D', ) * 2,
        block_out_channels=(16, 32),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        mid_block_add_attention=False,
        sample_size=args.image_size)
    unet = UNet2DConditionModel(
        sample_size=args.image_size // 2,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(w, 2 * w),
        down_block_types=('CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'),
        up_block_types=('CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'),
        cross_attention_dim=args.text_width,
        attention_head_dim=8,
        norm_num_groups=8)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=49408,
            hidden_size=args.text_width,
            intermediate_size=2 * args.text_width,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=args.text_length,
            bos_token_id=49406,
            eos_token_id=49407,
            pad_token_id=49407,
            projection_dim=args.text_width))
    scheduler = stable_diffusion_scheduler()
    return vae, unet, text_encoder, scheduler


def _log(stage, step, total, losses, t0, interval):
    recent = losses[-interval:]
    print(f'[{stage}] step {step:5d}/{total}  loss {np.mean(recent):.4f}  '
          f'({time.time() - t0:6.1f} s)', flush=True)


def train_vae(vae, sampler, args):
    opt = torch.optim.AdamW(vae.parameters(), lr=args.vae_lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.vae_lr,
                                                total_steps=max(args.vae_steps, 1),
                                                pct_start=0.1)
    vae.train()
    losses, t0 = [], time.time()
    for step in range(1, args.vae_steps + 1):
        x, _ = sampler.sample(args.batch_size, with_text=False)
        x = x * 2 - 1
        post = vae.encode(x).latent_dist
        z = post.sample()
        rec = vae.decode(z).sample
        loss = F.l1_loss(rec, x) + F.mse_loss(rec, x) + args.kl_weight * post.kl().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step % args.log_interval == 0 or step == args.vae_steps:
            _log('vae', step, args.vae_steps, losses, t0, args.log_interval)
    vae.eval()
    vae.requires_grad_(False)
    # unit-variance latents for the diffusion (the guide multiplies by scaling_factor)
    with torch.no_grad():
        zs = torch.cat([vae.encode(sampler.sample(64, with_text=False)[0] * 2 - 1)
                        .latent_dist.mean for _ in range(4)])
    scale = float(1.0 / zs.std().clamp_min(1e-6))
    vae.register_to_config(scaling_factor=scale)
    return losses, scale, time.time() - t0


def train_diffusion(unet, text_encoder, vae, scheduler, sampler, args):
    from mmgen_vision.models.common import CLIPTokenizer
    tokenizer = CLIPTokenizer(context_length=args.text_length, pad_token='eot')
    params = list(unet.parameters()) + list(text_encoder.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr,
                                                total_steps=max(args.steps, 1),
                                                pct_start=0.05)
    alphas = scheduler.alphas_cumprod.float()
    scale = vae.config.scaling_factor
    gen = torch.Generator().manual_seed(args.seed + 1)
    unet.train()
    text_encoder.train()
    losses, t0 = [], time.time()
    for step in range(1, args.steps + 1):
        x, texts = sampler.sample(args.batch_size)
        with torch.no_grad():
            z = vae.encode(x * 2 - 1).latent_dist.sample(generator=gen) * scale
        t = torch.randint(0, alphas.numel(), (z.shape[0], ), generator=gen)
        noise = torch.randn(z.shape, generator=gen)
        a = alphas[t].view(-1, 1, 1, 1)
        noisy = a.sqrt() * z + (1 - a).sqrt() * noise
        emb = text_encoder(input_ids=tokenizer(texts)).last_hidden_state
        pred = unet(noisy, t, encoder_hidden_states=emb).sample
        loss = F.mse_loss(pred, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step % args.log_interval == 0 or step == args.steps:
            _log('diffusion', step, args.steps, losses, t0, args.log_interval)
    unet.eval()
    text_encoder.eval()
    return losses, time.time() - t0


def main(argv=None):
    args = parse_args(argv)
    if args.image_size % 4:
        raise SystemExit(f'--image-size must be a multiple of 4, got {args.image_size}')
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    t_start = time.time()
    coco_root = prepare_data(args)
    images, objects, scene_caps = load_data(coco_root, args.image_size, args.data_dir)
    print(f'[data] {len(images)} scenes, {len(objects)} objects, '
          f'{sum(len(c) for c in scene_caps)} scene captions, {args.image_size} px '
          f'({time.time() - t_start:.1f} s)', flush=True)
    sampler = PairSampler(images, objects, scene_caps, args.object_prob, args.uncond_prob,
                          args.seed)
    vae, unet, text_encoder, scheduler = build_models(args)
    n_params = {k: sum(p.numel() for p in m.parameters()) / 1e6
                for k, m in (('vae', vae), ('unet', unet), ('text_encoder', text_encoder))}
    print('[model] parameters (M): ' + ', '.join(f'{k} {v:.2f}' for k, v in n_params.items()),
          flush=True)
    vae_losses, scale, vae_time = train_vae(vae, sampler, args)
    print(f'[vae] done in {vae_time:.1f} s, latent scaling_factor {scale:.4f}', flush=True)
    diff_losses, diff_time = train_diffusion(unet, text_encoder, vae, scheduler, sampler, args)
    from mmgen_vision.models.peekaboo.diffusion import save_diffusers_dir
    save_diffusers_dir(args.out_dir, unet=unet, vae=vae, text_encoder=text_encoder,
                       scheduler=scheduler)
    total = time.time() - t_start
    print(f'[done] saved {args.out_dir}  (vae {vae_time:.1f} s, diffusion {diff_time:.1f} s, '
          f'total {total:.1f} s)', flush=True)
    if args.loss_log:
        os.makedirs(osp.dirname(osp.abspath(args.loss_log)), exist_ok=True)
        with open(args.loss_log, 'w') as f:
            json.dump(dict(vae_losses=vae_losses, diffusion_losses=diff_losses,
                           vae_time=vae_time, diffusion_time=diff_time, total_time=total,
                           scaling_factor=scale, args=vars(args)), f)
    return args.out_dir


if __name__ == '__main__':
    main()
