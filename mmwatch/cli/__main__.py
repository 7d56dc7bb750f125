"""`python -m mmwatch.cli ...`: the `mmwatch` script without installing it (tests and benchmarks run it so)."""

from mmwatch.cli import main

if __name__ == "__main__":
    main()
