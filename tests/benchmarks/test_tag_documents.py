"""The tag-documents benchmark trains and scores its rows at a tiny size."""

import math

from tests.scripts import load_script


def test_the_rows_train_score_and_print(capsys):
    benchmark = load_script("benchmarks/tag_documents.py")
    quality = load_script("benchmarks/quality.py")
    dataset = benchmark.digits_tags(2, quality.SIZES["tiny"])
    assert len(dataset["train"]["labels"]) == quality.SIZES["tiny"]["multimodal_rows"]
    rows = [
        *benchmark.peer_rows(dataset, 2),
        benchmark.dbm_row(10, dataset, 2, "batch x documents", epochs=2),
    ]
    assert [r["model"] for r in rows] == ["peer kNN", "peer ridge", "DBM, batch x documents"]
    assert all(math.isfinite(r["expected_gap_closed"]) for r in rows)
    assert 0.0 <= rows[-1]["query_only"] <= 1.0 and rows[-1]["collapse_epoch"] in (None, 1, 2)
    benchmark.print_table(rows)
    assert "| 2 | DBM, batch x documents | 10 |" in capsys.readouterr().out
