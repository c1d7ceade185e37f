"""Where ``--data`` and ``$MINIDL_DATA_DIR`` lead each lesson (resolution only: no lesson is trained here).

Against the folders of ../shared/data (skipped when absent): which lesson reads which
dataset, given the dataset's folder, the folder of all datasets, or the file itself.
Against wrong paths: one line naming the lesson, what it looked for and where; the
command line exits 2 without a traceback.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from lessons import data as lesson_data
from lessons.__main__ import lesson_files
from minidl.datasets.paths import DataNotFoundError

ROOT = Path(__file__).resolve().parent.parent

# dataset folder of ../shared/data -> (the lessons that read it, the path each one is handed)
READS = {
    "shakespeare": ({"02_char_language_model", "06_glove", "07_ngram_lm", "08_big_softmax"}, "shakespeare/tinyshakespeare.txt"),
    "vader_sentiment": ({"01_tweet_sentiment": "vader_sentiment/tweets_GroundTruth.txt",
                         "03_bag_of_words": "vader_sentiment/movieReviewSnippets_GroundTruth.txt",
                         "05_text_vectorization": "vader_sentiment"}, None),
    "mnist": ({"14_convolutions"}, "mnist"),
    "wnut17": ({"10_ner"}, "wnut17/wnut17train.conll"),
}
NO_DATA = {"04_word_maps", "09_vanishing_gradients"}


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv("MINIDL_DATA_DIR", raising=False)


def _expected(dataset, lesson):
    lessons, handed = READS[dataset]
    if isinstance(lessons, dict):
        return lessons.get(lesson)
    return handed if lesson in lessons else None


def test_every_lesson_file_has_a_data_description():
    assert {p.stem for p in lesson_files()} == set(lesson_data.SPECS)


@pytest.mark.parametrize("dataset", list(READS))
@pytest.mark.parametrize("lesson", sorted(lesson_data.SPECS))
def test_each_dataset_folder_resolves_for_the_lessons_that_read_it(shared_data, lesson, dataset):
    want = _expected(dataset, lesson)
    folder = shared_data / dataset
    if lesson in NO_DATA:
        with pytest.raises(DataNotFoundError, match="takes no --data"):
            lesson_data.resolve(lesson, folder)
        return
    if want is None:
        with pytest.raises(DataNotFoundError, match=rf"^{lesson}: nothing it reads in .*{dataset}.*looked for .*it holds") as info:
            lesson_data.resolve(lesson, folder)
        assert "\n" not in str(info.value)
        return
    assert lesson_data.resolve(lesson, folder) == shared_data / want
    assert lesson_data.resolve(lesson, shared_data) == shared_data / want           # the folder of all datasets
    handed = shared_data / want
    if handed.is_file():                                                            # the file itself
        assert lesson_data.resolve(lesson, handed) == handed
    else:                                                                           # one file of the folder
        assert lesson_data.resolve(lesson, next(handed.glob("*GroundTruth.txt")) if dataset == "vader_sentiment"
                                   else next(handed.iterdir())) == handed


@pytest.mark.parametrize("lesson", sorted(set(lesson_data.SPECS) - NO_DATA))
def test_a_missing_path_is_one_line_naming_the_lesson_and_what_it_reads(lesson, tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        lesson_data.resolve(lesson, tmp_path / "nowhere")
    msg = str(info.value)
    assert msg.startswith(f"{lesson}: --data ") and "does not exist" in msg and "expected" in msg and "\n" not in msg
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataNotFoundError, match=rf"{lesson}: nothing it reads in .*empty.*it holds nothing"):
        lesson_data.resolve(lesson, empty)


def test_a_file_for_a_folder_lesson_and_a_nested_folder(tmp_path):
    stray = tmp_path / "notes.md"
    stray.write_text("hello")
    with pytest.raises(DataNotFoundError, match="is a file, but this lesson reads MNIST's IDX files"):
        lesson_data.resolve("14_convolutions", stray)
    deep = tmp_path / "downloads" / "movielens" / "ml-100k"
    deep.mkdir(parents=True)
    (deep / "u.data").write_text("")
    (deep / "u.item").write_text("")
    assert lesson_data.resolve("12_collab_filtering", tmp_path) == deep             # three levels down
    assert lesson_data.resolve("12_collab_filtering", deep / "u.data") == deep
    assert lesson_data.resolve("13_tabular_embeddings", stray) == stray             # a file: its loader checks it


def test_the_data_dir_variable(monkeypatch, tmp_path, shared_data, capsys):
    monkeypatch.setenv("MINIDL_DATA_DIR", str(shared_data))
    assert lesson_data.resolve("14_convolutions", None) == shared_data / "mnist"
    assert "found in $MINIDL_DATA_DIR" in capsys.readouterr().out
    assert lesson_data.resolve("13_tabular_embeddings", None) is None               # not there: embedded data
    assert "using the embedded data" in capsys.readouterr().out
    assert lesson_data.resolve("09_vanishing_gradients", None) is None
    monkeypatch.setenv("MINIDL_DATA_DIR", str(tmp_path / "typo"))
    with pytest.raises(DataNotFoundError, match="MINIDL_DATA_DIR is .*typo.*not a folder"):
        lesson_data.resolve("02_char_language_model", None)
    monkeypatch.delenv("MINIDL_DATA_DIR")
    assert lesson_data.resolve("02_char_language_model", None) is None              # ../shared/data is not searched


def _cli(*args, env_dir=None):
    import os
    env = {k: v for k, v in os.environ.items() if k != "MINIDL_DATA_DIR"}
    if env_dir is not None:
        env["MINIDL_DATA_DIR"] = str(env_dir)
    return subprocess.run([sys.executable, "-m", "lessons", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["02", "--data", "no/such/place"], "error: 02_char_language_model: --data no/such/place does not exist"),
    (["09", "--data", "."], "error: 09_vanishing_gradients takes no --data"),
    (["04", "--vectors", "no/such/vectors.txt"], "error: 04_word_maps: word-vector file no/such/vectors.txt does not exist"),
])
def test_the_command_line_says_it_in_one_line_and_exits_2(args, message, tmp_path):
    done = _cli(*args, "--quick", "--out", str(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().startswith(message) and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_file_of_the_wrong_format_is_one_line_too(tmp_path):
    binary = tmp_path / "corpus.txt"
    binary.write_bytes(b"\x80\x81\x82 not text")
    done = _cli("07", "--quick", "--data", str(binary), "--out", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"error: 07_ngram_lm: {binary}, line 1: not valid utf-8 (invalid start byte at byte 0)"


def test_a_bad_data_dir_variable_stops_the_command_line(tmp_path):
    done = _cli("14", "--quick", "--out", str(tmp_path), env_dir=tmp_path / "typo")
    assert done.returncode == 2 and "MINIDL_DATA_DIR" in done.stderr and "Traceback" not in done.stderr


def test_a_lesson_of_your_own_gets_its_data_path_as_given(tmp_path):
    assert lesson_data.resolve("15_my_lesson", None) is None
    assert lesson_data.resolve("15_my_lesson", tmp_path) == tmp_path
    with pytest.raises(DataNotFoundError, match="does not exist"):
        lesson_data.resolve("15_my_lesson", tmp_path / "nowhere")
