"""Text vectorisation: standardize -> split -> index -> encode (Keras conventions).

A model eats numbers, not strings.  ``TextVectorizer`` turns text into token ids
in four steps, each replaceable:

1. **standardize** the string: ``"lower_and_strip_punctuation"`` (default),
   ``"lower"``, ``"strip_punctuation"``, None (leave as is) or any ``str -> str``.
   "Not GOOD!!" -> "not good".
2. **split** it into tokens: ``"whitespace"`` (default), ``"character"`` (every
   character is a token, spaces included: the character-level language model),
   None (the whole string is one token) or any ``str -> list[str]``.
   ``ngrams`` then adds n-grams (as Keras): None (default) keeps the tokens,
   ``ngrams=2`` gives the unigrams followed by the bigrams ("not good" is one
   token), ``ngrams=(2,)`` only the bigrams.  N-grams are vocabulary entries
   like any word, in every output mode.
3. **index**: ``adapt(texts)`` counts the tokens and builds the vocabulary

       id 0  ""       padding (never produced by a token, only by padding)
       id 1  "[UNK]"  every token not in the vocabulary
       id 2, 3, ...   the tokens by descending frequency; ties alphabetically,
                      so the same corpus always gives the same ids whatever the
                      order of its texts.

   ``max_tokens`` caps the vocabulary size *including* pad and unk, as Keras
   counts it: ``max_tokens=5`` keeps the 3 most frequent tokens.
4. **encode** a batch of N texts (``output_mode``), V = vocabulary size:

   ``"int"``        (N, T) int64 ids, post-padded with 0 / truncated to
                    ``output_sequence_length`` T; when that is None, T is the
                    longest text *in this batch*.
   ``"one_hot"``    (N, T, V) float32, row t is the one-hot of token t; padding
                    positions are all-zero rows (so they add nothing to a sum).
   ``"multi_hot"``  (N, V) float32, 1 where the token occurs at least once.
   ``"count"``      (N, V) float32, how many times each token occurs.
   ``"tf_idf"``     (N, V) float32, count[n, v] * idf[v] with
                        idf[v] = log(1 + N_docs / (1 + df[v]))
                    where df[v] is the number of the N_docs texts given to
                    ``adapt`` that contain token v (Keras's formula; see
                    ``bags.py``).  Column 0 (pad) has idf 0, column 1 (unk) the
                    mean idf of the known tokens.  ``idf_weights()`` returns them.
   In the bag modes column 0 (pad) is always 0 and column 1 counts unknown
   tokens; they ignore ``output_sequence_length`` (a bag has no order).

   Worked example: adapt on ["the cat sat", "the dog"] (N_docs = 2) gives the
   vocabulary ["", "[UNK]", "the", "cat", "dog", "sat"]; "the" is in both texts
   (idf log(1 + 2/3) = 0.511), the others in one (idf log(1 + 2/2) = 0.693), and
   "the the cat" encodes as [0, 0, 2 * 0.511, 0.693, 0, 0].

A single string in gives a single row out: ``vec("a b")`` is (T,) or (V,).

Saving: ``save(path)`` writes a JSON file (config + vocabulary) and
``TextVectorizer.load(path)`` reads it; ``state_dict()`` gives the same as a dict
of NumPy arrays (a unicode vocabulary array and a JSON config string) that can
sit in an ``.npz`` beside a model's weights.  Never pickle: custom callables are
recorded by name only and must be passed again when loading.
"""
from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np

from .. import validate
from ..validate import positive_int

from .bags import encode_bag, idf_with_specials, inverse_document_frequency, ngram_widths, ngrams as _ngrams
from .padding import PAD_ID, UNK_ID, pad_sequences

PAD_TOKEN = ""
UNK_TOKEN = "[UNK]"

# The punctuation Keras strips (its DEFAULT_STRIP_REGEX): ASCII punctuation.
_PUNCTUATION = re.compile(r'[!"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~\']')

_STANDARDIZERS = {
    "lower_and_strip_punctuation": lambda s: _PUNCTUATION.sub("", s.lower()),
    "lower": lambda s: s.lower(),
    "strip_punctuation": lambda s: _PUNCTUATION.sub("", s),
}
_SPLITTERS = {
    "whitespace": lambda s: s.split(),
    "character": lambda s: list(s),
}
_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_BAG_MODES = ("multi_hot", "count", "tf_idf")
_FORMAT = "minidl.TextVectorizer"


