"""Article text and identity: trafilatura extraction, text hashes and near-duplicate fingerprints."""
