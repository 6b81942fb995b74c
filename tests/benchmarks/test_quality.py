"""The quality benchmark runs end to end at a tiny size and prints its three tables.

The multimodal part is scored on one of its four datasets here (each dataset compiles a model
of its own shapes, so all four would take minutes); the other three are checked to load."""

import json
import math

import numpy as np
import pytest

from tests.scripts import load_script


@pytest.mark.filterwarnings("ignore::mmdbm.AISWarning")  # 16 chains x 100 betas
def test_the_likelihood_and_flip_parts_run_at_a_tiny_size_and_write_every_row(tmp_path, capsys):
    quality = load_script("benchmarks/quality.py")
    results = quality.main("tiny", tmp_path / "quality.json", parts=("mnist", "flip"))
    assert json.loads((tmp_path / "quality.json").read_text()) == results
    budgets = len(quality.SIZES["tiny"]["budgets"])
    assert len(results["mnist"]) == budgets * 2 * 3  # x centering x (RBM, DBM pretrained or not)
    for key in ("test_log_likelihood", "second_test_log_likelihood", "reverse_test_log_likelihood"):
        assert all(math.isfinite(r[key]) for r in results["mnist"])
    assert [r["centered"] for r in results["flip"]] == [True, False]
    output = capsys.readouterr().out
    assert "MNIST" in output and "flip invariance" in output


def test_the_multimodal_part_pairs_four_datasets_and_scores_a_row(capsys):
    quality = load_script("benchmarks/quality.py")
    size = quality.SIZES["tiny"]
    datasets = quality.paired_datasets(size)
    assert [d["name"] for d in datasets] == [
        "mnist_tags",
        "digits_tags",
        "multifeature pix + fou",
        "multifeature fac + kar",
    ]
    for dataset in datasets:
        assert len(dataset["train"][dataset["query"]]) == len(dataset["train"]["labels"])
    row = quality.multimodal_robustness(datasets[1], size["multimodal_epochs"])
    assert row["dataset"] == "digits_tags"
    assert row["floor"] <= row["ceiling"]
    assert all(
        math.isfinite(row[key])
        for key in (
            "joint",
            "query_only",
            "unimodal_dbm",
            "generated",
            "joint_spread",
            "generated_expected_gap_closed",
            "peer_kNN_expected_gap_closed",
            "peer_ridge_expected_gap_closed",
            "generated_class_share",
            "class_share_needed",
        )
    )
    quality.print_tables({"multimodal": [row]})
    assert "digits_tags: class share of the generated tags" in capsys.readouterr().out


def test_the_expected_precision_of_the_generators_own_ranking_is_its_ceiling():
    quality = load_script("benchmarks/quality.py")
    presence = quality.tag_presence_by_class()
    # A tagged document has 2 to 8 distinct tags, 5 on average, whatever its digit.
    np.testing.assert_allclose(presence.sum(axis=1), 5.0, rtol=0.02)
    labels = np.arange(10).repeat(3)
    best = quality.expected_tag_precision(presence[labels], labels)
    by_chance = np.random.default_rng(0).random((30, presence.shape[1]))
    assert best > quality.expected_tag_precision(by_chance, labels) + 0.1
    # Three class words of each digit, each drawn with probability 0.15 / 3 per tag.
    assert np.all(presence[np.arange(10), 3 * np.arange(10)] > 0.1)


def _clustered_pairs(shuffled: bool) -> list[dict]:
    """Two paired datasets whose query is a noisy point near its class's centre: one whose
    documents hold two words of their class among noise words, one whose other view is another
    point near the class's centre. ``shuffled`` pairs each query with another example's."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 600)
    query = 3.0 * rng.normal(size=(10, 20))[labels] + rng.normal(size=(600, 20))
    words = np.zeros((600, 40), np.float32)
    words[:, :20] = rng.random((600, 20)) < 0.3
    words[np.arange(600), 20 + 2 * labels] = words[np.arange(600), 21 + 2 * labels] = 1.0
    view = 3.0 * rng.normal(size=(10, 8))[labels] + rng.normal(size=(600, 8))
    if shuffled:
        query = query[rng.permutation(600)]
    datasets = []
    for other, count in ((words, True), (view, False)):
        data = {"query": query, "other": other, "labels": labels}
        datasets.append(
            {
                "query": "query",
                "other": "other",
                "count": count,
                "train": {k: v[:400] for k, v in data.items()},
                "test": {k: v[400:] for k, v in data.items()},
            }
        )
    return datasets


@pytest.mark.parametrize("shuffled", [False, True])
def test_the_peers_predict_the_other_modality_as_far_as_the_query_tells_it(shuffled):
    quality = load_script("benchmarks/quality.py")
    for dataset in _clustered_pairs(shuffled):
        for name, predicted in quality.peer_predictions(dataset).items():
            closed = quality.gap_closed(*quality.generation_score(dataset, predicted))
            if shuffled:
                assert abs(closed) < 0.2, (dataset["count"], name, closed)
            else:
                assert closed > 0.8, (dataset["count"], name, closed)


def test_more_documents_an_image_keep_the_first_ones_and_add_fresh_ones():
    quality = load_script("benchmarks/quality.py")
    train, test = quality.digits_tags_splits()
    more_train, more_test = quality.digits_tags_splits(3)
    for key in train:
        np.testing.assert_array_equal(more_train[key][: len(train[key])], train[key])
        np.testing.assert_array_equal(more_test[key], test[key])
    extra = {key: values[len(train["labels"]) :] for key, values in more_train.items()}
    assert 1.5 * len(train["labels"]) < len(extra["labels"]) < 2.5 * len(train["labels"])
    # Every extra document belongs to a training image, under that image's label...
    images = {
        row.tobytes(): label for row, label in zip(train["image"], train["labels"], strict=True)
    }
    untagged_first_time = 0
    for image, label in zip(extra["image"], extra["labels"], strict=True):
        if image.tobytes() in images:
            assert images[image.tobytes()] == label
        else:
            untagged_first_time += 1
    assert untagged_first_time < 0.3 * len(extra["labels"])
    # ...and is drawn afresh: few documents repeat their image's first one.
    first = {row.tobytes(): text for row, text in zip(train["image"], train["text"], strict=True)}
    repeats = sum(
        np.array_equal(first[image.tobytes()], text)
        for image, text in zip(extra["image"], extra["text"], strict=True)
        if image.tobytes() in first
    )
    assert repeats < 0.05 * len(extra["labels"])


def test_the_class_share_of_a_mixture_is_its_weight_and_the_target_needs_a_sharp_one():
    quality = load_script("benchmarks/quality.py")
    digits = quality.paired_datasets(quality.SIZES["tiny"])[1]
    by_class, frequencies = quality.tag_distributions(digits)
    for share in (0.0, 0.3, 1.0):
        mixture = share * by_class + (1 - share) * frequencies
        assert quality.tag_class_share(digits, 7.0 * mixture) == pytest.approx(share, abs=1e-6)
    needed = quality.tag_class_share_needed(digits)
    assert 0.0 < needed <= 1.0

    def closed(share):
        scores = share * by_class + (1 - share) * frequencies
        return quality.gap_closed(*quality.expected_tag_scores(digits, scores))

    assert closed(needed) >= quality.GAP_TARGET > closed(needed - 0.01)
