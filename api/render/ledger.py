"""A group's public ledger (团购账本) as an A4 PDF: to post at the gate or in the chat.

Residents check what they pay against the supplier's list price, see that delivery fee and
leader commission are disclosed (zero included), and read every state change of the group.
It prints no household data: the ledger is public to anyone with the compound's link.
"""

from __future__ import annotations

from api.render.base import Page, day_hm
from api.render.fonts import CjkFont
from matcher.groups import GroupState
from matcher.ledger import Ledger

STATE_ZH = {
    GroupState.open: "接龙中",
    GroupState.formed: "已成团",
    GroupState.failed: "未成团",
    GroupState.matched: "已匹配供应商",
    GroupState.dispatched: "已发车",
    GroupState.delivered: "已送达",
    GroupState.settled: "已结算",
}
"""How the ledger names each state of a group."""


def yuan(cents: int | None) -> str:
    """Money for people: ``¥12.30``; ``—`` when unknown."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}¥{whole:,}.{rest:02d}"


def fact_rows(ledger: Ledger) -> list[list[str]]:
    """The group at a glance: package, state, threshold, committed, deadline, prices."""
    package = ledger.package_name or ledger.category_id
    return [
        ["商品 package", f"{package}（每箱 {ledger.case_size_units} 份）"],
        ["状态 state", STATE_ZH[ledger.state]],
        ["成团门槛 threshold", f"{ledger.threshold_units} 份"],
        ["已接龙 committed", f"{ledger.committed_units} 份"],
        ["截止 deadline", day_hm(ledger.deadline)],
        ["单价 unit price", yuan(ledger.unit_price_cents)],
        ["供应商标价 list price", yuan(ledger.list_price_cents)],
    ]


def amount_rows(ledger: Ledger) -> list[list[str]]:
    """The money table: per item the amount, with how it is computed."""
    units = ledger.committed_units
    listed = (
        "供应商未公布标价"
        if ledger.list_price_cents is None
        else f"{units} × {yuan(ledger.list_price_cents)}"
    )
    per_unit = f"{units} × {yuan(ledger.unit_price_cents)}"
    return [
        ["项目 item", "金额 amount", "计算 how"],
        ["团购金额 group amount", yuan(ledger.amount_cents), per_unit],
        ["按供应商标价 at list price", yuan(ledger.list_amount_cents), listed],
        ["节省 saving", yuan(ledger.saving_cents), "标价金额 − 团购金额"],
        ["配送费 delivery fee", yuan(ledger.delivery_fee_cents), "送到小区门口，已含在单价内"],
        ["团长佣金 leader commission", yuan(ledger.leader_commission_cents), "公开披露"],
    ]  # fmt: skip


def history_rows(ledger: Ledger) -> list[list[str]]:
    """Every recorded state change: when, from, to, why."""
    rows = [["时间 time", "状态 state", "说明 note"]]
    for step in ledger.history:
        before = "—" if step.from_state is None else STATE_ZH[step.from_state]
        rows.append([day_hm(step.at), f"{before} → {STATE_ZH[step.to_state]}", step.note_zh])
    return rows


def ledger_pdf(ledger: Ledger, *, font: CjkFont | None = None) -> bytes:
    """The group's public ledger, PDF bytes."""
    pdf = Page(
        title=f"团购账本 {ledger.compound_name} {ledger.package_name or ledger.category_id}",
        footer=f"团购账本 {ledger.group_id} · 无住户信息，可公开张贴",
        font=font,
    )
    pdf.para("团购账本 Group ledger", 20, bold=True)
    pdf.para(f"{ledger.compound_name} · {ledger.supplier_name}", 14, bold=True)
    pdf.gap(2)
    facts = fact_rows(ledger)
    pdf.grid(facts, (40, 60), size_pt=11)
    pdf.gap(4)
    pdf.para("金额 Amounts", 14, bold=True)
    pdf.grid(amount_rows(ledger), (45, 25, 50), size_pt=11, align=("LEFT", "RIGHT", "LEFT"))
    pdf.gap(4)
    pdf.para("记录 History", 14, bold=True)
    pdf.grid(history_rows(ledger), (28, 32, 60), size_pt=10)
    return bytes(pdf.output())
