"""gunicorn settings for DIX: `gunicorn -c config/gunicorn.py config.wsgi`.

Logs (error and access) as one JSON object per line, like the rest of DIX.
"""

import os

from config.env import JSON_LOG_FORMATTER

bind = os.environ.get("DIX_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("DIX_WEB_WORKERS", "2"))
# Threads let a worker overlap database waits; the ORM keeps one connection per thread.
threads = int(os.environ.get("DIX_WEB_THREADS", "4"))
timeout = 30
accesslog = "-"
errorlog = "-"
access_log_format = (
    '{"method": "%(m)s", "path": "%(U)s", "status": %(s)s, "bytes": %(B)s, '
    '"duration_us": %(D)s, "remote": "%(h)s"}'
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": JSON_LOG_FORMATTER,
        "access": {
            "format": '{"logger": "gunicorn.access", "time": "%(asctime)s", "request": %(message)s}'
        },
    },
    "handlers": {
        "error": {"class": "logging.StreamHandler", "formatter": "json"},
        "access": {"class": "logging.StreamHandler", "formatter": "access"},
    },
    "root": {"handlers": ["error"], "level": "INFO"},
    "loggers": {
        "gunicorn.error": {"handlers": ["error"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}
