"""django-redis's client for the site's caches, with a faster way to read a value."""

import re
from contextlib import suppress

from django_redis.client import DefaultClient
from django_redis.exceptions import CompressorError

# How an integer is stored: django-redis writes it as its digits, as Redis's INCR does.
STORED_INTEGER = re.compile(rb"-?[0-9]+")


class RedisClient(DefaultClient):
    """django-redis's client, which tells a stored integer by its digits before trying int().

    django-redis stores integers as their digits and any other value serialized, and reads each
    value by trying int() on it first. On a serialized value, int() raises a ValueError whose
    message quotes the value's first 200 bytes: a third of the time it takes to decode a kept page.
    """

    def decode(self, value):
        if isinstance(value, bytes) and not STORED_INTEGER.fullmatch(value):
            # As django-redis does: a compressor leaves small values as they are.
            with suppress(CompressorError):
                value = self._compressor.decompress(value)
            return self._serializer.loads(value)
        return super().decode(value)
