"""Generated text with a vocabulary of a few thousand words in planted word classes.

For the big-softmax lesson: a language model over thousands of words, where the
structure a good model (and good word vectors) should find is known.  Every word
belongs to one class and is named after it (``animal17``, ``consume3``), so a
learner can read off whether nearest neighbours share a class:

    nouns       person, animal, food, drink, place, tool    (``words_per_class`` each)
    verbs       consume (food / drink), visit (a place), hold (a tool),
                watch (a person or an animal)               (words_per_class // 6 each)
    adjectives  colour, mood                                 (words_per_class // 5 each)
    time        day                                          (words_per_class // 10)
    function    the  with  in  on  .

Sentences follow four templates with *selectional preferences*: the verb's class
decides the object's class two or three words later, and animals consume food
but never drink::

    the [mood] (person | animal) consume the [colour] (food | drink) [on the day] .
    the [mood] person visit the place [with the (tool | animal)] .
    the person hold the [colour] tool [in the place] .
    the (person | animal) watch the (person | animal) [on the day] .

Within a class, word k is drawn with probability proportional to 1/(k+1) (Zipf),
so a few words are frequent and most are rare: a count-based model knows little
about ``consume41``, while a model with word vectors can share what it learned
about every ``consume`` verb.  Generated here, from nothing but this code.

``make_class_corpus(n_sentences, words_per_class, seed)`` returns
    {"text": str (one sentence per line), "sentences": list of str,
     "word_class": {word: class name}, "classes": {class name: [words, most frequent first]},
     "source", "description"}
"""
from __future__ import annotations

import numpy as np

FUNCTION_WORDS = ["the", "with", "in", "on", "."]


def _class_sizes(words_per_class):
    n = int(words_per_class)
    return {"person": n, "animal": n, "food": n, "drink": n, "place": n, "tool": n,
            "consume": max(2, n // 6), "visit": max(2, n // 6), "hold": max(2, n // 6),
            "watch": max(2, n // 6), "colour": max(2, n // 5), "mood": max(2, n // 5),
            "day": max(2, n // 10)}


def make_class_corpus(n_sentences=8000, words_per_class=300, seed=0):
    rng = np.random.default_rng(seed)
    classes = {c: [f"{c}{i}" for i in range(k)] for c, k in _class_sizes(words_per_class).items()}
    # Zipf within each class, drawn in blocks (one rng call per 4096 words, not per word)
    zipf = {c: (lambda p: p / p.sum())(1.0 / np.arange(1, len(w) + 1)) for c, w in classes.items()}
    pools = {c: [] for c in classes}

    def word(c):
        if not pools[c]:
            pools[c] = rng.choice(len(classes[c]), size=4096, p=zipf[c]).tolist()[::-1]
        return classes[c][pools[c].pop()]

    def maybe(p, words):
        return words if rng.random() < p else []

    def noun_phrase(c, adjective=None, p_adj=0.3):
        return ["the"] + maybe(p_adj, [word(adjective)] if adjective else []) + [word(c)]

    sentences = []
    for _ in range(n_sentences):
        kind = rng.integers(4)
        if kind == 0:
            subject = "animal" if rng.random() < 0.4 else "person"
            obj = "food" if subject == "animal" or rng.random() < 0.5 else "drink"
            s = (noun_phrase(subject, "mood") + [word("consume")] + noun_phrase(obj, "colour")
                 + maybe(0.3, ["on"] + noun_phrase("day", p_adj=0)))
        elif kind == 1:
            s = (noun_phrase("person", "mood") + [word("visit")] + noun_phrase("place", p_adj=0)
                 + maybe(0.4, ["with"] + noun_phrase("tool" if rng.random() < 0.5 else "animal", p_adj=0)))
        elif kind == 2:
            s = (noun_phrase("person", p_adj=0) + [word("hold")] + noun_phrase("tool", "colour")
                 + maybe(0.4, ["in"] + noun_phrase("place", p_adj=0)))
        else:
            s = (noun_phrase("person" if rng.random() < 0.6 else "animal", "mood") + [word("watch")]
                 + noun_phrase("person" if rng.random() < 0.5 else "animal", "mood")
                 + maybe(0.3, ["on"] + noun_phrase("day", p_adj=0)))
        sentences.append(" ".join(s + ["."]))
    word_class = {w: c for c, ws in classes.items() for w in ws}
    word_class.update({w: "function" for w in FUNCTION_WORDS})
    return {"text": "\n".join(sentences) + "\n", "sentences": sentences, "word_class": word_class,
            "classes": classes,
            "source": f"synthetic: make_class_corpus(n_sentences={n_sentences}, "
                      f"words_per_class={words_per_class}, seed={seed})",
            "description": "Generated sentences over a vocabulary of a few thousand class-named words "
                           "(person17, consume3, ...), Zipfian within each class, with verb-object "
                           "selectional preferences."}
