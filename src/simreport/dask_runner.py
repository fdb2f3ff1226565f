"""Run the tile pass on dask.distributed (optional extra ``simreport[dask]``).

The unit vectors are scattered to every worker once; each task is one work unit of
:func:`simreport.engine.band_tasks` (a long band paired with a short one) and returns
a :class:`~simreport.engine.Partial`; partials are merged on the cluster as a tree,
so only the final partial travels back. Results are identical to the local runners.
"""

from __future__ import annotations

from simreport.engine import (
    EngineSettings,
    Partial,
    ProgressCallback,
    band_tasks,
    merge,
    run_task,
    single_threaded_blas,
    task_tiles,
)


def _task(unit, task: tuple[int, ...], settings: EngineSettings) -> Partial:
    with single_threaded_blas():
        return run_task(unit, task, settings)


def check_scheduler(address: str, timeout: float = 5.0) -> None:
    """Refuse, before any computing, a dask scheduler address that does not answer."""
    import socket
    from urllib.parse import urlsplit

    scheme, _, rest = address.rpartition("://")
    if scheme not in ("", "tcp", "tls"):
        return  # other transports are checked when the client connects
    try:
        parts = urlsplit(f"//{rest}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise ValueError(f"--scheduler {address}: not a scheduler address; give tcp://HOST:PORT "
                         "(engine.scheduler in the configuration)")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or "timed out"
        raise ValueError(f"--scheduler {address}: cannot connect ({reason}); start the dask scheduler "
                         "or fix the address (engine.scheduler in the configuration)") from None


def _connect(address: str | None, workers: int):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("the dask engine needs the optional extra: pip install 'simreport[dask]'") from None
    if address:
        try:
            return Client(address, timeout="10s"), None
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"--scheduler {address}: cannot connect ({exc}); start the dask scheduler "
                             "or fix the address (engine.scheduler in the configuration)") from None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                           dashboard_address=None)
    return Client(cluster), cluster


def run_dask(unit, settings: EngineSettings, progress: ProgressCallback | None = None,
             client=None) -> Partial:
    """The whole upper triangle as dask tasks; ``client`` may be an existing Client."""
    own = None
    cluster = None
    if client is None:
        client, cluster = _connect(settings.scheduler, settings.workers)
        own = client
    try:
        # a local cluster runs its tasks as threads of this process, where BLAS limits are
        # process-wide: hold one thread for the whole pass, so that no task ending early lifts
        # the limit under another (tiles must not depend on timing)
        with single_threaded_blas():
            return _run(client, unit, settings, progress)
    finally:
        if own is not None:
            own.close()
        if cluster is not None:
            cluster.close()


def _run(client, unit, settings: EngineSettings, progress: ProgressCallback | None) -> Partial:
    from distributed import as_completed

    shared = client.scatter(unit, broadcast=True, hash=False)
    tasks = band_tasks(unit.shape[0], settings.tile_size)
    futures = [client.submit(_task, shared, task, settings, pure=False) for task in tasks]
    sizes = {f.key: task_tiles(t, unit.shape[0], settings.tile_size) for f, t in zip(futures, tasks, strict=True)}
    level = list(futures)
    if progress is not None:
        for done in as_completed(futures):
            progress(sizes[done.key])
    while len(level) > 1:
        level = [client.submit(merge, level[k], level[k + 1]) if k + 1 < len(level) else level[k]
                 for k in range(0, len(level), 2)]
    return level[0].result()
