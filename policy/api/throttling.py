"""DRF's anonymous and per-user throttles, with their rates read when a request comes.

DRF copies DEFAULT_THROTTLE_RATES into its throttle classes when they are imported, so a
changed setting (as in a test) would go unseen.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class UserRateThrottle(throttling.UserRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
