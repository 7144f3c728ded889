"""Getting bytes from the hostile web: the one httpx client, feeds, pages, polling, reading, source health."""
