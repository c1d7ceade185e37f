"""Entity-level precision, recall and F1 for tagged sequences, as CoNLL's ``conlleval`` scores them.

Token accuracy flatters a tagger: in a news or tweet corpus 85-95% of tokens
are ``O``, so a model that never finds a single entity already scores 0.9+.
The CoNLL shared tasks therefore score *entities* (chunks):

    gold:  John/B-per Smith/I-per visited/O New/B-geo York/I-geo
    pred:  John/B-per Smith/O     visited/O New/B-geo York/I-geo
    gold entities {per[0:2], geo[3:5]};  predicted {per[0:1], geo[3:5]}

An entity is correct only if its span (first AND last token) and its type both
match; "John" alone is a wrong entity (a false positive) and "John Smith" a
missed one (a false negative):

    precision = correct / predicted = 1/2     recall = correct / gold = 1/2
    F1        = 2 P R / (P + R)     = 1/2          (0 when P + R = 0)

Decoding tags into entities, the conlleval way
----------------------------------------------
Tags are ``O``, ``B-type`` (begins an entity) or ``I-type`` (inside one).
Going left to right, with the previous tag (``O`` before the first token):

* an entity ENDS before this token if the previous tag was B or I and this tag
  is O or B, or has another type;
* an entity STARTS at this token if the tag is B, or it is I and the previous
  tag was O or had another type.

So broken BIO sequences are read leniently, like conlleval does, not thrown away:

    O I-per I-per       -> per[1:3]   (I without B starts an entity: IOB1 style)
    B-per I-geo         -> per[0:1], geo[1:2]   (a type change ends one, starts another)
    B-per B-per         -> per[0:1], per[1:2]   (B always starts a new one)

Entities never cross a sentence boundary (each sentence is decoded on its own).

API
---
entity_spans(tags)                       -> [(type, start, end), ...]  end exclusive
entity_scores(true_tags, pred_tags)      -> EntityScores: .precision .recall .f1
                                            .n_true .n_pred .n_correct  and .per_type {type: EntityScores}
    true_tags / pred_tags: one sequence of tags or a list of sentences (lists of
    tags); tags are strings, or integer ids with ``id_to_tag`` (a list or dict).
"""
from __future__ import annotations

from dataclasses import dataclass, field


def _split(tag):
    """'B-geo' -> ('B', 'geo'); 'O' -> ('O', '')."""
    if tag == "O":
        return "O", ""
    prefix, sep, kind = tag.partition("-") if isinstance(tag, str) else ("", "", "")
    if not (sep and kind and prefix in ("B", "I")):
        raise ValueError(f"entity_spans: tag {tag!r} is not O, B-<type> or I-<type> (BIO / IOB tags; "
                         "integer ids need id_to_tag)")
    return prefix, kind


def _ends(prev_prefix, prev_type, prefix, kind):
    """Does the entity the previous token was in end before this token?"""
    return prev_prefix != "O" and (prefix in ("O", "B") or kind != prev_type)


def _starts(prev_prefix, prev_type, prefix, kind):
    """Does a new entity start at this token?  (An I after O or after another type does: IOB1.)"""
    return prefix == "B" or (prefix == "I" and (prev_prefix == "O" or kind != prev_type))


def entity_spans(tags):
    """The entities of one tagged sentence as (type, start, end) with ``end`` exclusive.

    >>> entity_spans(["B-per", "I-per", "O", "B-geo"])
    [('per', 0, 2), ('geo', 3, 4)]
    """
    spans, start, kind_open = [], None, ""
    prev_prefix, prev_type = "O", ""
    for t, tag in enumerate(list(tags) + ["O"]):        # a final O closes the last entity
        prefix, kind = _split(tag)
        if start is not None and _ends(prev_prefix, prev_type, prefix, kind):
            spans.append((kind_open, start, t))
            start = None
        if _starts(prev_prefix, prev_type, prefix, kind):
            start, kind_open = t, kind
        prev_prefix, prev_type = prefix, kind
    return spans


@dataclass
class EntityScores:
    """Counts and P / R / F1 of entity matching (all three are 0 when undefined, as in conlleval)."""
    n_true: int
    n_pred: int
    n_correct: int
    per_type: dict = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.n_correct / self.n_pred if self.n_pred else 0.0

    @property
    def recall(self) -> float:
        return self.n_correct / self.n_true if self.n_true else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def table(self) -> str:
        """A conlleval-style report: one line per type, then the overall line."""
        rows = [f"{'type':<16}{'precision':>10}{'recall':>8}{'F1':>8}{'gold':>7}{'pred':>7}"]
        for kind, s in sorted(self.per_type.items()):
            rows.append(f"{kind:<16}{s.precision:>10.3f}{s.recall:>8.3f}{s.f1:>8.3f}{s.n_true:>7}{s.n_pred:>7}")
        rows.append(f"{'overall':<16}{self.precision:>10.3f}{self.recall:>8.3f}{self.f1:>8.3f}"
                    f"{self.n_true:>7}{self.n_pred:>7}")
        return "\n".join(rows)


def _sentences(seqs, id_to_tag, who):
    """A list of sentences of string tags from one sequence or a list of them (strings or ids)."""
    seqs = list(seqs)
    if not seqs or isinstance(seqs[0], str) or not hasattr(seqs[0], "__len__"):
        seqs = [seqs]                                     # a single sentence
    out = []
    for seq in seqs:
        seq = list(seq)
        if id_to_tag is not None:
            names = dict(enumerate(id_to_tag)) if isinstance(id_to_tag, (list, tuple)) else id_to_tag
            unknown = [t for t in seq if not isinstance(t, str) and int(t) not in names]
            if unknown:
                raise ValueError(f"entity_scores: {who} holds tag id {int(unknown[0])} that id_to_tag "
                                 "does not name")
            seq = [t if isinstance(t, str) else names[int(t)] for t in seq]
        out.append(seq)
    return out


def entity_scores(true_tags, pred_tags, id_to_tag=None) -> EntityScores:
    """Entity-level precision / recall / F1 of ``pred_tags`` against ``true_tags`` (conlleval rules).

    Both are one sentence (a sequence of tags) or a list of sentences with the
    same lengths.  An entity is correct when a predicted (type, start, end)
    equals a gold one exactly.
    """
    gold = _sentences(true_tags, id_to_tag, "true_tags")
    pred = _sentences(pred_tags, id_to_tag, "pred_tags")
    if len(gold) != len(pred):
        raise ValueError(f"entity_scores: {len(gold)} gold sentences but {len(pred)} predicted ones")
    g_all, p_all = set(), set()
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"entity_scores: sentence {i} has {len(g)} gold tags but {len(p)} "
                             "predicted ones (drop the padding from both, or from neither)")
        g_all.update((i,) + s for s in entity_spans(g))
        p_all.update((i,) + s for s in entity_spans(p))
    hits = g_all & p_all
    per_type = {}
    for kind in sorted({s[1] for s in g_all | p_all}):
        per_type[kind] = EntityScores(sum(s[1] == kind for s in g_all), sum(s[1] == kind for s in p_all),
                                      sum(s[1] == kind for s in hits))
    return EntityScores(len(g_all), len(p_all), len(hits), per_type)
