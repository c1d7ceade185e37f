"""Synthetic question pairs: paraphrases (duplicates) and near misses.

Every question asks one *intent* (how to learn, who invented, what it costs,
...) about one *topic* (python, guitar, chess, ...), in one of several
surface forms of that intent::

    learn:  "how do i learn {x} ?" | "what is the best way to learn {x} ?" | ...

Two questions are duplicates exactly when they share intent and topic:

    "how do i learn chess ?"     / "what is the best way to learn chess ?"   1
    "how do i learn chess ?"     / "how do i learn guitar ?"                 0  same intent
    "how do i learn chess ?"     / "who invented chess ?"                    0  same topic

The non-duplicates are deliberately *hard*: they share either the intent's
wording or the topic, so counting shared words is not enough -- a model must
learn which differences matter (a Siamese network does).
"""
from __future__ import annotations

import numpy as np

INTENTS = {
    "learn": ["how do i learn {x} ?", "what is the best way to learn {x} ?",
              "how can i learn {x} quickly ?", "where should i start to learn {x} ?"],
    "improve": ["how can i get better at {x} ?", "how do i improve at {x} ?",
                "what are good tips to get better at {x} ?"],
    "invent": ["who invented {x} ?", "who was the inventor of {x} ?", "who first invented {x} ?"],
    "cost": ["how much does {x} cost ?", "what does it cost to do {x} ?", "is {x} expensive to do ?"],
    "hard": ["is {x} hard ?", "how hard is {x} ?", "why is {x} so hard ?"],
    "job": ["can i get a job with {x} ?", "what jobs need {x} ?", "which jobs use {x} ?"],
}
TOPICS = ["python", "java", "guitar", "piano", "chess", "french", "spanish", "calculus",
          "photography", "painting", "swimming", "cooking", "poker", "tennis", "yoga", "welding"]


def _ask(rng, intent, topic, avoid=None):
    """One surface form of (intent, topic), different from ``avoid`` when possible."""
    forms = [f for f in INTENTS[intent] if f != avoid] or INTENTS[intent]
    form = forms[rng.integers(len(forms))]
    return form.format(x=topic), form


def make_question_pairs(n=2000, seed=0, duplicate_rate=0.5):
    """``n`` question pairs, a fraction ``duplicate_rate`` of them duplicates.

    Non-duplicates are half "same intent, other topic" and half "same topic,
    other intent".  Returns {"question1", "question2": lists of n str,
    "is_duplicate": (n,) int64, "intent1", "intent2", "topic1", "topic2":
    lists of n str (the planted truth), "source", "description"}.
    """
    rng = np.random.default_rng(seed)
    intents = sorted(INTENTS)
    out = {k: [] for k in ("question1", "question2", "intent1", "intent2", "topic1", "topic2")}
    labels = []
    for _ in range(n):
        intent, topic = intents[rng.integers(len(intents))], TOPICS[rng.integers(len(TOPICS))]
        q1, form = _ask(rng, intent, topic)
        duplicate = rng.random() < duplicate_rate
        intent2, topic2 = intent, topic
        if not duplicate:
            if rng.random() < 0.5:
                topic2 = TOPICS[(TOPICS.index(topic) + rng.integers(1, len(TOPICS))) % len(TOPICS)]
            else:
                intent2 = intents[(intents.index(intent) + rng.integers(1, len(intents))) % len(intents)]
        # Duplicates use a different surface form: a paraphrase, not a copy.
        q2, _ = _ask(rng, intent2, topic2, avoid=form if duplicate else None)
        if rng.random() < 0.5:                        # neither side is always the "original"
            q1, q2, intent, intent2, topic, topic2 = q2, q1, intent2, intent, topic2, topic
        for key, value in zip(out, (q1, q2, intent, intent2, topic, topic2)):
            out[key].append(value)
        labels.append(int(duplicate))
    out["is_duplicate"] = np.array(labels, dtype=np.int64)
    out["source"] = f"synthetic: make_question_pairs(n={n}, seed={seed})"
    out["description"] = ("Synthetic question pairs: duplicates are two paraphrases of the same "
                          "(intent, topic); non-duplicates share the intent or the topic but not both.")
    return out
