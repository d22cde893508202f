"""Run the whole service in the foreground: web server, Celery worker and scheduler.

This is what `make run` ends with. Each part is its own process, as in production; if one
stops, the others are stopped too, and Ctrl-C stops all three.
"""

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run web (gunicorn), a Celery worker and Celery beat together, in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("DIX_BIND", "127.0.0.1:8000"))
        parser.add_argument("--worker-concurrency", type=int, default=2)

    def handle(self, *args: Any, **opts: Any) -> None:
        python = sys.executable
        bin_dir = os.path.dirname(python)
        commands = {
            "web": [
                os.path.join(bin_dir, "gunicorn"),
                "--config",
                str(settings.BASE_DIR / "config" / "gunicorn.py"),
                "--bind",
                opts["bind"],
                "config.wsgi",
            ],
            "worker": [
                os.path.join(bin_dir, "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(opts["worker_concurrency"]),
            ],
            "scheduler": [
                os.path.join(bin_dir, "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
        url = f"http://{opts['bind']}"
        self.stdout.write(
            f"\nDIX is starting on {url}/\n"
            f"  API:       {url}/api/v1/\n"
            f"  API docs:  {url}/api/docs/  (ReDoc: {url}/api/redoc/)\n"
            f"  Admin:     {url}/admin/\n"
            f"  Health:    {url}/healthz  {url}/readyz\n"
            f"  Broker:    {settings.CELERY_BROKER_URL}   Database: "
            f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}\n"
            "Ctrl-C stops web, worker and scheduler.\n"
        )
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with {process.returncode}; stopping.")
                    exit_code = process.returncode or 1
                    stopping = True
            time.sleep(0.5)
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        sys.exit(exit_code)
