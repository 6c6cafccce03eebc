"""`python -m depsat`."""

import sys

from depsat.cli import main

sys.exit(main())
