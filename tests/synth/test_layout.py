import json
from collections import Counter
from pathlib import Path

from muscall.data.labelled import read_labelled_set
from muscall.synth.clip import genre_plan
from muscall.synth.layout import assign_splits, split_counts
from muscall.synth.styles import GENRES


def test_split_counts_are_exact_and_never_empty():
    assert split_counts(1200, 0.1, 0.1) == {"train": 960, "val": 120, "test": 120}
    assert split_counts(5, 0.1, 0.1) == {"train": 3, "val": 1, "test": 1}
    assert split_counts(10, 0.0, 0.2) == {"train": 8, "val": 0, "test": 2}


def test_splits_are_stratified_by_genre_and_deterministic():
    genres = genre_plan(0, 1200)
    assert Counter(genres) == {genre: 120 for genre in GENRES}
    splits = assign_splits(genres, 0, 0.1, 0.1)
    assert splits == assign_splits(genres, 0, 0.1, 0.1)
    assert splits != assign_splits(genres, 1, 0.1, 0.1)
    assert Counter(genres[i] for i in splits["test"]) == {genre: 12 for genre in GENRES}
    assert sorted(sum(splits.values(), [])) == list(range(1200))


def test_zeroshot_sets_hold_test_clips_with_known_labels(tiny_build):
    root, _ = tiny_build
    test = {e["audio_path"]: e for e in json.loads((root / "synthmusic_test.json").read_text())}
    for name in ("genre", "tags"):
        path = root / "zeroshot" / f"{name}.json"
        data = json.loads(path.read_text())
        assert data["type"] == ("classification" if name == "genre" else "tagging")
        assert len(data["items"]) == len(test)
        for item in data["items"]:
            audio = (path.parent / item["audio_path"]).resolve()
            assert audio.is_file()
            entry = test[str(Path(audio).relative_to(root.resolve()))]
            labels = [item["label"]] if name == "genre" else item["labels"]
            assert set(labels) <= set(data["labels"])
            if name == "genre":
                assert item["label"] == entry["attributes"]["genre"]
            else:
                assert (
                    entry["attributes"]["mood"] in labels
                    or entry["attributes"]["mood"] not in (data["labels"])
                )
        assert read_labelled_set(path).labels == tuple(data["labels"])  # the project's reader
    genre = json.loads((root / "zeroshot" / "genre.json").read_text())
    assert genre["labels"] == list(GENRES)
