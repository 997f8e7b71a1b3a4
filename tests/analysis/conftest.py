"""The conduct fixtures (seed sites, studies, one user per role) for the dataset loader's
database tests."""

from tests.conduct.conftest import _protocols, setup, setup_roles  # noqa: F401
