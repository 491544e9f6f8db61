"""`python -m leanloop …` runs the command-line tool."""

from leanloop.cli import main

# Guarded: worker processes started with `spawn` (the premise index) import this module too.
if __name__ == "__main__":
    main()
