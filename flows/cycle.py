"""One cycle's shape, free of Prefect: what it did (CycleSummary)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from claimwatch.flows.alerts.outbox import DeliverySummary
from claimwatch.flows.stages.matching import MatchSummary
from claimwatch.flows.stages.polls import PollSummary
from claimwatch.flows.stages.reads import ReadSummary


@dataclass(slots=True)
class CycleSummary:
    """What one cycle did, as the CLI prints it and the artifact shows it."""

    run_id: int
    poll: PollSummary
    read: ReadSummary
    match: MatchSummary
    developments: list[dict[str, Any]] = field(default_factory=list)
    alerts: DeliverySummary | None = None

    @property
    def failed(self) -> bool:
        return bool(self.poll.failed or self.read.failed_pages)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
