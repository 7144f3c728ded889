"""Claims assessed in the worker, while the page is there (issue 8).

Assessing an article against the claims costs a third of extracting it. Done by the match stage,
it meant a second trip of every text to the process pool; done here, it overlaps fetching. An
assessment does not depend on the claims' states (relate.py judges it against them later), so
it is reused for exactly the inputs it was worked out from: the text as the match stage reads it
back and the same claims. Anything else is a miss, assessed again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from threading import Lock

from claimwatch.flows.engine import claims as claim_engine
from claimwatch.flows.engine.claims import ArticleText, Assessment, Claim
from claimwatch.flows.extract.articles import ExtractedArticle, extract_page
from claimwatch.flows.fetch.urls import resolve_canonical

MAX_REMEMBERED = 50_000  # digests and (mostly empty) assessment lists: a few MB at most


@dataclass(frozen=True, slots=True)
class Prematched:
    """claims.assess's answer for one article, and the digest of everything it was given."""

    key: bytes
    assessments: tuple[Assessment, ...]


def key(text: ArticleText, claims: Sequence[Claim]) -> bytes:
    """Digest of claims.assess's inputs: equal digests, equal answers (it is pure)."""
    seeds = [(c.id, c.statement, c.keywords, sorted(c.facts.items()), c.vocabulary) for c in claims]
    published = text.published_at.isoformat() if text.published_at else None
    # repr, not pickle: pickle's bytes depend on which equal strings happen to be one object.
    head = repr((seeds, text.url, text.title, published)).encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(head, digest_size=16)
    digest.update(text.text.encode("utf-8", "surrogatepass"))
    return digest.digest()


def stored_text(article: ExtractedArticle, final_url: str) -> ArticleText:
    """The ArticleText the match stage will build from this article once stored as new.

    The database hands timestamps back in UTC, and the engine reads the calendar date of
    `published_at`, so the worker assesses on the UTC value as well.
    """
    published = article.published_at.astimezone(UTC) if article.published_at else None
    return ArticleText(url=resolve_canonical(final_url, article.canonical_url),
                       title=article.title, text=article.text, published_at=published)


def extract_and_assess(body: bytes, content_type: str, url: str, claims: Sequence[Claim]
                       ) -> tuple[ExtractedArticle | None, Prematched | None]:
    """Extract the page, then assess it against the claims."""
    article = extract_page(body, content_type, url)
    if article is None:
        return None, None
    text = stored_text(article, url)
    try:
        found = claim_engine.assess(text, claims)
    except Exception:  # never lose the article over it: the match stage will try, and say why
        return article, None
    return article, Prematched(key(text, claims), tuple(found))


class Prematches:
    """Answers worked out ahead, by digest; each is taken once. Thread-safe, bounded.

    The read stage fills one and hands it to the match stage of the same cycle; a match stage
    given none (or run elsewhere) finds nothing and assesses everything itself.
    """

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self._answers: OrderedDict[bytes, tuple[Assessment, ...]] = OrderedDict()
        self._limit = limit
        self._lock = Lock()

    def put(self, answer: Prematched) -> None:
        with self._lock:
            self._answers[answer.key] = answer.assessments
            while len(self._answers) > self._limit:
                self._answers.popitem(last=False)

    def take(self, text: ArticleText, claims: Sequence[Claim]) -> list[Assessment] | None:
        digest = key(text, claims)
        with self._lock:
            found = self._answers.pop(digest, None)
        return list(found) if found is not None else None

    def __len__(self) -> int:
        return len(self._answers)
