"""A generated corpus with planted analogies, and the analogy questions to test them.

Word vectors learned from co-occurrence can solve "a : b :: c : ?" by vector
arithmetic (b - a + c) when every pair of a relation differs in the *same*
way.  This corpus plants that structure on purpose.  Three relations, each a
list of word pairs (x, y), in the sections of Google's analogy file:

    capital-common-countries   (france, paris), (italy, rome), ...      16 pairs
    family                     (king, queen), (brother, sister), ...    15 pairs
    gram8-plural               (dog, dogs), (car, cars), ...            12 pairs

A sentence about a word w of pair k, role r (x or y) mixes two kinds of
context words:

* **topic words of the pair**, shared by x and y: (france, paris) both occur
  with "french" and "louvre", (king, queen) with "throne" and "crown";
* **role words of the relation**, shared by every x (or every y): countries
  with "country", "government", "border"; capitals with "city", "mayor",
  "streets"; he/his vs she/her; one/this/is vs two/these/are.

So, roughly, vec(w) ~ topic(k) + role(r), and paris - france + italy ~
topic(france) + city - topic(france) - country + topic(italy) + country =
topic(italy) + city ~ rome.  Generic sentences (weather, food, travel) and
filler words add the usual background of frequent words.  The text is in
English words so the results read naturally; every sentence is generated
here (no text is copied from anywhere).

``COMMON_PAIRS`` and ``analogy_questions`` give a small question set for real
English text (family words and plurals that tiny Shakespeare uses too).

``make_analogy_corpus(n_sentences, seed)`` returns
    {"text": str (one sentence per line), "sentences": list of str,
     "questions": list of (a, b, c, d) -- every ordered pair of pairs of a relation:
                  (x1, y1, x2, y2), read "x1 : y1 :: x2 : y2" (582 questions),
     "sections": list of str (the relation of each question),
     "relations": {section: [(x, y), ...]}, "source", "description"}
"""
from __future__ import annotations

import numpy as np

# (x, y, topic words shared by the pair)
CAPITALS = [
    ("france", "paris", ("louvre", "seine", "croissants")), ("germany", "berlin", ("reichstag", "spree", "pretzels")),
    ("italy", "rome", ("colosseum", "tiber", "pizza")), ("spain", "madrid", ("prado", "flamenco", "paella")),
    ("japan", "tokyo", ("shrines", "sumida", "sushi")), ("china", "beijing", ("pagodas", "hutongs", "dumplings")),
    ("russia", "moscow", ("kremlin", "volga", "borscht")), ("egypt", "cairo", ("pyramids", "nile", "falafel")),
    ("greece", "athens", ("acropolis", "aegean", "olives")), ("england", "london", ("parliament", "thames", "tea")),
    ("ireland", "dublin", ("liffey", "shamrocks", "stew")), ("portugal", "lisbon", ("trams", "tagus", "fado")),
    ("poland", "warsaw", ("vistula", "pierogi", "chopin")), ("sweden", "stockholm", ("archipelago", "meatballs", "vasa")),
    ("norway", "oslo", ("fjords", "salmon", "vikings")), ("kenya", "nairobi", ("safari", "savanna", "giraffes")),
]
FAMILY = [
    ("king", "queen", ("throne", "crown", "kingdom")), ("prince", "princess", ("castle", "dragon", "knights")),
    ("man", "woman", ("office", "newspaper", "commute")), ("boy", "girl", ("school", "toys", "playground")),
    ("father", "mother", ("children", "kitchen", "chores")), ("son", "daughter", ("parents", "homework", "bedroom")),
    ("brother", "sister", ("sibling", "twin", "quarrels")), ("uncle", "aunt", ("cousins", "holidays", "visits")),
    ("husband", "wife", ("marriage", "anniversary", "spouse")),
    ("grandfather", "grandmother", ("grandchildren", "stories", "pension")),
    ("nephew", "niece", ("birthday", "presents", "godparent")), ("actor", "actress", ("stage", "role", "audition")),
    ("waiter", "waitress", ("restaurant", "tips", "menu")), ("monk", "nun", ("monastery", "prayer", "abbey")),
    ("groom", "bride", ("wedding", "vows", "ceremony")),
]
PLURALS = [
    ("dog", "dogs", ("bark", "leash", "kennel")), ("cat", "cats", ("purr", "whiskers", "litter")),
    ("car", "cars", ("engine", "highway", "garage")), ("apple", "apples", ("orchard", "juice", "cider")),
    ("book", "books", ("pages", "library", "shelf")), ("bird", "birds", ("nest", "feathers", "wings")),
    ("house", "houses", ("roof", "chimney", "porch")), ("tree", "trees", ("leaves", "forest", "branches")),
    ("ship", "ships", ("harbor", "sails", "anchor")), ("horse", "horses", ("saddle", "stable", "hooves")),
    ("computer", "computers", ("keyboard", "software", "screen")), ("flower", "flowers", ("petals", "vase", "pollen")),
]
RELATIONS = {"capital-common-countries": CAPITALS, "family": FAMILY, "gram8-plural": PLURALS}

