"""Synthetic text with planted structure: sentiment with negation, and a tiny grammar.

Generated in code (no third-party text), seeded, so a lesson runs offline and
a test can check that a model recovers what was planted.  Every result says
``"source": "synthetic: ..."`` and carries a ``"description"``.

**Sentiment** (``make_sentiment``).  Short reviews built from three
vocabularies: positive words (great, superb, loved, ...), negative words
(awful, boring, hated, ...) and neutral words (the film, the plot, on monday,
...).  Each review states one opinion, optionally *negated* ("was really not
great", "did not enjoy", "is never boring"; the negator always sits right
before the word it flips), plus optional neutral clauses::

    label = polarity of the opinion word, flipped when negated

So a bag of single words gets the negated reviews mostly wrong (it cannot
see that "not" belongs to "great"), while a model that sees word pairs --
bigrams, an RNN, a CNN -- can get them all right.

**Language-model text** (``make_grammar_corpus``).  Sentences from a small
grammar whose structure reaches across many characters:

* subject-verb agreement across a prepositional phrase or relative clause:
  "the dog near the cats runs ." / "the dogs that the cat sees run ."
  (the verb agrees with "dog(s)", not with the nearer "cat(s)");
* matched frames: "either ... or ...", "neither ... nor ...", "if ... then ...".

A character bigram model only sees one character back, so it cannot know
whether "run" needs an "s"; longer contexts (trigrams, RNNs) do better, and
only a model with memory of the subject gets agreement right.
"""
from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------- sentiment
POSITIVE_ADJ = ["good", "great", "excellent", "wonderful", "superb", "brilliant", "enjoyable",
                "delightful", "charming", "moving", "beautiful", "fun"]
NEGATIVE_ADJ = ["bad", "awful", "terrible", "boring", "dull", "poor", "horrible", "weak",
                "tedious", "disappointing", "mediocre", "clumsy"]
POSITIVE_VERB = [("loved", "love"), ("enjoyed", "enjoy"), ("liked", "like"), ("admired", "admire")]
NEGATIVE_VERB = [("hated", "hate"), ("disliked", "dislike"), ("regretted", "regret"), ("loathed", "loathe")]
NEUTRAL_NOUN = ["movie", "film", "plot", "acting", "story", "ending", "cast", "script", "soundtrack",
                "dialogue", "pacing", "camera work"]
NEUTRAL_ADV = ["really", "quite", "very", "rather", "honestly", "overall", "truly", "somewhat"]
NEUTRAL_CLAUSE = ["i watched it on {day}", "we saw it at the {place}", "it runs {n} minutes",
                  "my {person} picked it", "it came out in {year}", "the {noun} was in color"]
_DAYS = ["monday", "tuesday", "friday", "saturday", "sunday"]
_PLACES = ["cinema", "festival", "library", "theater"]
_PEOPLE = ["friend", "sister", "brother", "neighbor", "teacher"]


def _fill_neutral(rng):
    template = NEUTRAL_CLAUSE[rng.integers(len(NEUTRAL_CLAUSE))]
    return template.format(day=_choice(rng, _DAYS), place=_choice(rng, _PLACES),
                           n=int(rng.integers(80, 180)), person=_choice(rng, _PEOPLE),
                           year=int(rng.integers(1950, 2024)), noun=_choice(rng, NEUTRAL_NOUN))


def _choice(rng, items):
    return items[rng.integers(len(items))]


def _opinion(rng, positive, negated):
    """One opinion clause; its words carry the polarity, "not"/"never" flips it."""
    kind = rng.integers(3)
    noun = _choice(rng, NEUTRAL_NOUN)
    if kind == 0:
        adj = _choice(rng, POSITIVE_ADJ if positive else NEGATIVE_ADJ)
        adv = _choice(rng, NEUTRAL_ADV) + " " if rng.random() < 0.5 else ""
        # The adverb goes before "not" so that "not" always sits right next to
        # the word it flips ("really not good"): a bigram can then see it.
        return f"the {noun} was {adv}{'not ' if negated else ''}{adj}"
    if kind == 1:
        past, base = _choice(rng, POSITIVE_VERB if positive else NEGATIVE_VERB)
        return f"i did not {base} the {noun}" if negated else f"i {past} the {noun}"
    adj = _choice(rng, POSITIVE_ADJ if positive else NEGATIVE_ADJ)
    return f"this {noun} is {'never' if negated else 'always'} {adj}"


