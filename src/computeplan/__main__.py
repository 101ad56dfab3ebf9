"""``python -m computeplan``: the same as the ``computeplan`` command."""

from computeplan.cli import main

if __name__ == "__main__":
    main()