# Per relation: the templates, and the role words of each side (x side, y side).
# A template's {r} takes a role word -- of the word's own side with probability
# 1 - cross_rate, of the other side otherwise (so "france" meets "city" now and
# then, as in real text: the ratio X[paris, city] / X[france, city] is what GloVe
# fits, and it needs both counts).  {w} is the word, {t} a topic word of its pair.
TEMPLATES = {
    "capital-common-countries": [
        "the {r} of {w} is proud of its {t}", "the {r} of {w} is known for the {t}",
        "people love the {r} of {w} and its {t}", "we visited the {t} and the {r} of {w}",
        "the {t} made the {r} of {w} famous"],
    "family": [
        "the {w} said that {r} loved the {t}", "the {w} told us that {r} missed the {t}",
        "everyone knew that {r} was the {w} of the {t}", "the {w} smiled when {r} saw the {t}",
        "{r} is a {w} who cares about the {t}"],
    "gram8-plural": [
        "{r} {w} near the {t}", "we saw that {r} {w} by the {t}",
        "the farmer said {r} {w} next to the {t}", "{r} {w} close to the {t} today"],
}
ROLE_WORDS = {
    "capital-common-countries": (["country", "nation", "government", "republic", "president", "economy"],
                                 ["city", "mayor", "streets", "downtown", "metro", "suburbs"]),
    "family": (["he"], ["she"]),
    # "{r} {w}" reads "one dog is" / "two dogs are"; the cross forms are grammatical too
    "gram8-plural": (["one {w} is", "this {w} was", "a single {w} is", "that {w} was"],
                     ["two {w} are", "these {w} were", "many {w} are", "several {w} were"]),
}
CROSS_FORMS = {   # plural/singular words next to the other side's role words, still grammatical
    "gram8-plural": (["many say this {w} is", "two men said that {w} was"],
                     ["one of the {w} is", "this pair of {w} was"]),
}
JOINT = {
    "capital-common-countries": ["{y} is the capital of {x}", "the capital of {x} is {y}"],
    "family": ["the {x} and the {y} were together", "a {x} and a {y} came in"],
    "gram8-plural": ["the {x} joined the other {y}"],
}
GENERIC = [
    "the weather was {a} today", "we had {f} for dinner", "the train was {a} this morning",
    "people like {f} in the summer", "the market sells {f} every week", "it was a {a} day for a walk",
    "the museum was {a} on sunday", "they bought {f} and bread",
]
_ADJ = ["sunny", "cold", "warm", "rainy", "quiet", "crowded", "late", "early"]
_FOOD = ["soup", "rice", "cheese", "fish", "salad", "pasta", "cake", "fruit"]


