"""What a report says about the embedding model (when a model embedded the texts): the
rows of its model table and one sentence for the mechanism section."""

from __future__ import annotations


def describe(block: dict | None) -> list[tuple[str, str]]:
    """Rows for the report's model table (empty when the embeddings did not come from a model)."""
    if not block:
        return []
    s = block.get("settings", {})
    max_length = s.get("max_length")
    truncated = s.get("truncated_texts")
    rows = [
        ("Model", block["name"]),
        ("Source", block["source"]),
        ("Fingerprint (SHA-256)", block["fingerprint"] or "none"),
        ("Fingerprint covers", block["fingerprint_method"]),
        ("Embedding dimension", f"{block['dim']:,}"),
        ("Texts embedded", f"{block['texts']:,} (SHA-256 of the texts {block['texts_sha256']})"),
        ("Normalisation", "L2 (unit length) at encoding" if s.get("normalize") else "none at encoding "
         "(the test scales every vector to unit length itself)"),
        ("Maximum length", "not applicable (Python encoder)" if max_length is None else
         f"{max_length:,} tokens" + _truncation_note(truncated)),
        ("Batch size", str(s.get("batch_size"))),
        ("Device", block.get("device") or "unknown"),
    ]
    libs = block.get("libraries") or {}
    if libs:
        rows.append(("Libraries", ", ".join(f"{k} {v}" for k, v in sorted(libs.items()))))
    if block.get("cache"):
        rows.append(("Embeddings cache", f"{block['cache']} (reused only while model fingerprint, texts, "
                                         "normalisation and maximum length all match)"))
    return rows


def _truncation_note(truncated: int | None) -> str:
    if truncated is None:
        return ""
    if truncated == 0:
        return "; no text was longer"
    return f"; {truncated:,} text{'s were' if truncated != 1 else ' was'} longer and cut to this length"


def summary_sentence(block: dict | None) -> str:
    """One sentence for the mechanism section."""
    if not block:
        return ""
    s = block.get("settings", {})
    parts = [f"The {block['texts']:,} texts were embedded by the model {block['name']}"]
    if block.get("fingerprint"):
        parts.append(f" (fingerprint {block['fingerprint'][:16]}\u2026)")
    parts.append(f" in batches of {s.get('batch_size')}")
    if s.get("max_length") is not None:
        parts.append(f", each cut to at most {s['max_length']:,} tokens")
    parts.append(", with vectors scaled to unit length by the model" if s.get("normalize")
                 else ", taking the vectors as the model returned them")
    parts.append(".")
    truncated = s.get("truncated_texts")
    if truncated:
        parts.append(f" {truncated:,} text{'s were' if truncated != 1 else ' was'} longer than the maximum length; "
                     "only the beginning of such a text is represented by its embedding.")
    return "".join(parts)


def report_context(block: dict | None) -> dict | None:
    """What the report templates show about the model (None when no model was involved)."""
    if not block:
        return None
    return {"name": block["name"], "fingerprint": block.get("fingerprint"), "rows": describe(block),
            "sentence": summary_sentence(block)}