class TextVectorizer:
    """Strings -> token ids or bag-of-words vectors, with an adapted vocabulary.

    Example::

        vec = TextVectorizer(max_tokens=1000, output_sequence_length=20)
        vec.adapt(train_texts)
        ids = vec(["Not good at all!"])     # (1, 20) int64, e.g. [[17, 5, 40, 9, 0, ...]]
        vec.vocabulary()[:4]                # ['', '[UNK]', 'the', 'a']

        chars = TextVectorizer(standardize=None, split="character")
        chars.adapt(corpus); stream = chars(corpus)   # (len(corpus),) ids

        bags = TextVectorizer(output_mode="tf_idf", ngrams=2).adapt(train_texts)
        bags(["not good"])                  # (1, V) float32: "not", "good" and "not good" weighted
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", output_mode="int", output_sequence_length=None,
                 vocabulary=None, ngrams=None, idf_weights=None):
        if max_tokens is not None:
            max_tokens = positive_int(max_tokens, "max_tokens (it counts pad and unk)", "TextVectorizer", minimum=2)
        validate.choice(output_mode, _OUTPUT_MODES, "output_mode", "TextVectorizer")
        if output_sequence_length is not None:
            output_sequence_length = positive_int(output_sequence_length, "output_sequence_length", "TextVectorizer")
        self._widths = ngram_widths(ngrams)
        self.ngrams = ngrams if ngrams is None or isinstance(ngrams, int) else list(self._widths)
        self._standardize = _pick(standardize, _STANDARDIZERS, "standardize")
        self._split = _pick(split, _SPLITTERS, "split")
        # Names for saving: a callable is recorded as "custom" (code is never serialised).
        self.standardize = standardize if standardize is None or isinstance(standardize, str) else "custom"
        self.split = split if split is None or isinstance(split, str) else "custom"
        self.max_tokens = max_tokens
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self._vocab = None          # list[str], id -> token
        self._index = None          # dict[str, int], token -> id
        self._idf = None            # (V,) float64 idf weights, "tf_idf" mode only
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights=idf_weights)
        elif idf_weights is not None:
            raise ValueError("idf_weights were given without a vocabulary to go with them")

    # ------------------------------------------------------------------ steps 1 and 2
    def tokenize(self, text):
        """One string -> its list of tokens (standardize, split, then the n-grams if asked)."""
        if not isinstance(text, str):
            raise TypeError(f"expected a str, got {type(text).__name__}: {text!r:.60}")
        if self._standardize is not None:
            text = self._standardize(text)
        tokens = [text] if self._split is None else list(self._split(text))
        return tokens if self._widths == (1,) else _ngrams(tokens, self._widths)

    # ------------------------------------------------------------------ step 3
    def adapt(self, texts):
        """Build the vocabulary from ``texts`` (an iterable of str, or one str).

        Replaces any previous vocabulary.  Returns self, so
        ``vec = TextVectorizer().adapt(texts)`` works.
        """
        counts, documents, n_docs = Counter(), Counter(), 0
        for text in _as_list(texts):
            tokens = self.tokenize(text)
            counts.update(tokens)
            if self.output_mode == "tf_idf":          # document frequency: once per text
                documents.update(set(tokens))
                n_docs += 1
        # The reserved strings keep their reserved ids: a literal "[UNK]" in the
        # text is just an unknown token, and "" can only mean padding.
        counts.pop(PAD_TOKEN, None)
        counts.pop(UNK_TOKEN, None)
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if self.max_tokens is not None:
            ordered = ordered[:self.max_tokens - 2]
        self._set([PAD_TOKEN, UNK_TOKEN] + [tok for tok, _ in ordered])
        if self.output_mode == "tf_idf":
            df = [documents[tok] for tok, _ in ordered]
            self._idf = idf_with_specials(inverse_document_frequency(df, n_docs))
        return self

    def set_vocabulary(self, tokens, idf_weights=None):
        """Use a given vocabulary (list of str), and for "tf_idf" its idf weights.

        If it starts with ``["", "[UNK]"]`` it is used as is (what ``vocabulary()``
        returns); otherwise pad and unk are put in front of it.  ``idf_weights``
        (required in "tf_idf" mode, as in Keras) has one weight per given token;
        when pad and unk were put in front, their weights are added too (0, and
        the mean of the others).
        """
        tokens = [str(t) for t in tokens]
        prefixed = tokens[:2] != [PAD_TOKEN, UNK_TOKEN]
        if idf_weights is not None:
            idf = np.asarray(idf_weights, dtype=np.float64).reshape(-1)
            if idf.shape[0] != len(tokens):
                raise ValueError(f"idf_weights has {idf.shape[0]} weights for {len(tokens)} tokens; "
                                 "give one weight per token")
            idf_weights = idf_with_specials(idf) if prefixed else idf
        elif self.output_mode == "tf_idf":
            raise ValueError("output_mode='tf_idf' needs idf_weights=... with the vocabulary "
                             "(or call adapt(texts), which computes them)")
        if prefixed:
            tokens = [PAD_TOKEN, UNK_TOKEN] + tokens
        self._set(tokens)
        self._idf = idf_weights
        return self

    def idf_weights(self):
        """The (V,) float64 idf weights of "tf_idf" mode (pad 0, unk the mean), or None."""
        self._check_adapted()
        return None if self._idf is None else self._idf.copy()

    def _set(self, tokens):
        index = {}
        for i, tok in enumerate(tokens):
            if tok in index:
                raise ValueError(f"token {tok!r} appears twice in the vocabulary (ids {index[tok]} and {i})")
            if i >= 2 and tok in (PAD_TOKEN, UNK_TOKEN):
                raise ValueError(f"reserved token {tok!r} may only be at id {tokens.index(tok)}, found at id {i}")
            index[tok] = i
        self._vocab, self._index = tokens, index

    # ------------------------------------------------------------------ looking things up
    def vocabulary(self):
        """The tokens in id order: ``["", "[UNK]", most frequent, ...]``."""
        self._check_adapted()
        return list(self._vocab)

    get_vocabulary = vocabulary          # the Keras spelling

    def vocabulary_size(self):
        self._check_adapted()
        return len(self._vocab)

    def token_to_id(self, token):
        """The id of ``token`` (already standardized), 1 ("[UNK]") if unknown."""
        self._check_adapted()
        return self._index.get(token, UNK_ID)

    def id_to_token(self, i):
        """The token with id ``i``; IndexError outside ``0 .. V-1``."""
        self._check_adapted()
        i = int(i)
        if not 0 <= i < len(self._vocab):
            raise IndexError(f"token id {i} is out of range: the vocabulary has "
                             f"{len(self._vocab)} tokens (ids 0..{len(self._vocab) - 1})")
        return self._vocab[i]

    def decode(self, ids):
        """Ids -> text, skipping padding.  Joins characters with "" in character
        mode and tokens with " " otherwise.  A 2-D array gives a list of str."""
        ids = np.asarray(ids)
        if ids.ndim == 2:
            return [self.decode(row) for row in ids]
        sep = "" if self.split == "character" else " "
        return sep.join(self.id_to_token(i) for i in ids.tolist() if i != PAD_ID)

    def _check_adapted(self):
        if self._vocab is None:
            raise RuntimeError("this TextVectorizer has no vocabulary yet: call adapt(texts) "
                               "or set_vocabulary(tokens) first")

    # ------------------------------------------------------------------ step 4
    def __call__(self, texts):
        """Encode a batch of texts (see the module docstring for every shape)."""
        self._check_adapted()
        single = isinstance(texts, str)
        index = self._index
        rows = [[index.get(tok, UNK_ID) for tok in self.tokenize(t)] for t in _as_list(texts)]
        if self.output_mode == "int":
            out = pad_sequences(rows, maxlen=self.output_sequence_length)
        elif self.output_mode == "one_hot":
            out = _one_hot(pad_sequences(rows, maxlen=self.output_sequence_length), len(self._vocab))
        else:
            out = encode_bag(rows, len(self._vocab), self.output_mode, self._idf)
        return out[0] if single else out

    # ------------------------------------------------------------------ saving
    def get_config(self):
        """Everything needed to rebuild this vectorizer, as JSON-ready Python values."""
        return {"format": _FORMAT, "version": 1, "max_tokens": self.max_tokens,
                "standardize": self.standardize, "split": self.split,
                "output_mode": self.output_mode,
                "output_sequence_length": self.output_sequence_length,
                "ngrams": self.ngrams,
                "idf_weights": None if self._idf is None else self._idf.tolist(),
                "vocabulary": None if self._vocab is None else list(self._vocab)}

    @classmethod
    def from_config(cls, config, standardize=None, split=None):
        """Rebuild from ``get_config()``; pass again any custom callables."""
        if not isinstance(config, dict) or config.get("format") != _FORMAT:
            found = config.get("format") if isinstance(config, dict) else type(config).__name__
            raise ValueError(f"not a saved TextVectorizer (format={found!r})")
        if config.get("version") != 1:
            raise ValueError(f"saved TextVectorizer version {config.get('version')!r}; this minidl reads version 1")
        missing = [k for k in _REQUIRED if k not in config]
        if missing:
            raise ValueError(f"saved TextVectorizer config lacks {', '.join(map(repr, missing))} (it has "
                             f"{sorted(config)}): a damaged or hand-edited file; save the vectorizer again")
        vocab = config.get("vocabulary")
        if vocab is not None and list(vocab[:2]) != ["", "[UNK]"]:
            # a vocabulary without the two reserved entries would give a real word the pad id 0
            raise ValueError(f"the saved vocabulary must start with the padding and unknown entries "
                             f"['', '[UNK]'], got {list(vocab[:2])!r}: refusing to shift every token id")
        kwargs = {}
        for key, given in (("standardize", standardize), ("split", split)):
            if given is not None:
                kwargs[key] = given
            elif config[key] == "custom":
                raise ValueError(f"this vectorizer was saved with a custom {key} function, which is "
                                 f"not serialised: pass it again, e.g. TextVectorizer.load(path, {key}=fn)")
            else:
                kwargs[key] = config[key]
        vec = cls(max_tokens=config["max_tokens"], output_mode=config["output_mode"],
                  output_sequence_length=config["output_sequence_length"],
                  ngrams=config.get("ngrams"), **kwargs)          # older files have no ngrams/idf
        if config.get("vocabulary") is not None:
            vec._set(list(config["vocabulary"]))
            if config.get("idf_weights") is not None:
                vec._idf = np.asarray(config["idf_weights"], dtype=np.float64)
        return vec

    def save(self, path):
        """Write config + vocabulary to a UTF-8 JSON file at ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.get_config(), f, ensure_ascii=False, indent=1)

    @classmethod
    def load(cls, path, standardize=None, split=None):
        """Read a file written by ``save``."""
        with open(path, encoding="utf-8") as f:
            try:
                config = json.load(f)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}: not a JSON file written by TextVectorizer.save ({exc})") from None
        return cls.from_config(config, standardize=standardize, split=split)

    def state_dict(self):
        """The vectorizer as NumPy arrays: ``{"vocabulary": (V,) unicode array,
        "config": 0-d unicode array holding the JSON config}`` (``np.savez``-safe,
        loads with ``allow_pickle=False``)."""
        config = self.get_config()      # (idf weights, if any, stay in the JSON config)
        vocab = config.pop("vocabulary")
        return {"vocabulary": np.array(vocab if vocab is not None else [], dtype=str),
                "config": np.array(json.dumps(config))}

    @classmethod
    def from_state_dict(cls, state, standardize=None, split=None):
        """Rebuild from ``state_dict()`` (e.g. the arrays read back from an .npz)."""
        config = json.loads(str(np.asarray(state["config"])[()]))
        vocab = [str(t) for t in np.asarray(state["vocabulary"]).tolist()]
        config["vocabulary"] = vocab or None
        return cls.from_config(config, standardize=standardize, split=split)

    def __repr__(self):
        size = "not adapted" if self._vocab is None else f"{len(self._vocab)} tokens"
        return (f"TextVectorizer({size}, standardize={self.standardize!r}, split={self.split!r}, "
                f"output_mode={self.output_mode!r}, output_sequence_length={self.output_sequence_length}"
                + (f", ngrams={self.ngrams!r})" if self.ngrams is not None else ")"))


# ---------------------------------------------------------------------- helpers
_REQUIRED = ("max_tokens", "output_mode", "output_sequence_length", "standardize", "split")


def _pick(choice, table, what):
    """A named step from ``table``, a user callable, or None (skip the step)."""
    if choice is None or callable(choice):
        return choice
    if not isinstance(choice, str) or choice not in table:
        raise ValueError(f"{what} must be one of {sorted(table)}, None or a callable; got {choice!r}")
    return table[choice]


def _as_list(texts):
    """A batch of str from one str, a list/tuple of str, or a 1-D array of str."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, np.ndarray):
        if texts.ndim != 1:
            raise ValueError(f"expected a 1-D array of strings, got shape {texts.shape}")
        return [str(t) for t in texts.tolist()]
    return list(texts)


def _one_hot(ids, vocab_size):
    """(N, T) ids -> (N, T, V) float32 one-hot; pad (id 0) rows stay all zero."""
    out = np.zeros(ids.shape + (vocab_size,), dtype=np.float32)
    n, t = np.nonzero(ids != PAD_ID)
    out[n, t, ids[n, t]] = 1.0
    return out

