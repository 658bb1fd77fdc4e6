"""Django's PostgreSQL backend, told how many parameters PostgreSQL binds in one query.

With the parameters bound on the server (`server_side_binding`), a query takes at most 65,535 of
them. Django 5.2 does not know it (Django's main branch does since January 2026: ticket #36822),
so `in_bulk` and the deletion of many related rows would send one query with too many parameters
rather than split it, as they do on SQLite.
"""

from django.db.backends.postgresql import base, features, operations
from django.utils.functional import cached_property

# https://www.postgresql.org/docs/current/limits.html: "query parameters".
SERVER_SIDE_PARAMETERS = 2**16 - 1


class DatabaseFeatures(features.DatabaseFeatures):
    @cached_property
    def max_query_params(self):
        if self.connection.settings_dict["OPTIONS"].get("server_side_binding"):
            return SERVER_SIDE_PARAMETERS
        return super().max_query_params


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields, objs):
        """The rows of one query, with a parameter for each of their fields (the app's models
        have no composite primary key, which would take one for each of its columns)."""
        limit = self.connection.features.max_query_params
        if limit is None or not fields:
            return super().bulk_batch_size(fields, objs)
        return limit // len(fields)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations
