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

Prompts are tokenized with :class:`mmgen_vision.utils.clip_tokenizer.CLIPTokenizer` exactly as the
guide does (``context_length = max_position_embeddings``, end-of-text padding).

Making the UNet use the prompt (``docs/peekaboo_demo.md``, third round): the objects cover a
few percent of the picture and the text can only lower the loss there, at large t, so by
default the model learns to ignore it. ``--zoom-prob`` (object composites cropped around the
object), ``--min-timestep``, a short text encoder (``--text-length``), ``--text-pool`` and
``--text-lr-mult`` give the text a signal it learns from in CPU minutes;
:func:`probe_conditioning` measures it on the val objects (own prompt vs another class's).

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
# captions of a *class composite* (every instance of one class in the scene): the bare class
# names are the prompts of Peekaboo's semantic mode
CLASS_TEMPLATES = ('{s}', 'the {s}s', '{s}s')


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
    p.add_argument('--unet-mults', type=int, nargs='+', default=[1, 2],
                   help='UNet channel multipliers of --width, one per resolution level')
    p.add_argument('--unet-attn', type=int, nargs='+', default=None,
                   help='1/0 per UNet level: cross-attention blocks there (default: all)')
    p.add_argument('--vae-channels', type=int, nargs='+', default=[16, 32],
                   help='autoencoder block channels; the latents are at /2**(len - 1) '
                   '(one entry: no downsampling, a near pixel-space model)')
    p.add_argument('--text-width', type=int, default=32, help='text encoder hidden size')
    p.add_argument('--text-pool', action='store_true',
                   help='also add the attention-pooled prompt embedding to the UNet\'s time '
                   'embedding (diffusers addition_embed_type=\'text\'): a global conditioning '
                   'path into every ResNet block besides the cross-attention')
    p.add_argument('--text-lr-mult', type=float, default=1.0,
                   help='learning rate of the text encoder as a multiple of --lr')
    p.add_argument('--min-timestep', type=int, default=0,
                   help='train the UNet on timesteps >= this only; the prompt can only matter '
                   'where the noise hides the object, so small t teach the text nothing (the '
                   'guide samples t >= its min_step anyway)')
    p.add_argument('--probe-interval', type=int, default=0,
                   help='measure the conditioning on val every N diffusion steps (0: only at '
                   'the end; see probe_conditioning)')
    p.add_argument('--token-init-std', type=float, default=0.0,
                   help='re-initialise the token embeddings with this std (0: CLIP\'s 0.02); '
                   'with 0.02 the prompts\' embeddings start nearly equal (cosine 0.999) and '
                   'the UNet learns to ignore them')
    p.add_argument('--zoom-prob', type=float, default=0.0,
                   help='fraction of the object composites cropped around the object (the '
                   'object then fills 1/16 to 1/2 of the picture) before resizing to '
                   '--image-size: the prompted colour and shape cover many pixels, which '
                   'gives the text a strong training signal; scenes are kept at their native '
                   'resolution for the crops')
    p.add_argument('--class-prob', type=float, default=0.0,
                   help='fraction of the object composites that show every instance of one '
                   'class, captioned with the class name (semantic-mode prompts)')
    p.add_argument('--save-interval', type=int, default=0,
                   help='also save the model every N diffusion steps (0: only at the end)')
    p.add_argument('--stop-step', type=int, default=0,
                   help='stop (and save) after this many diffusion steps of the --steps '
                   'schedule (0: run it all)')
    p.add_argument('--sample-grid', default=None,
                   help='write a PNG grid of samples (rows: prompts) of the trained model')
    p.add_argument('--grid-steps', type=int, default=50, help='DDIM steps of the sample grid')
    p.add_argument('--grid-guidance', type=float, default=4.0,
                   help='classifier-free guidance scale of the sample grid')
    p.add_argument('--sample-from', default=None,
                   help='no training: load this diffusers directory and write --sample-grid')
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


def load_data(coco_root, image_size, data_dir, split='train'):
    """All scenes of a split in memory: images ``(N, 3, S, S)`` in [0, 1], object masks,
    captions. ``image_size`` None keeps the scenes' native size.

    Returns:
        tuple: images ``(N, 3, S, S)``; objects and class composites, each a list of
        ``(scene index, mask (1, S, S), captions, class name)`` (a class composite masks every
        instance of one class in the scene); the scene captions (one list per scene).
    """
    import mmcv
    from pycocotools import mask as mask_utils
    with open(osp.join(coco_root, 'annotations', f'instances_{split}2017.json')) as f:
        inst = json.load(f)
    with open(osp.join(coco_root, 'annotations', f'captions_{split}2017.json')) as f:
        caps = json.load(f)
    cat_names = {c['id']: c['name'] for c in inst['categories']}
    images, index = [], {}
    for img in inst['images']:
        arr = mmcv.imread(osp.join(coco_root, f'{split}2017', img['file_name']),
                          channel_order='rgb')
        t = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).float() / 255
        if image_size and (t.shape[-1] != image_size or t.shape[-2] != image_size):
            t = F.interpolate(t[None], size=(image_size, image_size), mode='bilinear',
                              align_corners=False, antialias=True)[0]
        index[img['id']] = len(images)
        images.append(t)
    scene_caps = [[] for _ in images]
    for c in caps['annotations']:
        if c['image_id'] in index:
            scene_caps[index[c['image_id']]].append(c['caption'].strip().rstrip('.').lower())
    # referring expressions of the split (same annotation ids as the COCO layout)
    ref_sents = {}
    refs_file = osp.join(data_dir, 'refcoco', 'refcoco', 'refs(unc).p')
    if osp.isfile(refs_file):
        from mmgen_vision.utils import safe_pickle_load
        for ref in safe_pickle_load(refs_file):  # builtin containers only, never code
            if ref['split'] == split:
                ref_sents.setdefault(ref['ann_id'], []).extend(
                    s['sent'] for s in ref['sentences'])
    objects = []  # (scene index, mask (1, S, S), captions)
    class_masks = {}  # (scene index, class name) -> union of the instance masks
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
        if image_size and m.shape[-1] != image_size:
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
        objects.append((index[ann['image_id']], m, list(dict.fromkeys(captions)), name))
        key = (index[ann['image_id']], name)
        class_masks[key] = torch.maximum(class_masks[key], m) if key in class_masks else m
    classes = [(si, m, [t.format(s=name) for t in CLASS_TEMPLATES], name)
               for (si, name), m in class_masks.items()]
    return torch.stack(images), objects, classes, scene_caps


