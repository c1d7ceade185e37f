"""The data sets minidl knows how to download: name -> where, what file, checksum.

Each ``Resource`` says:

* ``urls``      canonical URL first, then mirrors tried in order (empty when the
                terms require a login: the file must be fetched by hand);
* ``filename``  where the file goes, relative to the cache folder -- the same
                layout as ``shared/data``, so loaders find it in either;
* ``size``/``md5``/``sha256``/``sha1``  checked after every download when known, and once on
                the first use of a cached file (None: not checked);
* ``unpack``    for archives: the folder (relative to the cache) to extract into;
* ``provides``  what ``download(name)`` returns, relative to the cache: the file
                itself, or the folder an archive unpacks to.

``GROUPS`` bundles resources that are used together (MNIST's four files).
Sizes and checksums are the published ones; a resource without them is
verified only by a successful, complete transfer.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Resource:
    urls: tuple
    filename: str
    md5: str | None = None
    size: int | None = None
    sha256: str | None = None
    unpack: str | None = None
    provides: str | None = None
    about: str = ""
    notes: str = field(default="", compare=False)
    sha1: str | None = None       # checked like md5 when given (some projects publish only SHA-1)

    @property
    def target(self):
        """Path (relative to the cache) that download() returns."""
        return self.provides or self.filename


_VADER = "https://raw.githubusercontent.com/cjhutto/vaderSentiment/master/additional_resources/hutto_ICWSM_2014/"
_MNIST = ("https://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/")
_UDACITY = "https://raw.githubusercontent.com/udacity/deep-learning/master/sentiment-network/"


def _mnist(stem, md5, size):
    return Resource(urls=tuple(base + stem + ".gz" for base in _MNIST), filename=f"mnist/{stem}.gz",
                    md5=md5, size=size, about="MNIST digits, IDX format (LeCun, Cortes, Burges; CC BY-SA 3.0)")


def _vader(stem, md5, size, about):
    return Resource(urls=(_VADER + stem,), filename=f"vader_sentiment/{stem}", md5=md5, size=size,
                    about=f"VADER ground truth: {about} (Hutto & Gilbert 2014, MIT)")


REGISTRY = {
    "imdb": Resource(
        urls=("http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",),
        filename="aclImdb_v1.tar.gz", md5="7c2ac02c03563afcf9b574c7e56c153a",
        unpack="", provides="aclImdb",
        about="IMDB movie reviews, 25k train / 25k test (Maas et al. 2011)"),
    "movielens-100k": Resource(
        urls=("https://files.grouplens.org/datasets/movielens/ml-100k.zip",),
        filename="ml-100k.zip", md5="0e33842e24a9c977be4e0107933c0723", size=4_924_029,
        unpack="", provides="ml-100k",
        about="MovieLens 100k ratings (GroupLens; research use, no redistribution)"),
    "movielens-latest-small": Resource(
        urls=("https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",),
        filename="ml-latest-small.zip", unpack="", provides="ml-latest-small",
        about="MovieLens latest-small, ratings.csv + movies.csv (GroupLens; research use)"),
    "glove-6b": Resource(
        urls=("https://nlp.stanford.edu/data/glove.6B.zip",),
        filename="glove.6B.zip", unpack="glove.6B", provides="glove.6B",
        about="GloVe 6B word vectors, 50/100/200/300-d text files, 822 MB (PDDL)"),
    "mnist-train-images": _mnist("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422),
    "mnist-train-labels": _mnist("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432", 28_881),
    "mnist-test-images": _mnist("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3", 1_648_877),
    "mnist-test-labels": _mnist("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c", 4_542),
    "shakespeare": Resource(
        urls=("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
        filename="shakespeare/tinyshakespeare.txt", md5="6fb458f1232090904fb40fe944165e91",
        size=1_115_394, about="tiny Shakespeare, 1,115,394 characters (public domain)"),
    "vader-tweets": _vader("tweets_GroundTruth.txt", "61324c2b38494869ea3fbf0b55c11aff", 385_687,
                           "4,200 tweets"),
    "vader-movies": _vader("movieReviewSnippets_GroundTruth.txt", "c41338659cdbe0ba4c84fcf8eaca2904",
                           1_372_494, "10,605 movie-review snippets"),
    "vader-amazon": _vader("amazonReviewSnippets_GroundTruth.txt", "4e94cd4e84cec06d1b338f7266c19bad",
                           369_450, "3,708 product-review snippets"),
    "vader-nyt": _vader("nytEditorialSnippets_GroundTruth.txt", "290005cf0e07feca3b426835bb644b06",
                        602_440, "5,190 NYT editorial snippets"),
    "wnut17-train": Resource(
        urls=("https://raw.githubusercontent.com/leondz/emerging_entities_17/master/wnut17train.conll",),
        filename="wnut17/wnut17train.conll", md5="c213127d9438fb2c64fe0fabe8644489", size=493_781,
        about="WNUT-17 emerging entities NER, 3,394 tweets (CC BY 4.0)"),
    "trask-reviews": Resource(urls=(_UDACITY + "reviews.txt",), filename="trask/reviews.txt",
                              about="25,000 IMDB reviews, one per line (Trask / Udacity sentiment network)"),
    "trask-labels": Resource(urls=(_UDACITY + "labels.txt",), filename="trask/labels.txt",
                             about="positive/negative, one per line, aligned with trask-reviews"),
    "twitter-samples": Resource(
        urls=("https://raw.githubusercontent.com/nltk/nltk_data/gh-pages/packages/corpora/twitter_samples.zip",),
        filename="twitter_samples.zip", unpack="", provides="twitter_samples",
        about="NLTK twitter_samples: 5,000 positive + 5,000 negative tweets (Twitter terms)"),
    "quora-question-pairs": Resource(
        urls=("http://qim.fs.quoracdn.net/quora_duplicate_questions.tsv",),
        filename="quora/quora_duplicate_questions.tsv",
        about="Quora question pairs, 404k pairs (Quora terms of service)"),
    # md5 and size as published alongside the file by several independent loaders
    # (e.g. deep-table, CatBoost's dataset helpers) and in transfer logs of the UCI URL.
    "uci-adult": Resource(
        urls=("https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.data",),
        filename="adult/adult.data", md5="5d7c39d7b8804f071cdd1f2a7c460872", size=3_974_305,
        about="UCI Adult / Census Income, 32,561 people, income >50K or not (Kohavi & Becker 1996; CC BY 4.0)"),
    "gmb-ner": Resource(
        urls=(), filename="gmb/ner_dataset.csv",
        about="Kaggle 'Annotated Corpus for Named Entity Recognition' (GMB), ner_dataset.csv",
        notes="Kaggle requires a login: download ner_dataset.csv from "
              "https://www.kaggle.com/datasets/abhinavwalia95/entity-annotated-corpus by hand"),
    "google-analogies": Resource(
        urls=("http://download.tensorflow.org/data/questions-words.txt",),
        filename="analogies/questions-words.txt", sha1="fa92df4bbe788f2d51827c762c63bd8e470edf31",
        about="Google word-analogy questions, 19,544 in 14 sections (Mikolov et al. 2013)",
        notes="SHA-1 as published by GluonNLP's GoogleAnalogyTestSet"),
}

GROUPS = {
    "mnist": ("mnist-train-images", "mnist-train-labels", "mnist-test-images", "mnist-test-labels"),
    "mnist-test": ("mnist-test-images", "mnist-test-labels"),
    "vader": ("vader-tweets", "vader-movies", "vader-amazon", "vader-nyt"),
    "trask-sentiment": ("trask-reviews", "trask-labels"),
}


# SHA-256 of the files whose published MD5 we could confirm byte for byte (the copies
# in shared/data, the same bytes as the canonical URLs): a second, stronger check.
_SHA256 = {
    "mnist/t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "mnist/t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    "shakespeare/tinyshakespeare.txt": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    "vader_sentiment/amazonReviewSnippets_GroundTruth.txt":
        "e4559b1299fd793ab64794ba706421ce088b6c580b782529388997f7aedcc545",
    "vader_sentiment/movieReviewSnippets_GroundTruth.txt":
        "1f445408f0ece8973e6142dcc8bd08eea2faaf149b907de11bddda64fd62f5b0",
    "vader_sentiment/nytEditorialSnippets_GroundTruth.txt":
        "a27061dceb1c2edf53ac4894ee63071f5d235d1d7bac9be0098d1b0cc58f8f0a",
    "vader_sentiment/tweets_GroundTruth.txt": "1a553d326344f17de80a4782e0b7f5843cdacbf7719a4a321721c773015b7e64",
    "wnut17/wnut17train.conll": "731820e13f71af324c6b55a1575ec2ce59fbaa2a0806f8f0400b98d56cd6a7a5",
}
REGISTRY = {k: replace(r, sha256=_SHA256[r.filename]) if r.filename in _SHA256 else r
            for k, r in REGISTRY.items()}
