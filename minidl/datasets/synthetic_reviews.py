"""Synthetic movie reviews, IMDB-shaped: long, wordy, mixed, with a long tail of names.

Generated in code (no third-party text), seeded.  Where ``make_sentiment``
writes one short opinion per review, ``make_movie_reviews`` writes what a
bag-of-words sentiment network (Trask's) is up against on real reviews:

* **length and glue words**: 4-13 sentences (about 80 words) per review, so
  "the", "." and "a" occur many times in every review, in both classes alike -- as raw counts
  they swamp the few words that carry the opinion;
* **graded polarity**: strong words (excellent, masterpiece, awful, waste)
  almost always side with the review's label, mild ones (good, fun, dull,
  slow) less reliably; genres lean a little (a "sequel" or "remake" is more
  often panned, a "documentary" more often liked);
* **mixed reviews**: 2-6 opinions per review, about one in seven disagreeing with the verdict
  ("the music was nice" in a negative review), so some reviews are hard;
* **negation**: "the plot was not bad" in a positive review, "the acting was
  not good" in a negative one -- single words cannot see what "not" flips;
* **a long tail of rare words**: character and crew names drawn from a Zipf-like
  distribution (rank r with weight r^-0.8) over 20,000 generated names, neutral but, being rare,
  with noisy class counts (the noise that a minimum word count removes).

``lexicon`` gives the planted polarity of every opinion word: +2 / +1 for
strong / mild positive, -1 / -2 for mild / strong negative.
"""
from __future__ import annotations

import random

import numpy as np

STRONG = {+1: ["excellent", "wonderful", "superb", "brilliant", "perfect", "outstanding", "amazing",
               "stunning", "unforgettable", "flawless", "breathtaking", "touching"],
          -1: ["awful", "terrible", "horrible", "pathetic", "dreadful", "unwatchable", "atrocious",
               "laughable", "stupid", "pointless", "boring", "lame"]}
MILD = {+1: ["good", "nice", "enjoyable", "fun", "solid", "pleasant", "charming", "funny",
             "interesting", "entertaining", "sweet", "clever"],
        -1: ["bad", "weak", "dull", "poor", "mediocre", "predictable", "silly", "slow", "bland",
             "forgettable", "disappointing", "annoying"]}
NOUNS = {+1: ["masterpiece", "gem", "delight", "triumph", "treat"],
         -1: ["waste", "mess", "disaster", "garbage", "insult"]}
VERBS = {+1: ["loved", "enjoyed", "adored", "cherished"], -1: ["hated", "disliked", "regretted", "loathed"]}
ADVERBS = {+1: ["beautifully", "wonderfully", "brilliantly", "perfectly"],
           -1: ["poorly", "badly", "terribly", "horribly"]}
VERDICTS = {+1: ["highly recommended", "a must see", "10 out of 10", "9 out of 10", "8 out of 10"],
            -1: ["avoid it", "1 out of 10", "2 out of 10", "3 out of 10", "what a waste of time"]}
# genre -> chance that a review mentioning it is positive
GENRES = {"comedy": 0.5, "drama": 0.55, "thriller": 0.5, "romance": 0.5, "western": 0.55, "musical": 0.6,
          "documentary": 0.75, "classic": 0.8, "horror": 0.35, "sequel": 0.25, "remake": 0.3, "cartoon": 0.5}
ASPECTS = ["plot", "acting", "story", "ending", "cast", "script", "music", "dialogue", "pacing",
           "photography", "direction", "soundtrack", "lead", "villain", "finale", "effects"]
INTENSIFIERS = ["really", "very", "quite", "so", "rather", "truly", "just", "pretty"]
ROLES = ["detective", "teacher", "soldier", "farmer", "singer", "doctor", "widow", "pilot", "thief",
         "priest", "nurse", "boxer", "lawyer", "student", "king", "sailor"]
ACTIONS = ["meets", "follows", "loses", "finds", "helps", "marries", "chases", "leaves", "visits", "trusts"]
THINGS = ["letter", "horse", "brother", "map", "ship", "daughter", "rival", "stranger", "house", "secret"]
PLACES = ["paris", "a small town", "the desert", "new york", "a prison", "the mountains", "london",
          "a hospital", "the jungle", "a farm", "space", "the city"]
PEOPLE = ["wife", "husband", "friends", "kids", "brother", "sister", "parents", "girlfriend", "roommate"]
_SYLLABLES = ["ka", "lo", "mi", "ra", "ven", "dor", "sel", "tha", "bri", "jo", "mar", "el", "an", "ric",
              "to", "sa", "lin", "da", "bel", "nor", "gus", "fen", "ul", "wes", "ter", "quin", "ha", "pe"]


def _names(n, rng):
    """n distinct made-up names ("Marven", "Kalosel"), in a seeded order (rank = frequency)."""
    out, seen = [], set()
    while len(out) < n:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
        if name not in seen:
            seen.add(name)
            out.append(name.capitalize())
    return out


