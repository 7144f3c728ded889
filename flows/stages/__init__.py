"""The stages of a cycle between fetching and storing: plans, summaries and the one writer."""
