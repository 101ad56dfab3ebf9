"""Tests written against mutants of `build.py` that the other tests let through (README
"Mutation testing"): each checks a figure against a value worked out by hand."""
