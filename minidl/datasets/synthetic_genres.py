"""Generated multi-genre text: which source did this sentence come from?

The stand-in for the course's lyrics-genre task and for VADER's four sources
(tweets, movie reviews, product reviews, news), with the same four labels:

    0 "tweet"    lol, omg, followers, selfie, hashtag, ...
    1 "movie"    film, plot, actor, director, sequel, ...
    2 "product"  battery, shipping, warranty, charger, refund, ...
    3 "news"     government, minister, inflation, senate, ...

Each text is a short sentence from a template of its genre, filled with one
or two **genre words** (drawn uniformly from that genre's 40 words, so a small
training set has not seen most of them), sentiment words and filler shared by
all genres.  What makes it a real task rather than a lookup:

* the templates' function words differ by genre but overlap, and with
  probability ``template_swap`` a text uses another genre's template;
* with probability ``noise`` the genre words come from a random genre (an
  honest label-noise floor: a perfect reader scores about 1 - 3/4 * noise);
* some words are shared by two genres ("watch", "review", "screen", "people").

Why the genre words are many and uniform: a from-scratch embedding learns
only the words its labelled texts contain, while vectors pretrained on a larger
unlabelled corpus from the same generator (``make_genre_texts(20000, seed=1)``)
already place every genre word near its genre's other words.  So pretrained
vectors win when labels are few, and learning from scratch catches up (and
wins, being tuned to the task) when they are many -- the lesson's table.

``make_genre_texts(n, seed)`` returns {"texts": list of n str, "labels": (n,)
int64, "label_names": the four names, "source", "description"}; the classes
are balanced in expectation.
"""
from __future__ import annotations

import numpy as np

LABEL_NAMES = ["tweet", "movie", "product", "news"]

GENRE_WORDS = {
    "tweet": ["lol", "omg", "tonight", "gonna", "followers", "retweet", "hashtag", "selfie", "bestie", "wanna",
              "yay", "ugh", "smh", "tbh", "btw", "idk", "lmao", "vibes", "mood", "squad", "fomo", "yolo",
              "emoji", "trending", "dm", "unfollow", "livestream", "timeline", "meme", "fam", "hype", "lit",
              "insta", "tweeting", "weekend", "people", "bored", "brunch", "playlist", "notifications"],
    "movie": ["film", "movie", "plot", "actor", "scenes", "director", "cinema", "script", "sequel", "performance",
              "screenplay", "cinematography", "soundtrack", "cameo", "protagonist", "villain", "audience",
              "trailer", "premiere", "drama", "comedy", "thriller", "editing", "casting", "dialogue", "climax",
              "narrative", "remake", "animation", "documentary", "screening", "subtitles", "blockbuster",
              "oscar", "hollywood", "characters", "twist", "popcorn", "watch", "review"],
    "product": ["battery", "shipping", "price", "bought", "works", "quality", "charger", "warranty", "seller",
                "refund", "packaging", "delivery", "cable", "screen", "headphones", "instructions", "durable",
                "plastic", "assembly", "returned", "customer", "brand", "lasts", "purchase", "item",
                "replacement", "fits", "adapter", "device", "manual", "charging", "order", "vendor",
                "discount", "bargain", "unboxing", "speaker", "keyboard", "review", "watch"],
    "news": ["government", "minister", "policy", "officials", "economy", "percent", "president", "election",
             "reform", "parliament", "senate", "legislation", "budget", "taxes", "inflation", "diplomats",
             "treaty", "congress", "administration", "voters", "campaign", "deficit", "regulators", "tariffs",
             "unemployment", "coalition", "spokesman", "sanctions", "ministry", "referendum", "lawmakers",
             "subsidies", "governor", "federal", "fiscal", "democracy", "cabinet", "ballot", "people", "screen"],
}
TEMPLATES = {
    "tweet": ["{g} {g2} so {s} right now", "omg this {g} is {s}", "cant believe the {g} lol {s}",
              "{s} {g} with the {g2} today", "just saw the {g} and im {s}"],
    "movie": ["the {g} was {s} and the {g2} even more so", "a {s} {g} with a {s2} {g2}",
              "i found the {g} {s} from start to finish", "the {g} of this {g2} is {s}",
              "despite the {g} the film feels {s}"],
    "product": ["the {g} is {s} for the price", "i bought it and the {g} was {s}",
                "{s} {g} and the {g2} arrived on time", "after a week the {g} still seems {s}",
                "would buy again because the {g} is {s}"],
    "news": ["the {g} said the {g2} would be {s} for the country", "officials called the {g} {s} on tuesday",
             "critics argue the {g} is {s} for the {g2}", "the {g} remains {s} according to a report",
             "a {s} debate over the {g} and the {g2} continued"],
}
SENTIMENT = ["good", "great", "bad", "awful", "amazing", "terrible", "fine", "weird", "solid", "disappointing",
             "brilliant", "boring", "surprising", "excellent", "poor", "impressive", "mediocre", "strange"]


def _pick(rng, items):
    return items[rng.integers(len(items))]


def make_genre_texts(n=4000, seed=0, noise=0.1, template_swap=0.2):
    """``n`` generated sentences from four genres (see the module docstring)."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(len(LABEL_NAMES)))
        genre = LABEL_NAMES[label]
        words_from = LABEL_NAMES[rng.integers(4)] if rng.random() < noise else genre
        template_from = LABEL_NAMES[rng.integers(4)] if rng.random() < template_swap else genre
        words = GENRE_WORDS[words_from]
        text = _pick(rng, TEMPLATES[template_from]).format(
            g=_pick(rng, words), g2=_pick(rng, words), s=_pick(rng, SENTIMENT), s2=_pick(rng, SENTIMENT))
        texts.append(text)
        labels.append(label)
    return {"texts": texts, "labels": np.array(labels, dtype=np.int64), "label_names": list(LABEL_NAMES),
            "source": f"synthetic: make_genre_texts(n={n}, seed={seed}, noise={noise})",
            "description": "Generated sentences from four genres (tweet, movie, product, news): genre "
                           "templates filled with genre words, shared sentiment words, some template "
                           "swaps and label noise."}
