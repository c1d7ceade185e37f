"""md.metrics.entity_spans / entity_scores: conlleval's chunk rules on hand-made tag sequences."""
import numpy as np
import pytest

import minidl as md
from minidl.metrics import entity_scores, entity_spans


@pytest.mark.parametrize("tags, spans", [
    (["B-per", "I-per", "O", "B-geo"], [("per", 0, 2), ("geo", 3, 4)]),
    ([], []),
    (["O", "O"], []),
    (["B-geo", "I-geo", "I-geo"], [("geo", 0, 3)]),                    # an entity at the very end
    # broken BIO, read the conlleval way:
    (["O", "I-per", "I-per"], [("per", 1, 3)]),                        # I without B starts an entity
    (["I-per", "O"], [("per", 0, 1)]),                                 # ... also at position 0
    (["B-per", "I-geo"], [("per", 0, 1), ("geo", 1, 2)]),              # type change: end + start
    (["I-per", "I-geo", "I-geo"], [("per", 0, 1), ("geo", 1, 3)]),
    (["B-per", "B-per", "I-per"], [("per", 0, 1), ("per", 1, 3)]),     # B always starts a new one
    (["B-per", "O", "I-per"], [("per", 0, 1), ("per", 2, 3)]),         # O ends; the I restarts
    (["B-creative-work", "I-creative-work"], [("creative-work", 0, 2)]),   # hyphen inside the type
])
def test_entity_spans_follow_conlleval(tags, spans):
    assert entity_spans(tags) == spans


def test_scores_need_span_and_type_to_match():
    gold = [["B-per", "I-per", "O", "B-geo", "I-geo"], ["B-org", "O", "B-tim"]]
    pred = [["B-per", "O", "O", "B-geo", "I-geo"],          # per cut short: wrong; geo right
            ["B-geo", "O", "B-tim"]]                          # org typed as geo: wrong; tim right
    s = entity_scores(gold, pred)
    assert (s.n_true, s.n_pred, s.n_correct) == (4, 4, 2)
    assert s.precision == s.recall == s.f1 == 0.5
    assert (s.per_type["per"].n_correct, s.per_type["geo"].n_pred, s.per_type["geo"].n_correct) == (0, 2, 1)
    assert s.per_type["tim"].f1 == 1.0 and s.per_type["org"].recall == 0.0


def test_precision_and_recall_differ_and_f1_is_their_harmonic_mean():
    gold = ["B-per", "O", "B-geo", "O", "B-org"]
    pred = ["B-per", "O", "O", "O", "O"]                      # one right, two missed
    s = entity_scores(gold, pred)
    assert s.precision == 1.0 and s.recall == pytest.approx(1 / 3)
    assert s.f1 == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3))


def test_token_accuracy_can_be_high_while_entity_f1_is_zero():
    gold = ["O"] * 18 + ["B-per", "I-per"]
    pred = ["O"] * 18 + ["B-per", "O"]                        # 19/20 tokens right, the entity wrong
    s = entity_scores(gold, pred)
    assert s.f1 == 0.0 and s.precision == 0.0 and s.recall == 0.0


def test_entities_do_not_cross_sentences_and_predicting_nothing_scores_zero():
    # as one sentence, the I-per would continue the B-per; split, it starts a new entity
    assert entity_scores([["B-per"], ["I-per"]], [["B-per"], ["I-per"]]).n_true == 2
    assert entity_scores([["B-per", "I-per"]], [["B-per", "I-per"]]).n_true == 1
    s = entity_scores([["B-per", "O"]], [["O", "O"]])
    assert (s.precision, s.recall, s.f1, s.n_pred) == (0.0, 0.0, 0.0, 0)


def test_ids_with_id_to_tag_and_numpy_rows():
    names = ["O", "B-geo", "I-geo", "B-per"]
    gold = np.array([[1, 2, 0, 3], [0, 3, 0, 0]])
    pred = np.array([[1, 2, 0, 0], [0, 3, 0, 1]])
    s = entity_scores(gold, pred, id_to_tag=names)
    assert (s.n_true, s.n_pred, s.n_correct) == (3, 3, 2)
    assert "overall" in s.table() and "geo" in s.table()


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"sentence 1 has 2 gold tags but 3 predicted"):
        entity_scores([["O"], ["O", "O"]], [["O"], ["O", "O", "O"]])
    with pytest.raises(ValueError, match=r"2 gold sentences but 1 predicted"):
        entity_scores([["O"], ["O"]], [["O"]])
    with pytest.raises(ValueError, match=r"tag 'X-per' is not O, B-<type> or I-<type>"):
        entity_spans(["X-per"])
    with pytest.raises(ValueError, match=r"tag id 9 that id_to_tag does not name"):
        entity_scores([[0, 9]], [[0, 0]], id_to_tag=["O", "B-x"])


def test_reexported_from_md_metrics():
    assert md.metrics.entity_scores is entity_scores
