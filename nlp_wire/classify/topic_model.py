"""The topic model's torch module: an encoder, pooled, dropout, then a linear head (imported only with torch)."""

from __future__ import annotations

from torch import nn

__all__ = ["TopicModel"]


class TopicModel(nn.Module):
    """Encoder, pooled (``mean`` over real tokens or ``cls``), dropout, then a linear head.

    Args:
        encoder: A Hugging Face ``AutoModel`` (no task head).
        num_labels: Output size of the head.
        pooling: ``"mean"`` or ``"cls"``.
        dropout: Dropout before the head.
    """

    def __init__(self, encoder, num_labels: int, pooling: str = "mean", dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    def pool(self, input_ids, attention_mask, token_type_ids=None):
        """The pooled encoder output: what the head sees (before dropout)."""
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**kwargs).last_hidden_state
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        return self.head(self.dropout(self.pool(input_ids, attention_mask, token_type_ids)))