def _an(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


def _opinion(rng, pol, strong):
    """One sentence whose words carry polarity ``pol`` (+1 / -1)."""
    adj = rng.choice(STRONG[pol] if strong else MILD[pol])
    aspect = rng.choice(ASPECTS)
    kind = rng.randrange(6)
    if kind == 0:
        return f"the {aspect} was {rng.choice(INTENSIFIERS) + ' ' if rng.random() < 0.5 else ''}{adj} ."
    if kind == 1:
        return f"it is {_an(adj)} {rng.choice(('film', 'movie'))} , and the {aspect} is {adj} too ."
    if kind == 2:
        return f"what {_an(rng.choice(NOUNS[pol]))} ." if strong else f"the {aspect} is {adj} ."
    if kind == 3:
        return f"i {rng.choice(VERBS[pol])} the {aspect} ." if strong else f"i thought it was {adj} ."
    if kind == 4:
        return f"the {aspect} is {rng.choice(ADVERBS[pol])} done ." if strong else f"{adj} {aspect} ."
    return f"overall , {rng.choice(VERDICTS[pol])} ." if strong else f"the {aspect} felt {adj} to me ."


def _negated(rng, pol):
    """A sentence meaning ``pol`` said by negating a mild word of the other side: "not bad"."""
    adj = rng.choice(MILD[-pol])
    aspect = rng.choice(ASPECTS)
    if rng.random() < 0.5:
        return f"the {aspect} was not {adj} ."
    return f"to be honest , the {aspect} is never {adj} ."


def _neutral(rng, name):
    kind = rng.randrange(7)
    if kind == 0:
        return f"{name()} plays {_an(rng.choice(ROLES))} who {rng.choice(ACTIONS)} a {rng.choice(THINGS)} in {rng.choice(PLACES)} ."
    if kind == 1:
        return f"the film was directed by {name()} {name()} and released in {rng.randrange(1950, 2024)} ."
    if kind == 2:
        return f"i saw it {rng.choice(('last week', 'on tv', 'at the cinema', 'on a plane'))} with my {rng.choice(PEOPLE)} ."
    if kind == 3:
        return f"the story is about {_an(rng.choice(ROLES))} and {rng.choice(('his', 'her'))} {rng.choice(THINGS)} ."
    if kind == 4:
        return f"{name()} {name()} also stars as the {rng.choice(ROLES)} , and {name()} has a small part ."
    if kind == 5:
        return f"there is a scene in {rng.choice(PLACES)} where {name()} {rng.choice(ACTIONS)} the {rng.choice(THINGS)} ."
    return f"it runs {rng.randrange(80, 180)} minutes and it was shot in {rng.choice(PLACES)} ."


def make_movie_reviews(n=6000, seed=0, n_names=20000, agree=0.85, negation_rate=0.15):
    """``n`` synthetic movie reviews with binary labels (1 = positive), balanced in expectation.

    n_names:       size of the pool of made-up names (Zipf-distributed: a few are common, most rare).
    agree:         chance that an opinion sentence sides with the review's label (the rest disagree).
    negation_rate: chance that an agreeing opinion is said by negating the other side ("not bad").
    Returns {"texts": list of n str, "labels": (n,) int64, "lexicon": {word: planted polarity},
    "source", "description"}.
    """
    rng = random.Random(seed)       # the stdlib generator: fast single draws, seeded, portable
    names = _names(n_names, rng)
    weights = np.arange(1, n_names + 1) ** -0.8          # Zipf-like: rank r drawn ~ r^-0.8
    cum = np.cumsum(weights / weights.sum())

    def name():
        return names[min(int(np.searchsorted(cum, rng.random())), n_names - 1)]

    texts, labels = [], []
    for _ in range(n):
        label = +1 if rng.random() < 0.5 else -1
        sentences = [_neutral(rng, name) for _ in range(rng.randrange(2, 7))]
        if rng.random() < 0.4:                     # genre talk leans a little towards the verdict
            lean = [p if label > 0 else 1 - p for p in GENRES.values()]
            genre = rng.choices(list(GENRES), weights=lean)[0]
            sentences.append(f"it is {_an(genre)} , in case you wonder .")
        for _ in range(rng.randrange(2, 7)):
            if rng.random() < agree:
                s = _negated(rng, label) if rng.random() < negation_rate else _opinion(rng, label, rng.random() < 0.4)
            else:                                  # the other side, mostly in mild words
                s = _opinion(rng, -label, rng.random() < 0.15)
            sentences.insert(rng.randrange(len(sentences) + 1), s)
        texts.append(" ".join(sentences))
        labels.append(int(label > 0))
    lexicon = {}
    for pol in (+1, -1):
        for w in STRONG[pol] + NOUNS[pol] + VERBS[pol] + ADVERBS[pol]:
            lexicon[w] = 2 * pol
        for w in MILD[pol]:
            lexicon[w] = pol
    return {"texts": texts, "labels": np.array(labels, dtype=np.int64), "lexicon": lexicon,
            "source": f"synthetic: make_movie_reviews(n={n}, seed={seed})",
            "description": "Synthetic IMDB-like reviews: many neutral sentences with rare made-up names, "
                           "2-6 opinion sentences (strong or mild words, some negated, one in seven "
                           "disagreeing with the verdict), genres that lean slightly."}
