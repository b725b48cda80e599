"""`haven serve`: the web UI and API under gunicorn, a production WSGI server.

Static files are served by WhiteNoise from the installed package, so nothing needs
collecting first. The matcher's index is built in each worker at start-up, before it
accepts requests, so the first lookups are as fast as the rest.
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

__all__ = ["Command"]


def _workers_default() -> int:
    return max(2, min(8, (os.cpu_count() or 1) + 1))


class Command(BaseCommand):
    help = "Run Haven's web UI and API with gunicorn."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")
        parser.add_argument(
            "--workers",
            type=int,
            default=_workers_default(),
            help="server processes (default: CPUs + 1, 2 to 8)",
        )
        parser.add_argument(
            "--threads", type=int, default=4, help="threads per process (default 4)"
        )
        parser.add_argument(
            "--timeout", type=int, default=60, help="seconds before a stuck request is ended"
        )
        parser.add_argument(
            "--access-log",
            default="-",
            help="where the access log goes: a file, '-' for stdout (default), 'off' for none",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        from haven.web.wsgi import application

        if not 0 < options["port"] < 65536:
            raise CommandError(f"--port must be 1..65535, got {options['port']}")
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1")
        bind = f"{options['host']}:{options['port']}"
        config = {
            "bind": bind,
            "workers": options["workers"],
            "threads": options["threads"],
            "worker_class": "gthread" if options["threads"] > 1 else "sync",
            "timeout": options["timeout"],
            "graceful_timeout": 20,
            "keepalive": 5,
            "accesslog": None if options["access_log"] == "off" else options["access_log"],
            "errorlog": "-",
            "loglevel": "warning",
            "limit_request_line": 8190,
            "limit_request_fields": 100,
            "post_worker_init": _warm_worker,
        }

        class HavenServer(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for key, value in config.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                return application

        self.stdout.write(f"Haven serving on http://{bind}/ ({options['workers']} workers)")
        HavenServer().run()


def _warm_worker(worker: Any) -> None:
    """Build the matcher's index before the worker takes requests."""
    from haven.banks.matcher import warm_up

    warm_up()
