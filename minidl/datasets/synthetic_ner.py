"""Synthetic NER sentences: templates filled from entity gazetteers, BIO-tagged.

Each sentence is a template such as ``"{per} visited {geo} on {tim} ."`` whose
slots are filled from small gazetteers (lists of names) of four entity types,
the GMB tag set that the course's NER model uses:

    per  persons        "John Smith", "Maria Garcia", "Jordan Lee"
    geo  places         "London", "New York", "Rio de Janeiro", "Jordan"
    org  organisations  "United Nations", "Acme Corp", "World Bank"
    tim  times          "Monday", "last week", "March 3"

A multi-word entity is tagged ``B-type`` on its first token and ``I-type`` on
the rest; every template word is ``O``:

    John/B-per Smith/I-per visited/O New/B-geo York/I-geo on/O Monday/B-tim ./O

Planted structure a tagger can recover: entity words are tagged by their
gazetteer (memorising words gets far), and a few names are *ambiguous*
("Jordan", "Washington", "Paris" are both a person's name and a place), so
only the context ("visited X" vs "X said") decides them.
"""
from __future__ import annotations

import numpy as np

GAZETTEER = {
    "per": ["John Smith", "Mary Jones", "Ahmed Khan", "Li Wei", "Maria Garcia", "Pierre Dubois",
            "Anna Ivanova", "Kwame Mensah", "Jordan Lee", "George Washington", "Paris Hilton",
            "Yuki Tanaka", "Sofia Rossi", "David Cohen"],
    "geo": ["London", "Paris", "New York", "Tokyo", "Cairo", "Rio de Janeiro", "Berlin", "Lagos",
            "Sydney", "Mexico City", "Jordan", "Washington", "Mumbai", "Lake Victoria"],
    "org": ["United Nations", "World Bank", "Red Cross", "Acme Corp", "Global Motors", "NASA",
            "European Union", "Bank of England", "Green Party", "Apex Labs"],
    "tim": ["Monday", "Tuesday", "Friday", "last week", "next year", "March 3", "2015",
            "the summer of 2010", "January", "last night"],
}

TEMPLATES = [
    "{per} visited {geo} on {tim} .",
    "{per} works for {org} in {geo} .",
    "officials from {org} met {per} {tim} .",
    "{org} opened an office in {geo} in {tim} .",
    "on {tim} , {per} said {org} would leave {geo} .",
    "the head of {org} , {per} , arrived in {geo} .",
    "{per} and {per} flew from {geo} to {geo} .",
    "protests in {geo} continued {tim} , {org} reported .",
    "{per} said the talks were useful .",
    "the weather was calm {tim} .",
]


def _fill(template, rng):
    """Tokens and BIO tags of one filled template."""
    tokens, tags = [], []
    for piece in template.split():
        if piece.startswith("{") and piece.endswith("}"):
            kind = piece[1:-1]
            names = GAZETTEER[kind]
            words = names[rng.integers(len(names))].split()
            tokens += words
            tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(words) - 1)
        else:
            tokens.append(piece)
            tags.append("O")
    return tokens, tags


def make_ner(n=1000, seed=0):
    """``n`` synthetic tagged sentences.

    Returns {"sentences": list of n token lists, "tags": list of n BIO tag lists,
    "entity_types": ["geo", "org", "per", "tim"], "source", "description"} --
    the same keys as ``load_conll`` / ``load_gmb``.
    """
    rng = np.random.default_rng(seed)
    sentences, tags = [], []
    for _ in range(n):
        toks, tgs = _fill(TEMPLATES[rng.integers(len(TEMPLATES))], rng)
        sentences.append(toks)
        tags.append(tgs)
    return {"sentences": sentences, "tags": tags, "entity_types": sorted(GAZETTEER),
            "source": f"synthetic: make_ner(n={n}, seed={seed})",
            "description": "Synthetic NER sentences: fixed templates filled from small per/geo/org/tim "
                           "gazetteers (some names are both per and geo), tagged in BIO."}
