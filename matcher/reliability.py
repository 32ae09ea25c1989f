"""A supplier's reliability record from its past deliveries: on-time arrivals, receipt checks
with short or spoiled lines, and claims upheld against it.

- ``on_time_permille``: of the stops its drivers reported ``arrived``, those whose arrival was
  within the stop's planned window (window start ≤ arrival ≤ window end).
- ``short_or_spoiled_permille``: of its receipt-checked deliveries (one per group and
  compound), those with any discrepancy (missing, short, damaged or spoiled, wrong item).
- ``claims_upheld``: claims accepted by it or upheld by a committee, per delivered line
  (a group's delivery to a compound that was receipt-checked or claimed on), capped at 100 %.

The score is the product of the three "good" shares (on time × not short or spoiled × not
upheld), in permille; a part without data counts as 100 %, and a supplier with no data at all
has no score (``None``): it is neither rewarded nor penalised.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from data.schemas import AwareDatetime, Identifier, Model
from matcher.eligibility import Bilingual

PERMILLE = 1000


class Arrival(Model):
    """One stop reported ``arrived``: its planned window and when the truck came."""

    window_start: AwareDatetime
    window_end: AwareDatetime
    arrived_at: AwareDatetime

    @property
    def on_time(self) -> bool:
        """Whether the truck came within the stop's window."""
        return self.window_start <= self.arrived_at <= self.window_end


class ReliabilityRecord(Model):
    """What a supplier's past deliveries say about it (aggregates only)."""

    supplier_id: Identifier
    arrivals: int = Field(default=0, ge=0)
    on_time: int = Field(default=0, ge=0)
    checked_deliveries: int = Field(default=0, ge=0)
    short_or_spoiled: int = Field(default=0, ge=0)
    delivered_lines: int = Field(default=0, ge=0)
    claims_filed: int = Field(default=0, ge=0)
    claims_upheld: int = Field(default=0, ge=0)

    @property
    def on_time_permille(self) -> int | None:
        """On-time arrivals per thousand (None without arrivals)."""
        return _share(self.on_time, self.arrivals)

    @property
    def short_or_spoiled_permille(self) -> int | None:
        """Checked deliveries with a discrepancy per thousand (None without checks)."""
        return _share(self.short_or_spoiled, self.checked_deliveries)

    @property
    def upheld_permille(self) -> int | None:
        """Upheld claims per delivered line, per thousand, capped at 1000 (None: no lines)."""
        if not self.delivered_lines:
            return None
        return min(PERMILLE, _share(self.claims_upheld, self.delivered_lines) or 0)

    @property
    def score_permille(self) -> int | None:
        """on time × not short or spoiled × not upheld, per thousand; None without data."""
        parts = (
            self.on_time_permille,
            None
            if self.short_or_spoiled_permille is None
            else PERMILLE - self.short_or_spoiled_permille,
            None if self.upheld_permille is None else PERMILLE - self.upheld_permille,
        )
        if all(p is None for p in parts):
            return None
        score = PERMILLE
        for part in parts:
            if part is not None:
                score = score * part // PERMILLE
        return score

    def text(self) -> Bilingual:
        """One line for explanations and offer lists, in Chinese and English."""
        if self.score_permille is None:
            return Bilingual(
                zh="可靠性：暂无配送记录。", en="reliability: no deliveries on record."
            )
        zh, en = [], []
        if self.on_time_permille is not None:
            zh.append(f"准时到达{_pct(self.on_time_permille)}（{self.on_time}/{self.arrivals}）")
            en.append(f"on time {_pct(self.on_time_permille)} ({self.on_time}/{self.arrivals})")
        if self.short_or_spoiled_permille is not None:
            zh.append(
                f"验货缺损{_pct(self.short_or_spoiled_permille)}"
                f"（{self.short_or_spoiled}/{self.checked_deliveries}）"
            )
            en.append(
                f"short or spoiled {_pct(self.short_or_spoiled_permille)} "
                f"({self.short_or_spoiled}/{self.checked_deliveries})"
            )
        zh.append(f"售后被支持{self.claims_upheld}次")
        en.append(f"claims upheld {self.claims_upheld}")
        score = _pct(self.score_permille)
        return Bilingual(
            zh=f"可靠性{score}：" + "，".join(zh) + "。",
            en=f"reliability {score}: " + ", ".join(en) + ".",
        )


def _share(part: int, whole: int) -> int | None:
    return None if whole == 0 else PERMILLE * part // whole


def _pct(permille: int) -> str:
    return f"{permille / 10:.1f}%"


def reliability_of(
    supplier_id: str,
    *,
    arrivals: Iterable[Arrival] = (),
    checks: Iterable[bool] = (),
    claims_upheld: Iterable[bool] = (),
    delivered_lines: int | None = None,
) -> ReliabilityRecord:
    """The record of ``supplier_id`` from its arrivals, its receipt checks (True: the check
    found a discrepancy) and its claims (True: upheld); ``delivered_lines`` defaults to the
    number of checks."""
    stops = list(arrivals)
    found = list(checks)
    claimed = list(claims_upheld)
    return ReliabilityRecord(
        supplier_id=supplier_id,
        arrivals=len(stops),
        on_time=sum(a.on_time for a in stops),
        checked_deliveries=len(found),
        short_or_spoiled=sum(found),
        delivered_lines=len(found) if delivered_lines is None else delivered_lines,
        claims_filed=len(claimed),
        claims_upheld=sum(claimed),
    )


def penalty_cents_per_unit(penalty_cents: int, score_permille: int | None) -> int:
    """The matcher's extra cost per unit for a supplier: ``penalty_cents`` scaled by how far
    its score is below 100 % (0 without a score or without a penalty)."""
    if penalty_cents <= 0 or score_permille is None:
        return 0
    return penalty_cents * (PERMILLE - score_permille) // PERMILLE


def record_at(records: Iterable[ReliabilityRecord], supplier_id: str) -> ReliabilityRecord | None:
    """The record of one supplier among ``records`` (None if it has none)."""
    return next((r for r in records if r.supplier_id == supplier_id), None)
