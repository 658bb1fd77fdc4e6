"""Django's PostgreSQL backend, as `config/settings/base.py` configures it (see `base.py`)."""
