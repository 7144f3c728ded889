"""claims.match worked out in the extraction worker, while the page is there (issue 8).

Matching an article costs a third of extracting it. Done by the match stage, it meant a second
trip of every text to the process pool and a stage of its own after reading; done here, it
overlaps fetching and costs no extra hand-off. claims.match is pure, so a result is reused only
for exactly the inputs it was worked out from: the article text as the match stage will read it
back, the same claims and the same claim states. Anything else (a development recorded in
between, an edited seed, a title the stored article already had) is a miss, matched as before.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from threading import Lock

from claimwatch.flows.engine import claims as claim_engine
from claimwatch.flows.engine.claims import ArticleText, Claim, ClaimMatch
from claimwatch.flows.extract.articles import ExtractedArticle, extract_page
from claimwatch.flows.fetch.urls import resolve_canonical

States = Mapping[str, Mapping[str, str]]
MAX_REMEMBERED = 50_000  # digests and (mostly empty) match lists: a few MB at most


@dataclass(frozen=True, slots=True)
class Prematched:
    """claims.match's answer for one article, and the digest of everything it was given."""

    key: bytes
    matches: tuple[ClaimMatch, ...]


def key(text: ArticleText, claims: Sequence[Claim], states: States) -> bytes:
    """Digest of claims.match's inputs: equal digests, equal answers (it is pure)."""
    seeds = [(c.id, c.statement, c.keywords, sorted(c.facts.items())) for c in claims]
    facts = sorted((k, sorted(v.items())) for k, v in states.items())
    published = text.published_at.isoformat() if text.published_at else None
    # repr, not pickle: pickle's bytes depend on which equal strings happen to be one object.
    head = repr((seeds, facts, text.url, text.title, published)).encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(head, digest_size=16)
    digest.update(text.text.encode("utf-8", "surrogatepass"))
    return digest.digest()


def stored_text(article: ExtractedArticle, final_url: str) -> ArticleText:
    """The ArticleText the match stage will build from this article once stored as new.

    The database hands timestamps back in UTC, and claims.match reads the calendar date of
    `published_at`, so the worker matches on the UTC value as well.
    """
    published = article.published_at.astimezone(UTC) if article.published_at else None
    return ArticleText(url=resolve_canonical(final_url, article.canonical_url),
                       title=article.title, text=article.text, published_at=published)


def extract_and_match(body: bytes, content_type: str, url: str, claims: Sequence[Claim],
                      states: States) -> tuple[ExtractedArticle | None, Prematched | None]:
    """Extract the page, then match it on the claim states as they were when reading began."""
    article = extract_page(body, content_type, url)
    if article is None:
        return None, None
    text = stored_text(article, url)
    try:
        found = claim_engine.match(text, claims, states)
    except Exception:  # never lose the article over it: the match stage will try, and say why
        return article, None
    return article, Prematched(key(text, claims, states), tuple(found))


class Prematches:
    """Answers worked out ahead, by digest; each is taken once. Thread-safe, bounded.

    The read stage fills one and hands it to the match stage of the same cycle; a match stage
    given none (or run elsewhere) finds nothing and matches everything itself.
    """

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self._answers: OrderedDict[bytes, tuple[ClaimMatch, ...]] = OrderedDict()
        self._limit = limit
        self._lock = Lock()

    def put(self, answer: Prematched) -> None:
        with self._lock:
            self._answers[answer.key] = answer.matches
            while len(self._answers) > self._limit:
                self._answers.popitem(last=False)

    def take(self, text: ArticleText, claims: Sequence[Claim], states: States
             ) -> list[ClaimMatch] | None:
        digest = key(text, claims, states)
        with self._lock:
            found = self._answers.pop(digest, None)
        return list(found) if found is not None else None

    def clear(self) -> None:
        """Forget what is left: answers for pages whose text had not changed, never asked for."""
        with self._lock:
            self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)