class PairSampler:
    """Random (image, caption) training pairs: object composites and full scenes.

    Pairs are ``out_size`` pixels square (the scenes' size when None); a ``zoom_prob`` share of
    the object composites is a square crop around the object (side 1.4 to 4 times the
    object's, the object fully inside) resized to ``out_size``.
    """

    def __init__(self, images, objects, scene_caps, object_prob, uncond_prob, seed,
                 classes=(), class_prob=0.0, out_size=None, zoom_prob=0.0):
        self.images = images
        self.out_size = out_size or images.shape[-1]
        self.zoom_prob = zoom_prob
        self.objects = objects
        self.classes = list(classes)
        self.class_prob = class_prob if self.classes else 0.0
        self.scene_caps = scene_caps
        self.object_prob = object_prob
        self.uncond_prob = uncond_prob
        self.rng = random.Random(seed)
        self.gen = torch.Generator().manual_seed(seed)

    def sample(self, n, with_text=True):
        imgs, texts = [], []
        for _ in range(n):
            if self.rng.random() < self.object_prob:
                pool = (self.classes if self.class_prob and self.rng.random() < self.class_prob
                        else self.objects)
                si, m, captions = pool[self.rng.randrange(len(pool))][:3]
                colour = torch.rand((3, 1, 1), generator=self.gen)
                img = m * self.images[si] + (1 - m) * colour
                if self.zoom_prob and self.rng.random() < self.zoom_prob:
                    img = self._zoom(img, m)
                imgs.append(self._resize(img))
                text = self.rng.choice(captions)
            else:
                si = self.rng.randrange(len(self.images))
                imgs.append(self._resize(self.images[si]))
                caps = self.scene_caps[si] or ['']
                text = self.rng.choice(caps)
            if self.rng.random() < self.uncond_prob:
                text = ''
            texts.append(text)
        return torch.stack(imgs), (texts if with_text else None)

    def _resize(self, img):
        if img.shape[-1] == self.out_size:
            return img
        return F.interpolate(img[None], size=(self.out_size, self.out_size), mode='bilinear',
                             align_corners=False, antialias=True)[0]

    def _zoom(self, img, mask):
        """A square crop ``(3, c, c)`` of ``img`` ``(3, S, S)`` around ``mask`` ``(1, S, S)``."""
        size = img.shape[-1]
        ys, xs = torch.nonzero(mask[0], as_tuple=True)
        y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
        obj = max(y1 - y0, x1 - x0)
        side = int(round(obj * self.rng.uniform(1.4, 4.0)))
        side = min(max(side, obj + 2, 8), size)
        top = self.rng.randint(max(0, y1 - side), max(0, min(y0, size - side)))
        left = self.rng.randint(max(0, x1 - side), max(0, min(x0, size - side)))
        return img[:, top:top + side, left:left + side]


