"""The trained model artifact: vectors for items and users, save/load.

A loaded artifact computes its vectors with the numpy forward pass (`numpy_net`), so scoring, evaluation and
refreshes never import TensorFlow; a model fresh from training (or loaded with `keras=True`) uses its Keras
engine, whose TensorFlow is imported lazily.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from recpipeline.model.numpy_net import NumpyNet
from recpipeline.model.types import ItemContent, ModelParams
from recpipeline.scoring import normalise

FORMAT_VERSION = 1


class TrainedModel:
    """Item and user towers behind a numpy interface.

    Vectors are L2-normalised float32, so a dot product is the cosine the model was trained on. Row 0 of
    `item_vectors()` (padding) is all zeros, as is any item with neither a trained id nor content.
    With `params.random_model` (publish-gate drill) vectors are seeded Gaussian noise, normalised.
    Runs on the Keras `engine` when one is attached (after training), else on the numpy net of `load`.
    """

    def __init__(
        self,
        params: ModelParams,
        n_items: int,
        content: ItemContent | None,
        item_counts: np.ndarray | None,
        engine: Any = None,
        history: list[dict] | None = None,
        vocab: list[str] | None = None,
    ):
        self.params = params
        self.n_items = n_items
        self.content = content
        self.item_counts = None if item_counts is None else np.asarray(item_counts, dtype=np.int64)
        self.history: list[dict] = history if history is not None else []
        self.vocab: list[str] = vocab or []  # content token strings; token id i is vocab[i - 1]
        self._engine = engine
        self._net: NumpyNet | None = None
        self._weights: list[np.ndarray] = []  # as loaded, to save again without an engine
        self._weight_names: list[str] | None = None

    # ---- vectors -------------------------------------------------------------------------------------
    def _rows_tokens_warm(self, content: ItemContent | None) -> tuple[np.ndarray, np.ndarray]:
        from recpipeline.model.engine import content_arrays, warm_flags  # noqa: PLC0415

        content = content if content is not None else self.content
        rows = max(self.n_items + 1, 0 if content is None else content.tokens.shape[0])
        tokens, _ = content_arrays(content, rows)
        return tokens, warm_flags(rows, self.n_items, self.item_counts)

    def _runtime(self) -> Any:
        """The Keras engine if attached (right after training), else the numpy net restored by `load`."""
        runtime = self._engine if self._engine is not None else self._net
        if runtime is None:
            raise RuntimeError("this TrainedModel has neither a Keras engine nor loaded weights")
        return runtime

    def _raw_table(self, content: ItemContent | None) -> np.ndarray:
        tokens, warm = self._rows_tokens_warm(content)
        return self._runtime().raw_table(tokens, warm)

    def item_vectors(self, content: ItemContent | None = None) -> np.ndarray:
        """(rows, d) L2-normalised float32; rows = n_items + 1, or more with a bigger `content`.

        Items beyond the trained id range, or never seen in training, get their vector from content alone
        (id part masked); content token ids outside the trained vocabulary are treated as padding.
        """
        if self.params.random_model:
            rows = max(self.n_items + 1, 0 if content is None else content.tokens.shape[0])
            vecs = np.random.default_rng(self.params.seed).standard_normal((rows, self.params.embedding_dim))
            vecs[0] = 0.0
            return normalise(vecs)
        return normalise(self._raw_table(content))

    def user_vectors(
        self, sequences: list[np.ndarray], events: list[np.ndarray], content: ItemContent | None = None
    ) -> np.ndarray:
        """(n_users, d) L2-normalised final user-tower states over each user's last `seq_len` items.

        Item ids outside the item table (n_items, or the rows of `content` if given) are dropped.
        """
        if self.params.random_model:
            rng = np.random.default_rng(self.params.seed + 1)
            return normalise(rng.standard_normal((len(sequences), self.params.embedding_dim)))
        table = self._raw_table(content)
        return self._runtime().user_vectors(sequences, events, table, self.params.seq_len, self.params.eval_batch_users)

    # ---- persistence ---------------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write params.json, meta.json, vocab.json, weights.npz, weight_names.json and content.npz into `directory`.

        weight_names.json names each array of weights.npz (its Keras path), so the numpy net maps it to its role.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        vocab = 0 if self.content is None else int(self.content.vocab_size)
        width = 0 if self.content is None else int(self.content.tokens.shape[1])
        meta = {
            "format": FORMAT_VERSION,
            "n_items": self.n_items,
            "vocab_size": vocab,
            "token_width": width,
            "has_content": self.content is not None,
            "history": self.history,
        }
        (directory / "params.json").write_text(json.dumps(self.params.to_dict(), indent=2, sort_keys=True))
        (directory / "meta.json").write_text(json.dumps(meta, indent=2, default=float))
        (directory / "vocab.json").write_text(json.dumps(self.vocab))
        arrays: dict[str, np.ndarray] = {}
        if self.content is not None:
            arrays["tokens"] = self.content.tokens
        if self.item_counts is not None:
            arrays["item_counts"] = self.item_counts
        np.savez(directory / "content.npz", **arrays)
        if self._engine is not None:
            weights, names = self._engine.get_weights(), self._engine.weight_names()
        else:
            weights, names = self._weights, self._weight_names
        np.savez(directory / "weights.npz", **{f"w{i:04d}": w for i, w in enumerate(weights)})
        if names is not None:
            (directory / "weight_names.json").write_text(json.dumps(names))

    @classmethod
    def load(cls, directory: Path, keras: bool = False) -> TrainedModel:
        """Restore a saved model: numpy forward pass (no TensorFlow), or the rebuilt Keras network if `keras`.

        Artifacts without weight_names.json (saved before it existed) map weights by `numpy_net.weight_names`.
        """
        directory = Path(directory)
        params = ModelParams.from_dict(json.loads((directory / "params.json").read_text()))
        meta = json.loads((directory / "meta.json").read_text())
        with np.load(directory / "content.npz") as arrays:
            tokens = arrays["tokens"] if "tokens" in arrays else None
            counts = arrays["item_counts"] if "item_counts" in arrays else None
        content = ItemContent(tokens, meta["vocab_size"]) if meta["has_content"] else None
        vocab_file = directory / "vocab.json"
        vocab = json.loads(vocab_file.read_text()) if vocab_file.exists() else []
        model = cls(params, meta["n_items"], content, counts, history=meta.get("history", []), vocab=vocab)
        if params.random_model:
            return model
        with np.load(directory / "weights.npz") as saved:
            weights = [saved[k] for k in sorted(saved.files)]
        names_file = directory / "weight_names.json"
        names = json.loads(names_file.read_text()) if names_file.exists() else None
        if keras:
            from recpipeline.model.engine import Engine  # noqa: PLC0415

            model._engine = Engine(params, meta["n_items"], meta["vocab_size"], max(meta["token_width"], 1))
            model._engine.set_weights(weights)
        else:
            model._net = NumpyNet.from_weights(params, meta["n_items"], meta["vocab_size"], weights, names)
            model._weights, model._weight_names = weights, names
        return model
