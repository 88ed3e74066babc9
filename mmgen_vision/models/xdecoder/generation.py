# Copyright (c) mmgen_vision contributors. All rights reserved.
"""Greedy and beam-search decoding of token sequences for X-Decoder captioning.

Both take a ``step_fn(ids (N, s)) -> log-probabilities (N, V)`` of the next token given the
prefix, so they are independent of the model and testable on hand-made distributions.
"""
from typing import Callable, List, Tuple

import torch
from torch import Tensor

StepFn = Callable[[Tensor], Tensor]


def greedy_search(step_fn: StepFn, start: Tensor, max_steps: int, eos_id: int) -> Tensor:
    """Arg-max decoding.

    Args:
        step_fn (callable): ``ids (N, s) -> scores (N, V)`` for position ``s``.
        start (Tensor): Prefixes ``(N, s0)`` (usually the start token).
        max_steps (int): Tokens to generate at most.
        eos_id (int): End token; a finished row keeps emitting it.

    Returns:
        Tensor: ``(N, s0 + steps)`` ids (``steps <= max_steps``; stops when every row ended).
    """
    ids = start
    done = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
    for _ in range(max_steps):
        nxt = step_fn(ids).argmax(dim=-1)
        nxt = torch.where(done, torch.full_like(nxt, eos_id), nxt)
        ids = torch.cat([ids, nxt[:, None]], dim=1)
        done |= nxt == eos_id
        if bool(done.all()):
            break
    return ids


def beam_search(step_fn: StepFn, start: Tensor, max_steps: int, eos_id: int,
                beam_size: int = 5, length_penalty: float = 0.) -> Tuple[List[Tensor], Tensor]:
    """Beam search over sequences of summed log-probabilities.

    A hypothesis ends when it emits ``eos_id`` (kept with the EOS) or after ``max_steps``
    tokens. Finished hypotheses are ranked by ``score / length ** length_penalty``
    (``length`` = generated tokens); the search of a row stops when its best finished score
    cannot be beaten by any live beam (scores only decrease).

    Args:
        step_fn (callable): ``ids (M, s) -> log-probs (M, V)``.
        start (Tensor): Prefixes ``(N, s0)``.
        max_steps (int): Maximum generated tokens.
        eos_id (int): End token.
        beam_size (int): Beams per row. Defaults to 5.
        length_penalty (float): Exponent of the length normalisation. Defaults to 0 (plain sum).

    Returns:
        tuple: ``N`` best sequences (1-D ids, prefix included) and their scores ``[N]``.
    """
    n, s0 = start.shape
    device = start.device
    k = beam_size
    ids = start.repeat_interleave(k, dim=0)
    scores = torch.full((n, k), float('-inf'), device=device)
    scores[:, 0] = 0.  # all beams start identical: keep one alive
    finished: List[List[Tuple[float, Tensor]]] = [[] for _ in range(n)]
    alive = torch.ones(n, dtype=torch.bool, device=device)

    def norm(score: float, length: int) -> float:
        return score / (max(length, 1)**length_penalty)

    for step in range(max_steps):
        logp = step_fn(ids).float().log_softmax(dim=-1)
        vocab = logp.shape[-1]
        total = (scores.reshape(-1, 1) + logp).reshape(n, k * vocab)
        top_scores, top_idx = total.topk(2 * k, dim=1)
        beam_idx, token = top_idx // vocab, top_idx % vocab
        new_ids, new_scores = [], []
        for row in range(n):
            row_ids, row_scores = [], []
            for cand in range(2 * k):
                score = top_scores[row, cand].item()
                if score == float('-inf'):
                    continue
                seq = torch.cat([ids[row * k + beam_idx[row, cand]], token[row, cand:cand + 1]])
                if token[row, cand].item() == eos_id:
                    if alive[row]:
                        finished[row].append((norm(score, step + 1), seq))
                elif len(row_ids) < k:
                    row_ids.append(seq)
                    row_scores.append(score)
                if len(row_ids) == k:
                    break
            while len(row_ids) < k:  # pad dead beams
                row_ids.append(torch.cat([ids[row * k], ids.new_tensor([eos_id])]))
                row_scores.append(float('-inf'))
            new_ids.extend(row_ids)
            new_scores.append(row_scores)
            if finished[row]:
                best_done = max(f[0] for f in finished[row])
                best_live = max(row_scores)
                bound = best_live if length_penalty <= 0 else norm(best_live, max_steps)
                if best_live == float('-inf') or best_done >= bound:
                    alive[row] = False
        ids = torch.stack(new_ids)
        scores = torch.tensor(new_scores, device=device)
        scores[~alive] = float('-inf')
        if not bool(alive.any()):
            break
    best_seqs, best_scores = [], []
    for row in range(n):
        if alive[row] or not finished[row]:
            for j in range(k):
                if scores[row, j] > float('-inf'):
                    finished[row].append((norm(scores[row, j].item(), ids.shape[1] - s0),
                                          ids[row * k + j]))
        score, seq = max(finished[row], key=lambda f: f[0])
        best_seqs.append(seq)
        best_scores.append(score)
    return best_seqs, torch.tensor(best_scores, device=device)
