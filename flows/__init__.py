"""claimwatch's pipeline: poll sources, read articles, judge them against claims, alert on developments."""