# Hand-written pairs of common English words, for analogy questions on *real* text
# (e.g. tiny Shakespeare) when Google's file is not at hand.  Our own lists.
COMMON_PAIRS = {
    "family": [("king", "queen"), ("lord", "lady"), ("duke", "duchess"), ("prince", "princess"),
               ("father", "mother"), ("son", "daughter"), ("brother", "sister"), ("uncle", "aunt"),
               ("husband", "wife"), ("man", "woman"), ("boy", "girl"), ("sir", "madam"),
               ("he", "she"), ("his", "her"), ("master", "mistress"), ("men", "women"),
               ("lords", "ladies"), ("brothers", "sisters"), ("sons", "daughters"), ("kings", "queens")],
    "gram8-plural": [("lord", "lords"), ("friend", "friends"), ("eye", "eyes"), ("hand", "hands"),
                     ("king", "kings"), ("word", "words"), ("heart", "hearts"), ("day", "days"),
                     ("thing", "things"), ("man", "men"), ("son", "sons"), ("brother", "brothers"),
                     ("tear", "tears"), ("soldier", "soldiers"), ("night", "nights"), ("year", "years"),
                     ("hour", "hours"), ("enemy", "enemies"), ("sword", "swords"), ("house", "houses"),
                     ("head", "heads"), ("tongue", "tongues"), ("life", "lives"), ("friend", "friends"),
                     ("dog", "dogs"), ("car", "cars"), ("book", "books"), ("child", "children")],
}


def analogy_questions(relations):
    """Every question (x1, y1, x2, y2) with two different pairs of one relation.

    relations: {section: [(x, y), ...]}.  Returns (questions, sections).  Repeated
    pairs are used once.
    """
    questions, sections = [], []
    for section, pairs in relations.items():
        pairs = list(dict.fromkeys((x, y) for x, y, *_ in pairs))
        for x1, y1 in pairs:
            for x2, y2 in pairs:
                if (x1, y1) != (x2, y2) and len({x1, y1, x2, y2}) == 4:
                    questions.append((x1, y1, x2, y2))
                    sections.append(section)
    return questions, sections


def _pick(rng, items):
    return items[rng.integers(len(items))]


def _sentence(rng, section, pair_index, role, cross_rate, topic_noise):
    rel = RELATIONS[section]
    x, y, topic = rel[pair_index]
    w = (x, y)[role]
    if rng.random() < topic_noise:          # now and then a topic word of another pair
        topic = rel[rng.integers(len(rel))][2]
    side = role if rng.random() >= cross_rate else 1 - role
    if section == "gram8-plural":
        forms = ROLE_WORDS[section][role] if side == role else CROSS_FORMS[section][role]
        return _pick(rng, TEMPLATES[section]).replace("{r} {w}", _pick(rng, forms)).format(
            w=w, t=_pick(rng, topic))
    return _pick(rng, TEMPLATES[section]).format(r=_pick(rng, ROLE_WORDS[section][side]), w=w,
                                                 t=_pick(rng, topic))


def make_analogy_corpus(n_sentences=20000, seed=0, generic_rate=0.15, joint_rate=0.1,
                        cross_rate=0.2, topic_noise=0.1):
    """``n_sentences`` generated sentences with planted analogies (see the module docstring).

    generic_rate: fraction of background sentences without any analogy word.
    joint_rate:   fraction naming both words of a pair ("paris is the capital of france").
    cross_rate:   chance that a sentence uses the other side's role word ("the city of france").
    topic_noise:  chance that a sentence uses a topic word of another pair.
    """
    rng = np.random.default_rng(seed)
    pairs = [(section, k) for section, rel in RELATIONS.items() for k in range(len(rel))]
    sentences = []
    for _ in range(n_sentences):
        u = rng.random()
        if u < generic_rate:
            sentences.append(_pick(rng, GENERIC).format(a=_pick(rng, _ADJ), f=_pick(rng, _FOOD)))
            continue
        section, k = pairs[rng.integers(len(pairs))]
        if u < generic_rate + joint_rate:
            x, y, _ = RELATIONS[section][k]
            sentences.append(_pick(rng, JOINT[section]).format(x=x, y=y))
        else:
            sentences.append(_sentence(rng, section, k, int(rng.integers(2)), cross_rate, topic_noise))
    questions, sections = analogy_questions(RELATIONS)
    return {"text": "\n".join(sentences) + "\n", "sentences": sentences,
            "questions": questions, "sections": sections,
            "relations": {s: [(x, y) for x, y, _ in rel] for s, rel in RELATIONS.items()},
            "source": f"synthetic: make_analogy_corpus(n_sentences={n_sentences}, seed={seed})",
            "description": "Generated sentences in which each word of a country/capital, male/female "
                           "or singular/plural pair occurs with topic words shared by its pair and role "
                           "words shared by its side of the relation, so that b - a + c lands near d."}