# ---------------------------------------------------------------- models
def build_models(args):
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from mmgen_vision.models.peekaboo.diffusers_dir import stable_diffusion_scheduler
    w = args.width
    vae_levels = len(args.vae_channels)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=('DownEncoderBlock2D', ) * vae_levels,
        up_block_types=('UpDecoderBlock2D', ) * vae_levels,
        block_out_channels=tuple(args.vae_channels),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        mid_block_add_attention=False,
        sample_size=args.image_size)
    attn = args.unet_attn or [1] * len(args.unet_mults)
    if len(attn) != len(args.unet_mults):
        raise SystemExit('--unet-attn needs one 1/0 per --unet-mults entry')
    down = tuple('CrossAttnDownBlock2D' if a else 'DownBlock2D' for a in attn)
    up = tuple('CrossAttnUpBlock2D' if a else 'UpBlock2D' for a in reversed(attn))
    unet = UNet2DConditionModel(
        sample_size=args.image_size // 2**(vae_levels - 1),
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=tuple(w * m for m in args.unet_mults),
        down_block_types=down,
        up_block_types=up,
        cross_attention_dim=args.text_width,
        attention_head_dim=8,
        norm_num_groups=8,
        addition_embed_type='text' if args.text_pool else None,
        addition_embed_type_num_heads=4)
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
    if args.token_init_std > 0:
        with torch.no_grad():
            text_encoder.text_model.embeddings.token_embedding.weight.normal_(
                0.0, args.token_init_std)
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


def train_diffusion(unet, text_encoder, vae, scheduler, sampler, args, probe_data=None):
    from mmgen_vision.utils import CLIPTokenizer
    tokenizer = CLIPTokenizer(context_length=args.text_length, pad_token='eot')
    params = list(unet.parameters()) + list(text_encoder.parameters())
    text_lr = args.lr * args.text_lr_mult
    opt = torch.optim.AdamW([
        dict(params=list(unet.parameters()), lr=args.lr),
        dict(params=list(text_encoder.parameters()), lr=text_lr)
    ], lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[args.lr, text_lr],
                                                total_steps=max(args.steps, 1),
                                                pct_start=0.05)
    alphas = scheduler.alphas_cumprod.float()
    scale = vae.config.scaling_factor
    gen = torch.Generator().manual_seed(args.seed + 1)
    unet.train()
    text_encoder.train()
    losses, t0 = [], time.time()
    last = min(args.steps, args.stop_step) if args.stop_step else args.steps
    for step in range(1, last + 1):
        x, texts = sampler.sample(args.batch_size)
        with torch.no_grad():
            z = vae.encode(x * 2 - 1).latent_dist.sample(generator=gen) * scale
        t = torch.randint(args.min_timestep, alphas.numel(), (z.shape[0], ), generator=gen)
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
        if probe_data is not None and args.probe_interval and step % args.probe_interval == 0:
            _print_probe(
                probe_conditioning(unet, text_encoder, vae, scheduler, *probe_data),
                f"step {step}")
        if args.save_interval and step % args.save_interval == 0 and step < last:
            from mmgen_vision.models.peekaboo.diffusers_dir import save_diffusers_dir
            save_diffusers_dir(args.out_dir, unet=unet, vae=vae, text_encoder=text_encoder,
                               scheduler=scheduler)
            print(f'[diffusion] saved step {step} to {args.out_dir}', flush=True)
    unet.eval()
    text_encoder.eval()
    return losses, time.time() - t0


