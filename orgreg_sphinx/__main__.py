"""``python -m orgreg_sphinx``: the ``orgreg`` command line."""

import sys

from .cli import main

sys.exit(main())
