"""minidl.data: from text to batches.

* ``TextVectorizer``      standardize -> split -> index -> encode (vectorize.py)
* ``pad_sequences``, ``padding_mask``, ``sequence_mask``, ``sequence_lengths`` (padding.py)
* ``DataLoader``, ``bucket_batches``, ``BucketIterator``                      (loader.py)
* ``lm_stream_batches``, ``lm_random_windows``: language-model batches        (lm_batches.py)
* ``TabularProcessor`` (categorify, fill missing, normalise), ``emb_sz_rule``   (tabular.py)

Loaders for real and synthetic data sets live in ``minidl.datasets``.
"""
from .lm_batches import lm_random_windows, lm_stream_batches, lm_stream_num_batches, lm_stream_rows
from .loader import BucketIterator, DataLoader, bucket_batches
from .padding import PAD_ID, UNK_ID, pad_sequences, padding_mask, sequence_lengths, sequence_mask
from .vectorize import PAD_TOKEN, UNK_TOKEN, TextVectorizer

__all__ = [
    "TextVectorizer", "PAD_TOKEN", "UNK_TOKEN", "PAD_ID", "UNK_ID",
    "pad_sequences", "padding_mask", "sequence_mask", "sequence_lengths",
    "DataLoader", "bucket_batches", "BucketIterator",
    "lm_stream_batches", "lm_random_windows", "lm_stream_rows", "lm_stream_num_batches",
]

from .tabular import NA_LEVEL, TabularProcessor, emb_sz_rule, one_hot_columns
__all__ += ["TabularProcessor", "emb_sz_rule", "one_hot_columns", "NA_LEVEL"]