PROBE_TIMESTEPS = (200, 400, 600, 800)


@torch.no_grad()
def probe_conditioning(unet, text_encoder, vae, scheduler, images, objects, seed=0,
                       timesteps=PROBE_TIMESTEPS):
    """How much the prompt decides the denoising, on object composites (e.g. of val scenes).

    Each object of ``objects`` (``(scene index, mask (1, S, S), captions, class name)``) is
    cut out over a plain random colour, encoded, noised at every step of ``timesteps`` and
    denoised three times with the same noise: with its own prompt ``'the <class>'``, with the
    prompt of another class present in ``objects`` (the next one in sorted order) and with
    the empty prompt. A model that uses the text has a clearly lower epsilon-MSE with the own
    prompt than with the wrong one. The objects cover a few percent of the image and the text
    can only help there, so the MSE is also measured on the object's latent pixels alone.

    Returns:
        dict: ``own``, ``wrong`` and ``empty`` (mean epsilon-MSE over the image), ``gap``
        (``(wrong - own) / own``), ``gap_obj`` (the same on the object's pixels), ``win``
        (share of (object, t) pairs where the own prompt has the lower MSE on the object's
        pixels) and ``num`` (number of objects).
    """
    from mmgen_vision.utils import CLIPTokenizer
    was_training = unet.training, text_encoder.training
    unet.eval()
    text_encoder.eval()
    tokenizer = CLIPTokenizer(context_length=int(text_encoder.config.max_position_embeddings),
                              pad_token='eot')
    names = sorted({o[3] for o in objects})
    if len(names) < 2:
        raise ValueError('the probe needs objects of at least two classes')
    gen = torch.Generator().manual_seed(seed)
    x = torch.stack([m * images[si] + (1 - m) * torch.rand((3, 1, 1), generator=gen)
                     for si, m, _, _ in objects])
    z = vae.encode(x * 2 - 1).latent_dist.mean * vae.config.scaling_factor
    mask = F.interpolate(torch.stack([o[1] for o in objects]), size=z.shape[-2:],
                         mode='area').clamp_min(0)  # (N, 1, h, w), object share per latent
    own = [f'the {o[3]}' for o in objects]
    wrong = [f'the {names[(names.index(o[3]) + 1) % len(names)]}' for o in objects]
    emb = {k: text_encoder(input_ids=tokenizer(v)).last_hidden_state
           for k, v in (('own', own), ('wrong', wrong), ('empty', [''] * len(objects)))}
    mse = {k: [] for k in emb}
    mse_obj = {k: [] for k in emb}
    for step in timesteps:
        t = torch.full((len(objects), ), step, dtype=torch.long)
        noise = torch.randn(z.shape, generator=gen)
        noisy = scheduler.add_noise(z, noise, t)
        for k, e in emb.items():
            pred = unet(noisy, t, encoder_hidden_states=e).sample
            err = (pred - noise).pow(2).mean(1, keepdim=True)  # (N, 1, h, w)
            mse[k].append(err.flatten(1).mean(1))
            mse_obj[k].append((err * mask).flatten(1).sum(1) / mask.flatten(1).sum(1))
    mse = {k: torch.stack(v) for k, v in mse.items()}  # (T, N)
    mse_obj = {k: torch.stack(v) for k, v in mse_obj.items()}
    unet.train(was_training[0])
    text_encoder.train(was_training[1])
    res = {k: float(v.mean()) for k, v in mse.items()}
    res['gap'] = (res['wrong'] - res['own']) / res['own']
    res['gap_obj'] = float((mse_obj['wrong'].mean() - mse_obj['own'].mean()) /
                           mse_obj['own'].mean())
    res['win'] = float((mse_obj['own'] < mse_obj['wrong']).float().mean())
    res['num'] = len(objects)
    return res


