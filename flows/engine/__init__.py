"""The claim engine (pure): what an article asserts about each claim, and what is a development."""
