"""Benchmarks (not timed tests): each prints its figures as ratios against bare Rasa measured in the same run."""