def make_sentiment(n=2000, seed=0, negation_rate=0.3, neutral_rate=0.5):
    """``n`` synthetic reviews with binary labels.

    negation_rate: fraction of reviews whose opinion is negated.
    neutral_rate:  chance of each of up to two neutral clauses (no label signal).
    Returns {"texts": list of n str, "labels": (n,) int64 (1 = positive),
    "negated": (n,) bool, "source", "description"}.  Classes are balanced
    in expectation (each review is positive with probability 1/2).
    """
    rng = np.random.default_rng(seed)
    texts, labels, negated = [], [], []
    for _ in range(n):
        label = int(rng.random() < 0.5)
        neg = bool(rng.random() < negation_rate)
        # The opinion word's polarity is chosen so that negation yields the label.
        clauses = [_opinion(rng, positive=(label == 1) != neg, negated=neg)]
        for _ in range(2):
            if rng.random() < neutral_rate:
                clauses.insert(int(rng.integers(len(clauses) + 1)), _fill_neutral(rng))
        texts.append(" and ".join(clauses) + " .")
        labels.append(label)
        negated.append(neg)
    return {"texts": texts, "labels": np.array(labels, dtype=np.int64),
            "negated": np.array(negated, dtype=bool),
            "source": f"synthetic: make_sentiment(n={n}, seed={seed}, negation_rate={negation_rate})",
            "description": "Synthetic reviews: one positive/negative opinion word per review, negated "
                           "('not', 'did not', 'never') in a fraction of them, which flips the label; "
                           "neutral clauses carry no signal."}


# ---------------------------------------------------------------------- grammar corpus
NOUNS = [("dog", "dogs"), ("cat", "cats"), ("bird", "birds"), ("child", "children"),
         ("teacher", "teachers"), ("farmer", "farmers"), ("king", "kings"), ("queen", "queens")]
INTRANSITIVE = [("runs", "run"), ("sleeps", "sleep"), ("sings", "sing"), ("waits", "wait"),
                ("laughs", "laugh"), ("hides", "hide")]
TRANSITIVE = [("sees", "see"), ("likes", "like"), ("follows", "follow"), ("chases", "chase"),
              ("helps", "help"), ("watches", "watch")]
ADJECTIVES = ["small", "old", "happy", "quiet", "brave", "clever"]
ADVERBIALS = ["slowly", "today", "again", "at night", "every morning", "in the garden", "by the river"]
FRAMES = [("either", "or"), ("neither", "nor"), ("if", "then")]


def _noun_phrase(rng, plural, allow_modifier):
    """"the [adj] noun [modifier]" -- the modifier puts a distractor noun between
    the subject and its verb."""
    adj = _choice(rng, ADJECTIVES) + " " if rng.random() < 0.3 else ""
    np_ = f"the {adj}{_choice(rng, NOUNS)[plural]}"
    if not allow_modifier:
        return np_
    r = rng.random()
    other = int(rng.random() < 0.5)                  # the distractor's number is independent
    if r < 0.3:
        return f"{np_} near the {_choice(rng, NOUNS)[other]}"
    if r < 0.5:
        return f"{np_} that the {_choice(rng, NOUNS)[other]} {_choice(rng, TRANSITIVE)[other]}"
    if r < 0.65:
        return f"{np_} that {_choice(rng, TRANSITIVE)[plural]} the {_choice(rng, NOUNS)[other]}"
    return np_


def _clause(rng):
    """(clause text, subject is plural, main verb)."""
    plural = int(rng.random() < 0.5)
    subject = _noun_phrase(rng, plural, allow_modifier=True)
    if rng.random() < 0.5:
        verb = _choice(rng, INTRANSITIVE)[plural]
        tail = " " + _choice(rng, ADVERBIALS) if rng.random() < 0.5 else ""
    else:
        verb = _choice(rng, TRANSITIVE)[plural]
        tail = " " + _noun_phrase(rng, int(rng.random() < 0.5), allow_modifier=False)
    return f"{subject} {verb}{tail}", bool(plural), verb


def make_grammar_corpus(n_sentences=2000, seed=0, frame_rate=0.2):
    """A corpus of ``n_sentences`` grammatical sentences, one per line.

    frame_rate: fraction of sentences that are "either A or B" / "neither A nor
    B" / "if A then B" (the closing word is fixed by the opening one).
    Returns {"text": str (sentences joined by "\\n", ending in "\\n"),
    "sentences": list of str, "subject_plural": (n,) bool and "main_verb":
    list of str -- the first clause's subject number and verb, the planted
    agreement, for checking a model -- "source", "description"}.
    """
    rng = np.random.default_rng(seed)
    sentences, plural, verbs = [], [], []
    for _ in range(n_sentences):
        first, is_plural, verb = _clause(rng)
        if rng.random() < frame_rate:
            opening, closing = _choice(rng, FRAMES)
            second, _, _ = _clause(rng)
            sentence = f"{opening} {first} {closing} {second} ."
        else:
            sentence = f"{first} ."
        sentences.append(sentence)
        plural.append(is_plural)
        verbs.append(verb)
    return {"text": "\n".join(sentences) + "\n", "sentences": sentences,
            "subject_plural": np.array(plural, dtype=bool), "main_verb": verbs,
            "source": f"synthetic: make_grammar_corpus(n_sentences={n_sentences}, seed={seed})",
            "description": "Synthetic sentences from a tiny English grammar with subject-verb agreement "
                           "across distractor nouns and matched either/or, neither/nor, if/then frames."}