def _print_probe(res, tag):
    print(f'[probe] {tag}: eps-MSE own {res["own"]:.4f} wrong {res["wrong"]:.4f} '
          f'empty {res["empty"]:.4f}  gap {100 * res["gap"]:+.2f} % (object pixels '
          f'{100 * res["gap_obj"]:+.2f} %)  own wins '
          f'{100 * res["win"]:.1f} % ({res["num"]} val objects)', flush=True)


GRID_PROMPTS = ('the red circle', 'the green square', 'the blue triangle', 'the yellow star',
                'the person', 'circle', 'the square on the left', 'the biggest triangle')


@torch.no_grad()
def sample_images(unet, text_encoder, vae, scheduler, prompts, num_per_prompt=6,
                  guidance_scale=4.0, num_steps=50, seed=0, text_length=None):
    """DDIM samples with classifier-free guidance, ``(P, n, 3, S, S)`` in [0, 1].

    Prompts are tokenized as the guide tokenizes them (``CLIPTokenizer``, end-of-text padding,
    ``max_position_embeddings`` positions).
    """
    from diffusers import DDIMScheduler

    from mmgen_vision.utils import CLIPTokenizer
    length = text_length or int(text_encoder.config.max_position_embeddings)
    tokenizer = CLIPTokenizer(context_length=length, pad_token='eot')
    ddim = DDIMScheduler.from_config(scheduler.config)
    ddim.set_timesteps(num_steps)
    gen = torch.Generator().manual_seed(seed)
    size = unet.config.sample_size
    uncond = text_encoder(input_ids=tokenizer([''])).last_hidden_state
    out = []
    for prompt in prompts:
        cond = text_encoder(input_ids=tokenizer([prompt])).last_hidden_state
        emb = torch.cat([uncond.expand(num_per_prompt, -1, -1),
                         cond.expand(num_per_prompt, -1, -1)])
        z = torch.randn((num_per_prompt, unet.config.in_channels, size, size), generator=gen)
        for t in ddim.timesteps:
            eps = unet(torch.cat([z, z]), t, encoder_hidden_states=emb).sample
            eps_u, eps_c = eps.chunk(2)
            z = ddim.step(eps_u + guidance_scale * (eps_c - eps_u), t, z).prev_sample
        img = vae.decode(z / vae.config.scaling_factor).sample
        out.append(((img + 1) / 2).clamp(0, 1))
    return torch.stack(out)


