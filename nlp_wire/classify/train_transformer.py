"""Fine-tune a :class:`TransformerClassifier` with one PyTorch loop run through ``accelerate``.

Dynamic padding, class-weighted loss or balanced sampling (optionally undone at the decision by a shift of
the head's bias), per-example weights, AdamW with its own head learning rate, linear warmup and decay,
gradient accumulation, macro-F1 on validation with early stopping (the best state is kept). The
``accelerate.Accelerator`` (see :mod:`.accelerator`) places the model, runs mixed precision on CUDA,
accumulates gradients and, under ``accelerate launch``, makes the same loop data-parallel over every
process (each takes its share of every batch, so batch size and step count stay the config's). Only the
main process writes files. The training curve lands in ``out``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
from pathlib import Path

import numpy as np

from ..config import TrainConfig
from .accelerator import make_accelerator
from .evaluate import score
from .encoders import ENCODERS
from .transformer import TransformerClassifier

__all__ = ["train_transformer"]

logger = logging.getLogger(__name__)


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _class_weights(labels: np.ndarray, k: int, power: float = 1.0) -> np.ndarray:
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    # (n / (k * count)) ** power: power 1 is scikit-learn's "balanced"; absent classes never occur.
    return np.where(counts > 0, (len(labels) / (k * np.maximum(counts, 1))) ** power, 0.0)


def _prior_shift(class_w: np.ndarray) -> np.ndarray:
    """Logit offsets that undo class weighting: training drew (or weighted) class c by ``class_w[c]``."""
    return np.where(class_w > 0, -np.log(np.where(class_w > 0, class_w, 1.0)), 0.0)


def _macro_f1(clf: TransformerClassifier, texts: list[str], y: np.ndarray, batch_size: int, shift: np.ndarray) -> float:
    log_proba = np.log(np.maximum(clf._proba_texts(texts, batch_size), 1e-30))
    return score(y, (log_proba + shift).argmax(1), clf.labels)["macro_f1"]


def fit_probe(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, C: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """A logistic regression on pooled features as a ``k``-way linear head: ``(weight (k, d), bias (k,))``.

    Labels absent from ``y`` get a zero row and a bias below every present label's at any input, so they are
    never predicted: the present labels' logits average their mean bias (scikit-learn's multinomial weights
    sum to zero; two labels get the symmetric rows ``-z/2, +z/2`` of their one row ``z``, whose top is >= 0),
    and the absent bias lies 10 below both that mean and 0.
    """
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=C, max_iter=3000).fit(X, y, sample_weight=sample_weight)
    d = X.shape[1]
    if len(lr.classes_) == 2:  # one row of logit differences z: as the rows -z/2 and +z/2 (the same softmax)
        coef = np.vstack([-lr.coef_[0] / 2, lr.coef_[0] / 2])
        intercept = np.array([-lr.intercept_[0] / 2, lr.intercept_[0] / 2])
    else:
        coef, intercept = lr.coef_, lr.intercept_
    absent = min(float(intercept.mean()), 0.0) - 10.0
    weight, bias = np.zeros((k, d), np.float32), np.full(k, absent, np.float32)
    weight[lr.classes_], bias[lr.classes_] = coef, intercept
    return weight, bias


def _init_head_from_probe(clf: TransformerClassifier, texts: list[str], y: np.ndarray, sample_weight: np.ndarray,
                          C: float, batch_size: int, progress: bool = True) -> None:
    """Set the head to a logistic regression fitted on the frozen features (the LP of LP-FT)."""
    import torch

    X = clf.map_batches(texts, batch_size, lambda inputs: clf.model.pool(**inputs), clf.model.head.in_features,
                        progress="probe features" if progress else None)
    weight, bias = fit_probe(X, y, sample_weight, C, clf.model.head.out_features)
    with torch.no_grad():
        clf.model.head.weight.copy_(torch.as_tensor(weight))
        clf.model.head.bias.copy_(torch.as_tensor(bias))
    logger.info("head initialised from a linear probe on %d examples (C=%g)", len(y), C)


def _plot_curve(curve: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([p["step"] for p in curve], [p["loss"] for p in curve], "o-", color="tab:blue", label="train loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("train loss")
    points = [p for p in curve if p["val_macro_f1"] is not None]
    if points:
        ax2 = ax.twinx()
        ax2.plot([p["step"] for p in points], [p["val_macro_f1"] for p in points], "s-", color="tab:orange",
                 label="validation macro-F1")
        ax2.set_ylabel("validation macro-F1")
        ax2.set_ylim(0, 1)
    fig.legend(loc="upper center", ncol=2, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def train_transformer(config: TrainConfig, train_ds, val_ds, out: Path, progress: bool = True
                      ) -> TransformerClassifier:
    """Fine-tune the configured encoder on ``train_ds`` and keep the state best on ``val_ds``.

    Args:
        config: The run's settings (``model``, ``training``, ``data``, ``device``, ``seed``).
        train_ds: A dataset with ``text``, ``label`` (ClassLabel) and ``weight`` columns.
        val_ds: Validation dataset of the same columns, or None / empty (then the last state is kept).
        out: Run folder: receives ``curve.json``, ``curve.png`` and the model in ``out/model``.
        progress: Show tqdm progress bars.

    Returns:
        The fine-tuned classifier (best validation state), saved to ``out/model``.
    """
    import torch
    from torch.utils.data import DataLoader, RandomSampler, WeightedRandomSampler
    from tqdm.auto import tqdm

    tc = config.training
    out = Path(out)
    accelerator, device_spec = make_accelerator(config.device, tc.mixed_precision, tc.grad_accum)
    main = accelerator.is_main_process
    if main:
        out.mkdir(parents=True, exist_ok=True)
    if tc.num_threads > 0:  # after the Accelerator, which sets its own count for CPU processes
        torch.set_num_threads(tc.num_threads)
    _seed_everything(config.seed)

    labels = list(train_ds.features["label"].names) if hasattr(train_ds.features["label"], "names") else list(config.data.labels)
    k = len(labels)
    clf = TransformerClassifier.from_base(config.model, labels, config.data, device=device_spec)  # logs the device once
    model, tokenizer, device = clf.model, clf.tokenizer, clf.device

    texts = list(train_ds["text"])
    if not texts:
        raise ValueError("no training examples")
    y = np.asarray(train_ds["label"], dtype=np.int64)
    weights = np.asarray(train_ds["weight"], dtype=np.float32) if "weight" in train_ds.column_names else np.ones(len(y), np.float32)
    # Tokenize once without padding; each batch is padded to its own longest row by the collator.
    enc = tokenizer(texts, truncation=True, max_length=config.model.max_length)
    rows = [{key: enc[key][i] for key in enc.keys()} for i in range(len(texts))]

    # Distillation: a "soft_label" column holds a teacher's probabilities per example (one-hot for gold ones).
    soft = np.asarray(train_ds["soft_label"], dtype=np.float32) if "soft_label" in train_ds.column_names else None
    if soft is not None and soft.shape != (len(y), k):
        raise ValueError(f"soft_label must hold {k} probabilities per example, not shape {soft.shape}")

    # Every process draws the same batches (same seed) and takes every n-th example of each: the batch size
    # and step count stay the config's for any number of processes. "scale" makes each process's loss a
    # share of the whole batch's mean, so DDP's average of the processes' gradients is exactly the
    # single-process gradient, also for a short last batch; a process left without an example gets a
    # zero-weight stand-in, since DDP needs every process in every backward pass.
    rank, n_proc = accelerator.process_index, accelerator.num_processes

    def collate(batch_idx):
        idx, scale = batch_idx[rank::n_proc], n_proc / len(batch_idx)
        if not idx:
            idx, scale = batch_idx[:1], 0.0
        batch = tokenizer.pad([rows[i] for i in idx], padding=True, return_tensors="pt")
        batch["labels"] = torch.as_tensor(y[idx])
        batch["weight"] = torch.as_tensor(weights[idx])
        batch["scale"] = torch.full((len(idx),), scale)
        if soft is not None:
            batch["soft"] = torch.as_tensor(soft[idx])
        return batch

    gen = torch.Generator().manual_seed(config.seed)
    class_w = _class_weights(y, k, tc.balance_power)
    shift = _prior_shift(class_w) if tc.restore_prior and tc.balance != "none" else np.zeros(k)
    if tc.probe_init:
        _init_head_from_probe(clf, texts, y, class_w[y] * weights, tc.probe_C, tc.eval_batch_size, progress and main)
    if tc.balance == "sampler":
        # Draw by class weight x source weight, so a small heavily weighted source is seen often rather than
        # rarely with a large loss; the loss itself is then unweighted.
        sampler = WeightedRandomSampler(torch.as_tensor(class_w[y] * weights, dtype=torch.double), len(y),
                                        replacement=True, generator=gen)
        weights = np.ones_like(weights)
    else:
        sampler = RandomSampler(range(len(y)), generator=gen)
    loader = DataLoader(list(range(len(y))), batch_size=tc.batch_size, sampler=sampler, collate_fn=collate)
    loss_class_w = torch.as_tensor(class_w if tc.balance == "weights" else np.ones(k), dtype=torch.float32, device=device)

    # Accumulation windows run on across epoch ends (accelerate's sync_with_dataloader=False), so E epochs are
    # E * len(loader) batches: rounding each epoch up to whole optimizer steps trained up to 1.6x the epochs asked.
    batches_per_epoch = len(loader)
    total = math.ceil(tc.epochs * batches_per_epoch / tc.grad_accum) if tc.epochs > 0 else math.inf
    if tc.max_steps > 0:
        total = min(total, tc.max_steps)
    total = 0 if tc.freeze_encoder else int(total)  # a frozen encoder: the probe is the whole training
    warmup = int(tc.warmup_ratio * total)

    if tc.freeze_embeddings:
        model.encoder.get_input_embeddings().weight.requires_grad_(False)
    pooler = getattr(model.encoder, "pooler", None)
    if pooler is not None:  # the head reads our own pooling, never BERT's pooler: DDP refuses weights without gradients
        pooler.requires_grad_(False)
    head_ids = {id(p) for p in model.head.parameters()}
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if id(p) in head_ids or not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "LayerNorm" in name or "norm" in name.lower() else decay).append(p)
    optimizer = torch.optim.AdamW([
        {"params": decay, "lr": tc.lr, "weight_decay": tc.weight_decay},
        {"params": no_decay, "lr": tc.lr, "weight_decay": 0.0},
        {"params": list(model.head.parameters()), "lr": tc.head_lr, "weight_decay": tc.weight_decay},
    ])

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    # The wrapped model (DDP under a launcher, autocast on CUDA) trains; clf.model stays the bare module.
    # The loader is not prepared: accelerate's sharding pads a short last batch with repeated examples,
    # and the scheduler is stepped by hand, once per optimizer step.
    wrapped, optimizer = accelerator.prepare(model, optimizer)

    val_texts = list(val_ds["text"]) if val_ds is not None and len(val_ds) else []
    val_y = np.asarray(val_ds["label"], dtype=np.int64) if val_texts else None
    logger.info("training %s on %d examples (%d validation), %d steps of %d x %d on %s", config.model.name_or_path,
                len(y), len(val_texts), total, tc.batch_size, tc.grad_accum, device)
    logger.info("effective batch size %d (batches of %d split over %d processes, %d accumulated), %d optimizer "
                "steps, mixed precision %s", tc.batch_size * tc.grad_accum, tc.batch_size, n_proc, tc.grad_accum,
                total, accelerator.mixed_precision)

    curve: list[dict] = []
    best_f1, best_state, bad_evals = -1.0, None, 0
    step, running, running_n = 0, 0.0, 0
    batches, epochs_evaluated = 0, 0  # eval_every 0: evaluate at the step in which each epoch's last batch fell
    bar = tqdm(total=total, desc="train", unit="step", disable=not (progress and main))
    wrapped.train()
    optimizer.zero_grad(set_to_none=True)
    stop = False
    while step < total and not stop:
        for batch in loader:
            batch = {key: value.to(device) for key, value in batch.items()}
            inputs = {key: batch[key] for key in ("input_ids", "attention_mask", "token_type_ids") if key in batch}
            target, w = batch["labels"], batch["weight"] * batch["scale"]
            with accelerator.accumulate(wrapped):
                logits = wrapped(**inputs)
                if soft is not None:  # cross-entropy against the teacher's distribution
                    ce = -(batch["soft"] * torch.log_softmax(logits.float(), dim=-1)).sum(-1)
                else:
                    ce = torch.nn.functional.cross_entropy(logits.float(), target, reduction="none")
                loss = (ce * loss_class_w[target] * w).sum()
                accelerator.backward(loss)  # divides by grad_accum; DDP syncs only on the last micro-batch
                running += float(loss.detach())
                running_n += 1
                batches += 1
                if not accelerator.sync_gradients:
                    continue
                accelerator.clip_grad_norm_(wrapped.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{running / max(1, running_n):.4f}")
            epoch_ended = tc.eval_every <= 0 and batches // batches_per_epoch > epochs_evaluated
            if epoch_ended or (tc.eval_every > 0 and step % tc.eval_every == 0) or step >= total:
                epochs_evaluated = batches // batches_per_epoch
                if n_proc > 1:  # each process's loss is its share of the batch loss
                    running = float(accelerator.reduce(torch.tensor(running, device=device), "mean"))
                f1 = None
                if val_texts:  # every process scores the same weights alike, so all stop together
                    f1 = _macro_f1(clf, val_texts, val_y, tc.eval_batch_size, shift)
                    wrapped.train()
                    if f1 > best_f1:
                        best_f1, bad_evals = f1, 0
                        best_state = {n: t.detach().to("cpu").clone() for n, t in model.state_dict().items()}
                    else:
                        bad_evals += 1
                curve.append({"step": step, "loss": round(running / max(1, running_n), 6),
                              "val_macro_f1": None if f1 is None else round(f1, 6)})
                logger.info("step %d: loss %.4f, validation macro-F1 %s", step, curve[-1]["loss"], f1)
                running, running_n = 0.0, 0
                if tc.patience > 0 and bad_evals >= tc.patience:
                    logger.info("early stop at step %d: no macro-F1 gain in %d evaluations", step, bad_evals)
                    stop = True
            if step >= total or stop:
                break
    bar.close()
    accelerator.wait_for_everyone()
    clf.model = model = accelerator.unwrap_model(wrapped, keep_fp32_wrapper=False)  # drops the autocast wrapper

    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    if shift.any():
        with torch.no_grad():
            model.head.bias.add_(torch.as_tensor(shift, dtype=model.head.bias.dtype, device=model.head.bias.device))
        logger.info("head bias shifted back to the training data's class mix: %s",
                    ", ".join(f"{label} {s:+.3f}" for label, s in zip(labels, shift)))
        clf.prior_shift = shift.tolist()  # in the card: a run going on from this model takes it off first
    # How the run was executed, for its record (metrics.json): the launcher's choices are not in config.yaml.
    from .accelerator import launched

    launcher = ("accelerate" if "ACCELERATE_MIXED_PRECISION" in os.environ else "torchrun") if launched() else None
    clf.run_info = {"launcher": launcher, "processes": accelerator.num_processes,
                    "device": device_spec, "mixed_precision": accelerator.mixed_precision}
    if main:
        (out / "curve.json").write_text(json.dumps(curve, indent=2) + "\n", encoding="utf-8")
        if curve:
            _plot_curve(curve, out / "curve.png")
        frozen_base = config.model.name_or_path if tc.freeze_encoder and config.model.name_or_path in ENCODERS else None
        clf.save_pretrained(out / "model", base_encoder=frozen_base)
    return clf
