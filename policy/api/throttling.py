"""The API's rate limits: one for anonymous clients, by address, and one for each signed-in user.

Each limit counts the requests of a fixed window (a minute for "120/minute") in one number in
the cache, raised with a single atomic increment, and answers 429 until the window ends; Retry-After
says when. DRF's own throttles keep the time of every request in the period instead, a list read
and written whole on every request, whose cost grows with the rate.

The rates are read when a request comes: DRF copies DEFAULT_THROTTLE_RATES into its throttle
classes when they are imported, so a changed setting (as in a test) would go unseen.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class WindowCountThrottle:
    """The requests of the current window, counted (mixed into DRF's SimpleRateThrottle).

    The page cache may have counted the request already, in the round trip that looked for its
    answer (policy/cache.py): the count is then taken from `request.rate_limit_counts`, so that a
    request that the view answers after all is not counted twice.
    """

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        counter = self.counter(request, view)
        if counter is None:
            return True
        counted_ahead = getattr(request, "rate_limit_counts", {})
        count = counted_ahead[counter] if counter in counted_ahead else self.count(counter)
        return self.allows(count)

    def counter(self, request, view):
        """The key of this window's count of the client's requests; None if it is not limited."""
        if self.rate is None:
            return None
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return None
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        return f"{self.key}:{window}"

    @property
    def counter_timeout(self):
        # One second more than the window, so that the count outlives it.
        return self.duration + 1

    def allows(self, count):
        # None from a cache that fails and ignores its errors: the limit lapses, not the API.
        return count is None or count <= self.num_requests

    def count(self, counter):
        """This request's number in the window: the first sets the count, the next raise it."""
        try:
            return self.cache.incr(counter)
        except ValueError:
            if self.cache.add(counter, 1, timeout=self.counter_timeout):
                return 1
            return self.cache.incr(counter)

    def wait(self):
        return self.window_ends_at - self.now


class AnonRateThrottle(WindowCountThrottle, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(WindowCountThrottle, throttling.UserRateThrottle):
    def get_cache_key(self, request, view):
        # Anonymous clients have their own limit, by address.
        if not request.user.is_authenticated:
            return None
        return super().get_cache_key(request, view)
