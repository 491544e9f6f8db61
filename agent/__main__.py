"""`python -m leanloop …` runs the command-line tool."""

from leanloop.cli import main

main()
