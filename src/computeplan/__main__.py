"""``python -m computeplan``: the same as the ``computeplan`` command."""

from .cli import main

if __name__ == "__main__":
    main()
