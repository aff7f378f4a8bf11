"""``python -m edoc``: the same as the ``edoc`` command."""

from edoc.cli import main

main()
