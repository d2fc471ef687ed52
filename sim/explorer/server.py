"""Serve the what-if page on 127.0.0.1 with Solara's Starlette app under uvicorn.

This is what ``solara run`` does, without its extras that do not belong in an analyst's local tool: no
telemetry and no version check (both call the internet), no auto-restart, production mode (no
development tools in the page).
"""

from __future__ import annotations

import os
import socket

from sim.errors import UserError

APP = "sim.explorer.app"


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def serve(scenario: str | None, port: int, host: str = "127.0.0.1", workers: int | None = None,
          runs: int = 2000, on_ready=None) -> None:
    """Serve the page until interrupted (Ctrl-C, SIGTERM); stop the page's workers on the way out.

    Parameters
    ----------
    scenario : str, optional
        Scenario the page opens with (default ``scenarios/baseline.yaml``).
    port, host :
        Where to listen.
    workers : int, optional
        Worker processes for the page's runs (default one per core).
    runs : int
        Replicates per run the page starts with.
    on_ready : callable, optional
        Called with the URL once the server listens.
    """
    # before solara is imported: it reads its settings from the environment
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ["SOLARA_APP"] = APP
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    # the page's starting state is read from the environment when its module is imported (below)
    for name, value in (("NEGSIM_EXPLORE_SCENARIO", scenario), ("NEGSIM_EXPLORE_WORKERS", workers),
                        ("NEGSIM_EXPLORE_RUNS", runs)):
        if value is not None:
            os.environ[name] = str(value)
    import uvicorn
    from solara.server import settings

    from sim.explorer import app as app_module

    settings.main.mode = "production"
    settings.telemetry.mixpanel_enable = False
    try:
        with socket.socket() as s:
            s.bind((host, port))
    except OSError as err:
        raise UserError(f"port {port} on {host} is not free ({err.strerror}); "
                        f"choose another with --port") from None
    app_module.engine()  # the workers import the model while the server starts
    config = uvicorn.Config("solara.server.starlette:app", host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    if on_ready is not None:
        import threading
        import time

        def wait_and_tell() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                on_ready(f"http://{host}:{port}/")

        threading.Thread(target=wait_and_tell, daemon=True).start()
    try:
        server.run()
    finally:
        app_module.shutdown()
