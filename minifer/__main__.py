"""``python -m minifer``: the command line (``minifer/cli``)."""
import sys

from .cli import main

sys.exit(main())