def save_grid(samples, prompts, path, zoom=3):
    """A PNG with one row per prompt (its text on the left) of ``(P, n, 3, S, S)`` samples."""
    import cv2
    p, n, _, s, _ = samples.shape
    cell = s * zoom
    label_w = 170
    canvas = np.full((p * (cell + 4) + 4, label_w + n * (cell + 4) + 4, 3), 255, np.uint8)
    for i in range(p):
        y = 4 + i * (cell + 4)
        cv2.putText(canvas, prompts[i], (4, y + cell // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 0), 1, cv2.LINE_AA)
        for j in range(n):
            img = (samples[i, j].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            img = np.repeat(np.repeat(img, zoom, 0), zoom, 1)
            x = label_w + 4 + j * (cell + 4)
            canvas[y:y + cell, x:x + cell] = img
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    cv2.imwrite(path, canvas[..., ::-1])
    return path


def sample_saved(args):
    """Write the sample grid of a saved diffusers directory (``--sample-from``)."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
    from transformers import CLIPTextModel
    if not args.sample_grid:
        raise SystemExit('--sample-from needs --sample-grid')
    path = args.sample_from
    unet = UNet2DConditionModel.from_pretrained(path, subfolder='unet').eval()
    vae = AutoencoderKL.from_pretrained(path, subfolder='vae').eval()
    text_encoder = CLIPTextModel.from_pretrained(path, subfolder='text_encoder').eval()
    scheduler = DDPMScheduler.from_pretrained(path, subfolder='scheduler')
    samples = sample_images(unet, text_encoder, vae, scheduler, GRID_PROMPTS, seed=args.seed,
                              num_steps=args.grid_steps, guidance_scale=args.grid_guidance)
    save_grid(samples, GRID_PROMPTS, args.sample_grid)
    print(f'[samples] grid of {path} written to {args.sample_grid}', flush=True)
    return path


def main(argv=None):
    args = parse_args(argv)
    if args.image_size % 4:
        raise SystemExit(f'--image-size must be a multiple of 4, got {args.image_size}')
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.sample_from:
        return sample_saved(args)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    t_start = time.time()
    coco_root = prepare_data(args)
    images, objects, classes, scene_caps = load_data(
        coco_root, None if args.zoom_prob else args.image_size, args.data_dir)
    print(f'[data] {len(images)} scenes, {len(objects)} objects, {len(classes)} class masks, '
          f'{sum(len(c) for c in scene_caps)} scene captions, {images.shape[-1]} px '
          f'({time.time() - t_start:.1f} s)', flush=True)
    sampler = PairSampler(images, objects, scene_caps, args.object_prob, args.uncond_prob,
                          args.seed, classes=classes, class_prob=args.class_prob,
                          out_size=args.image_size, zoom_prob=args.zoom_prob)
    vae, unet, text_encoder, scheduler = build_models(args)
    n_params = {k: sum(p.numel() for p in m.parameters()) / 1e6
                for k, m in (('vae', vae), ('unet', unet), ('text_encoder', text_encoder))}
    print('[model] parameters (M): ' + ', '.join(f'{k} {v:.2f}' for k, v in n_params.items()),
          flush=True)
    vae_losses, scale, vae_time = train_vae(vae, sampler, args)
    print(f'[vae] done in {vae_time:.1f} s, latent scaling_factor {scale:.4f}', flush=True)
    probe_data = None
    if osp.isfile(osp.join(coco_root, 'annotations', 'instances_val2017.json')):
        val_images, val_objects, _, _ = load_data(coco_root, args.image_size, args.data_dir,
                                                  split='val')
        if len({o[3] for o in val_objects}) > 1:  # the probe needs two classes
            probe_data = (val_images, val_objects)
    diff_losses, diff_time = train_diffusion(unet, text_encoder, vae, scheduler, sampler, args,
                                             probe_data)
    probe = None
    if probe_data is not None:
        probe = probe_conditioning(unet, text_encoder, vae, scheduler, *probe_data)
        _print_probe(probe, 'final')
    from mmgen_vision.models.peekaboo.diffusers_dir import save_diffusers_dir
    save_diffusers_dir(args.out_dir, unet=unet, vae=vae, text_encoder=text_encoder,
                       scheduler=scheduler)
    if args.sample_grid:
        samples = sample_images(unet, text_encoder, vae, scheduler, GRID_PROMPTS,
                                seed=args.seed, num_steps=args.grid_steps,
                                guidance_scale=args.grid_guidance)
        save_grid(samples, GRID_PROMPTS, args.sample_grid)
        print(f'[samples] grid written to {args.sample_grid}', flush=True)
    total = time.time() - t_start
    print(f'[done] saved {args.out_dir}  (vae {vae_time:.1f} s, diffusion {diff_time:.1f} s, '
          f'total {total:.1f} s)', flush=True)
    if args.loss_log:
        os.makedirs(osp.dirname(osp.abspath(args.loss_log)), exist_ok=True)
        with open(args.loss_log, 'w') as f:
            json.dump(dict(vae_losses=vae_losses, diffusion_losses=diff_losses,
                           vae_time=vae_time, diffusion_time=diff_time, total_time=total,
                           scaling_factor=scale, probe=probe, args=vars(args)), f)
    return args.out_dir


if __name__ == '__main__':
    main()
