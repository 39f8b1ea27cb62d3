"""Load and scale benchmarks; `make bench` runs them and writes benchmarks/README.md."""
