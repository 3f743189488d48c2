"""Shared test settings: a modest hypothesis profile so the whole suite stays fast."""
import os
import sys

from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))  # tests/gradcheck.py is importable as `gradcheck`

settings.register_profile("minifer", max_examples=25, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", parent=settings.get_profile("minifer"), max_examples=500)  # before a release
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "minifer"))
