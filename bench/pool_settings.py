"""The production settings with psycopg's connection pool, for bench/connection_reuse.py only.

Each sync worker serves one request at a time, so its pool needs one connection, two at most.
https://docs.djangoproject.com/en/5.2/ref/databases/#connection-pool
"""

from config.settings.production import *  # noqa: F403
from config.settings.production import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 2}}
