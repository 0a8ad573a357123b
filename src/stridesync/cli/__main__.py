"""``python -m stridesync.cli``: the ``stridesync`` command."""

import sys

from . import main

sys.exit(main())
