"""``python -m bot.wordvec``: see :mod:`bot.wordvec.fetch`."""

import sys

from bot.wordvec.fetch import main

sys.exit(main())
