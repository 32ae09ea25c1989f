"""Words of the pages in Chinese (first) and English, and how a request picks its language.

Templates call ``t(key)``; the same catalogue goes to the page's JavaScript as JSON, so
text made in the browser (statuses, countdowns) switches language with the page.
"""

from __future__ import annotations

import enum

from fastapi import Request


class Lang(enum.StrEnum):
    """A page language, named by its BCP 47 tag's short form."""

    zh = "zh"
    en = "en"

    @property
    def html_tag(self) -> str:
        """The value of ``<html lang>``."""
        return "zh-CN" if self is Lang.zh else "en"


LANG_COOKIE = "linli_lang"

MESSAGES: dict[str, tuple[str, str]] = {
    # frame
    "app_name": ("邻里 linli", "linli 邻里"),
    "skip": ("跳到正文", "Skip to content"),
    "nav_label": ("页面", "Pages"),
    "nav_login": ("登录", "Sign in"),
    "nav_driver": ("司机", "Driver"),
    "nav_leader": ("团长", "Leader"),
    "nav_dispatcher": ("调度", "Dispatcher"),
    "nav_map": ("地图", "Map"),
    "lang_switch": ("English", "中文"),
    "lang_switch_label": ("Switch to English", "切换到中文"),
    "large_text": ("大字模式", "Large text"),
    "logout": ("退出登录", "Sign out"),
    "signed_in_as": ("已登录：", "Signed in as "),
    "date_label": ("配送日期", "Delivery date"),
    "refresh": ("刷新", "Refresh"),
    "loading": ("加载中…", "Loading…"),
    "error": ("出错：", "Error: "),
    "need_login": ("请先登录。", "Please sign in first."),
    "wrong_role": ("此页面不适合你的角色：", "This page is not for your role: "),
    "print": ("打印", "Print"),
    "copy": ("复制", "Copy"),
    "copied": ("已复制", "Copied"),
    "none": ("暂无", "None yet"),
    "no_plan": ("当天还没有配送计划。", "No delivery plan for this day yet."),
    "total": ("合计", "Total"),
    "units": ("件数", "Units"),
    "category": ("品类", "Category"),
    "compound": ("小区", "Compound"),
    "building": ("楼栋", "Building"),
    "households": ("户数", "Households"),
    "priority": ("优先户件数", "Priority units"),
    "district": ("区", "District"),
    "state": ("状态", "State"),
    "supplier": ("供应商", "Supplier"),
    # login
    "login_title": ("登录", "Sign in"),
    "login_intro": (
        "团长、调度和司机用同一个账号登录。",
        "Leaders, dispatchers and drivers sign in with the same account.",
    ),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "login_button": ("登录", "Sign in"),
    "login_failed": ("用户名或密码错误。", "Wrong username or password."),
    # driver
    "driver_title": ("今日路线", "Today's route"),
    "vehicle": ("车辆", "Vehicle"),
    "depot": ("仓库", "Depot"),
    "shift": ("出车时间", "Shift"),
    "driver_test": ("核酸有效至", "Test valid until"),
    "vehicle_pass": ("通行证有效至", "Vehicle pass valid until"),
    "stop": ("第 {n} 站", "Stop {n}"),
    "trip": ("第 {n} 趟", "Trip {n}"),
    "gate": ("门", "Gate"),
    "window": ("时间窗", "Window"),
    "eta": ("预计到达", "ETA"),
    "unload": ("卸货", "Unload"),
    "unsorted": ("未分楼", "not by building"),
    "navigate": ("导航到 {place}", "Navigate to {place}"),
    "contact": ("门口联系人", "Gate contact"),
    "arrived": ("已到达", "Arrived"),
    "delivered": ("已送达", "Delivered"),
    "failed": ("未送达", "Failed"),
    "fail_reason": ("未送达原因", "Why it failed"),
    "fail_reason_hint": ("例如：门口封闭，无人接货", "e.g. gate closed, nobody to receive"),
    "submit": ("提交", "Submit"),
    "cancel": ("取消", "Cancel"),
    "need_reason": ("请写明原因。", "Please say why."),
    "status_queued": ("待发送（联网后自动发送）", "Queued: sent when back online"),
    "status_recorded": ("已记录", "Recorded"),
    "status_rejected": ("未记录：", "Not recorded: "),
    "offline": (
        "网络已断开：操作已保存在本机，联网后自动发送。",
        "Offline: actions are kept on this phone and sent when back online.",
    ),
    "outbox": ("待发送 {n} 条", "{n} waiting to send"),
    "no_route": ("你在这一天没有路线。", "You have no route on this day."),
    "status_label": ("记录", "Record"),
    # leader
    "leader_title": ("团长工作台", "Leader's desk"),
    "demand_title": ("本小区需求", "Compound demand"),
    "import_title": ("粘贴接龙导入订单", "Paste a 接龙 list to import orders"),
    "import_label": ("接龙文本", "接龙 text"),
    "import_hint": (
        "每行一户，例如：1. 3号楼 502 蔬菜套餐x2 (老人)",
        "One household a line, e.g. 1. 3号楼 502 蔬菜套餐x2 (老人)",
    ),
    "import_button": ("导入", "Import"),
    "import_done": (
        "已导入 {orders} 户：新增 {inserted}，更新 {updated}，未变 {unchanged}。",
        "Imported {orders} households: {inserted} new, {updated} updated, {unchanged} unchanged.",
    ),
    "groups_title": ("团购", "Groups"),
    "threshold": ("成团门槛", "Threshold"),
    "committed": ("已接龙", "Signed up"),
    "deadline": ("截止", "Deadline"),
    "countdown": ("剩余时间", "Time left"),
    "deadline_passed": ("已截止", "Deadline passed"),
    "days_short": ("{d}天", "{d}d "),
    "ledger": ("公开账目", "Public ledger"),
    "match_title": ("匹配供应商", "Supplier match"),
    "match_button": ("请求匹配", "Request a match"),
    "job": ("任务", "Job"),
    "served": ("已满足", "Served"),
    "demand_units": ("需求", "Demand"),
    "unmet": ("未满足", "Unmet"),
    "explanation": ("说明", "Explanation"),
    "window_title": ("配送时间", "Delivery window"),
    "receiving_hours": ("小区收货时间", "Receiving hours"),
    "arrivals": ("车辆到达", "Arrivals"),
    "sorting_title": ("分拣单", "Sorting list"),
    "open_sorting": ("打开分拣单", "Open the sorting list"),
    "household_lines": ("住户明细（仅团长可见）", "Household lines (leader only)"),
    "room": ("房号", "Room"),
    "name": ("姓名", "Name"),
    "phone": ("电话", "Phone"),
    "proxy": ("代下单", "Proxy"),
    "ordered": ("订购", "Ordered"),
    "arriving": ("今日到货", "Arriving"),
    "short": ("缺货", "Short"),
    "notices_title": ("取货通知", "Pickup notices"),
    "open_notices": ("生成取货通知", "Show pickup notices"),
    "pickup_point": ("取货点", "Pickup point"),
    "slot": ("取货时间", "Pickup time"),
    # dispatcher
    "dispatcher_title": ("调度台", "Dispatch desk"),
    "area_demand_title": ("服务范围内的需求", "Demand in the service area"),
    "demand_map_title": ("需求地图", "Demand map"),
    "plan_title": ("计划状态", "Plan status"),
    "plan_button": ("生成路线", "Plan routes"),
    "kind": ("类型", "Kind"),
    "when": ("时间", "When"),
    "current_plan": ("当前计划", "Current plan"),
    "my_jobs": ("我提交的任务", "My jobs"),
    "unassigned": ("未排入", "Unassigned"),
    "not_routable": ("无法配送", "Not routable"),
    "checker": ("校验", "Checker"),
    "progress": ("进度", "Progress"),
    "sheets_title": ("路线单", "Route sheets"),
    "distance": ("里程", "Distance"),
    "open_map": ("在地图上查看", "Show on the map"),
    # map
    "map_title": ("配送地图", "Delivery map"),
    "map_label": ("地图：边界、道路和各车路线", "Map: boundaries, roads and each vehicle's route"),
    "map_unavailable": (
        "地图不可用：服务器未安装 Leaflet（在仓库中运行 npm ci --prefix api/web）。"
        "下面的列表仍可使用。",
        "Map unavailable: Leaflet is not installed on the server (run npm ci --prefix api/web "
        "in the repository). The lists below still work.",
    ),
    "layers": ("图层", "Layers"),
    "legend": ("图例", "Legend"),
    "routes": ("路线", "Routes"),
    # resident pages (join a group, own line) and the building volunteer
    "nav_volunteer": ("楼栋志愿者", "Volunteer"),
    "join_title": ("参加团购", "Join a group"),
    "me_title": ("我的团购", "My order"),
    "volunteer_title": ("本楼派发", "Building hand-out"),
    "open_button": ("打开", "Open"),
    "join_link_label": ("团购链接", "Group link"),
    "join_link_hint": (
        "粘贴团长在群里发的链接。",
        "Paste the link the leader shared in the chat group.",
    ),
    "join_unknown": (
        "找不到这个团购，请向团长核对链接。",
        "No group at this link; check it with your leader.",
    ),
    "join_group_title": ("团购详情", "The group"),
    "package": ("商品", "Package"),
    "unit_price": ("团购价（每份）", "Group price (each)"),
    "list_price_vs": ("供应商标价 {list}", "supplier's list price {list}"),
    "list_price_none": ("（供应商未公布标价）", "(the supplier gives no list price)"),
    "saving_each": ("每份省 {saving}", "{saving} less each"),
    "case_size": ("整箱", "Whole cases"),
    "case_size_text": (
        "按整箱 {n} 份向供应商下单",
        "ordered from the supplier in cases of {n}",
    ),
    "delivery_fee": ("运费（全团，已申报）", "Delivery fee (whole group, declared)"),
    "leader_commission": (
        "团长佣金（全团，已申报）",
        "Leader's commission (whole group, declared)",
    ),
    "fees_note": (
        "运费和团长佣金在开团时公开申报，所有人可在公开账目中核对。",
        "The delivery fee and the leader's commission were declared when the group opened; "
        "anyone can check them in the public ledger.",
    ),
    "units_n": ("{n} 份", "{n} packages"),
    "group_state_open": ("接龙中", "Open for sign-ups"),
    "group_state_formed": ("已成团", "Formed"),
    "group_state_failed": ("未成团", "Not formed"),
    "group_state_matched": ("供应商已确认", "Supplier confirmed"),
    "group_state_dispatched": ("已发货", "On its way"),
    "group_state_delivered": ("已送达", "Delivered"),
    "group_state_settled": ("已结算", "Settled"),
    "group_note_open": (
        "截止前接龙份数达到成团门槛就成团。",
        "The group forms if the sign-ups reach the threshold before the deadline.",
    ),
    "group_note_formed": (
        "已达到成团门槛，等待供应商确认和安排配送。",
        "The threshold was reached; waiting for the supplier to confirm and plan the delivery.",
    ),
    "group_note_failed": (
        "截止时未达到成团门槛。团长会通知你改到其他团，已付款项会退还。",
        "The threshold was not reached by the deadline. The leader will move you to another "
        "group; payments are refunded.",
    ),
    "group_note_matched": (
        "供应商已确认，正在安排车辆和配送时间。",
        "The supplier confirmed; the truck and delivery time are being planned.",
    ),
    "group_note_dispatched": (
        "货车已出发。到货后由楼栋志愿者消杀再派发。",
        "The truck is on its way. The building volunteers disinfect the goods, then hand them out.",
    ),
    "group_note_delivered": (
        "已送达小区，楼栋志愿者会送到门口或通知你到取货点领取。有问题请在下面申请售后。",
        "Delivered to the compound: the building volunteer brings it to your door or tells "
        "you where to collect it. If something is wrong, file a claim below.",
    ),
    "group_note_settled": ("账目已结清。", "The accounts are settled."),
    "signup_title": ("报名（接龙）", "Sign up"),
    "signup_closed": (
        "本团已截止报名，请参加其他团购。",
        "This group no longer takes sign-ups; join another group.",
    ),
    "choose_building": ("请选择楼栋", "Choose your building"),
    "room_hint": (
        "楼层加两位户号，例如 5 楼 2 室写 502。",
        "Floor then two-digit flat: flat 2 on floor 5 is 502.",
    ),
    "units_packages": ("份数", "Packages"),
    "proxy_label": (
        "替邻居报名（例如不用手机的老人）",
        "Signing up for a neighbour (e.g. an elderly neighbour without a phone)",
    ),
    "proxy_hint": (
        "代报名的订单由楼栋志愿者送到门口。",
        "Orders placed for a neighbour are brought to the door by the building volunteer.",
    ),
    "priority_legend": ("优先情况（可不填）", "Priority (optional)"),
    "priority_hint": (
        "只有本团团长能看到这些信息，仅用于货不够时优先供应；志愿者和供应商看不到。",
        "Only this group's leader sees this, and only to serve you first when supply is "
        "short; volunteers and suppliers never see it.",
    ),
    "flag_elderly": ("家有老人", "Elderly person at home"),
    "flag_infant": ("家有婴幼儿", "Infant at home"),
    "flag_pregnant": ("家有孕妇", "Pregnancy"),
    "flag_chronic_illness": ("家有慢性病人", "Chronic illness"),
    "flag_disability": ("家有残障人士", "Disability"),
    "signup_button": ("提交报名", "Sign up"),
    "field_error_compound_id": (
        "这个小区的团长还没有加入本团。",
        "This compound's leader has not joined the group yet.",
    ),
    "field_error_building_id": (
        "请从列表中选择你的楼栋。",
        "Choose your building from the list.",
    ),
    "field_error_room": (
        "房号不在本楼的名册上，请检查。",
        "This room is not on the building's roster; check it.",
    ),
    "field_error_household_name": ("姓名太长。", "The name is too long."),
    "field_error_phone": ("电话号码太长。", "The phone number is too long."),
    "field_error_quantity_units": ("份数请填 1 到 100。", "Packages: 1 to 100."),
    "field_error_priority_flags": ("优先情况有误。", "The priority choice is not valid."),
    "field_error_other": ("未能报名：", "Not signed up: "),
    "signup_done": ("报名成功", "You are signed up"),
    "your_code": ("你的查询码：", "Your code:"),
    "keep_code": (
        "请保存这个查询码或下面的链接，用它查看付款、配送和售后。",
        "Keep this code or the link below: it shows your payment, delivery and claims.",
    ),
    "open_my_line": ("查看我的订单", "Open my order"),
    "signup_another": ("再报一户", "Sign up another household"),
    "code_label": ("查询码", "Your code"),
    "code_hint": (
        "报名成功时显示的查询码，也可问团长。",
        "The code shown when you signed up; your leader has it too.",
    ),
    "code_unknown": (
        "查询码不正确，请向团长核对。",
        "No order has this code; check it with your leader.",
    ),
    "my_line_title": ("我的订单", "My order"),
    "amount_due": ("应付", "Amount due"),
    "due_note": (
        "（含运费和团长佣金按份数分摊，减去已退的售后款）",
        "(with your share of the declared fee and commission, less claim refunds)",
    ),
    "paid": ("已付", "Paid"),
    "refunded": ("已退款", "Refunded"),
    "payment_status": ("付款状态", "Payment"),
    "pay_paid": ("已付清", "Paid"),
    "pay_unpaid": ("未付款", "Unpaid"),
    "pay_part_paid": ("部分已付", "Partly paid"),
    "pay_overpaid": ("多付，待退", "Overpaid: to be refunded"),
    "pay_refunded": ("已退款", "Refunded"),
    "pay_nothing_due": ("无需付款", "Nothing to pay"),
    "line_state": ("订单状态", "Order"),
    "line_state_active": ("有效", "Active"),
    "line_state_waitlisted": ("候补（未凑满整箱）", "Waitlisted (not a whole case)"),
    "line_state_cancelled": ("已取消", "Cancelled"),
    "payments_title": ("付款记录", "Payments"),
    "amount": ("金额", "Amount"),
    "method": ("方式", "Method"),
    "payment_kind_household": ("付款", "Payment"),
    "payment_kind_refund": ("退款", "Refund"),
    "payment_kind_advance": ("预付", "Advance"),
    "no_payments": ("还没有付款记录。", "No payment recorded yet."),
    "other_lines": ("我家的其他订单", "My household's other orders"),
    "group_progress_title": ("团购进度", "Group progress"),
    "history": ("经过", "History"),
    "claims_title": ("售后", "Claims"),
    "no_claims": ("没有售后申请。", "No claims."),
    "claim_new_title": ("申请售后", "File a claim"),
    "claim_kind": ("问题", "What is wrong"),
    "claim_kind_missing": ("没收到", "Missing"),
    "claim_kind_short": ("数量不足", "Short"),
    "claim_kind_spoiled": ("变质或破损", "Spoiled or damaged"),
    "claim_kind_wrong": ("发错货", "Wrong item"),
    "claim_units": ("涉及份数", "Packages concerned"),
    "claim_units_range": ("请填 1 到 {n}。", "Enter 1 to {n}."),
    "claim_note": ("说明", "Note"),
    "claim_note_hint": ("例如：青菜烂了一半", "e.g. half the greens were rotten"),
    "claim_button": ("提交售后", "File the claim"),
    "claim_done": ("售后申请已提交。", "Your claim is filed."),
    "claim_after_delivery": (
        "到货后可以在这里申请售后。",
        "You can file a claim here once the goods are delivered.",
    ),
    "claim_not_active": (
        "这份订单不是有效订单，不能申请售后。",
        "This order is not active; no claim can be filed on it.",
    ),
    "claim_state_note": ("进展", "Where it stands"),
    "claim_state_filed": ("已提交", "Filed"),
    "claim_state_accepted": ("供应商已接受", "Accepted"),
    "claim_state_rejected": ("供应商已拒绝", "Rejected"),
    "claim_state_escalated": ("居委会处理中", "With the committee"),
    "claim_state_upheld": ("居委会支持", "Upheld"),
    "claim_state_dismissed": ("居委会驳回", "Dismissed"),
    "claim_state_closed": ("已处理完", "Closed"),
    "claim_note_filed": (
        "等待供应商答复；到期未答复自动交居委会。",
        "Waiting for the supplier; unanswered by the deadline, it goes to the committee.",
    ),
    "claim_note_accepted": ("供应商已接受，按下面的方式处理。", "The supplier accepted it."),
    "claim_note_rejected": (
        "供应商拒绝了（见理由）。你可以在期限前申诉，由居委会裁决。",
        "The supplier rejected it (see why). You may appeal before the deadline; the "
        "committee decides.",
    ),
    "claim_note_escalated": ("居委会正在处理。", "The residents' committee decides."),
    "claim_note_upheld": ("居委会支持你的申请。", "The committee upheld it."),
    "claim_note_dismissed": ("居委会驳回了申请。", "The committee dismissed it."),
    "claim_note_closed": ("已处理完毕。", "Done."),
    "answer_by": ("供应商答复期限", "Supplier answers by"),
    "appeal_by": ("申诉期限", "Appeal by"),
    "reason": ("理由", "Reason"),
    "resolution": ("处理方式", "Resolution"),
    "resolution_refund": ("退款 {amount}", "refund of {amount}"),
    "resolution_credit": ("抵扣下次货款 {amount}", "credit of {amount}"),
    "resolution_redelivery": ("补发 {units} 份（{date}）", "{units} packages redelivered ({date})"),
    "appeal_note": ("申诉理由（可不填）", "Why you appeal (optional)"),
    "appeal_button": ("申诉，交居委会裁决", "Appeal to the committee"),
    "appeal_done": ("已申诉，居委会会处理。", "Appealed: the committee decides."),
    "sealed_banner": (
        "本小区封控：所有物资由志愿者消杀后送到各户门口。",
        "The compound is sealed: volunteers bring everything to each door after disinfection.",
    ),
    "handout_slot": ("派发时间", "Hand-out time"),
    "slot_unplanned": ("未排定", "not planned yet"),
    "door_rooms": ("送货上门户数", "Door deliveries"),
    "handout_steps_title": ("派发步骤", "Hand-out steps"),
    "handout_rooms_title": ("派发清单", "Hand-out list"),
    "rooms_caption": ("{building} · {date}", "{building} · {date}"),
    "totals_caption": ("本楼合计（核对收货）", "Building totals (to check what arrived)"),
    "packages": ("物品", "Packages"),
    "door_delivery": ("送货上门", "Door delivery"),
    "door_yes": ("送货上门", "to the door"),
    "door_no": ("自取", "collects"),
    "no_handout": ("这一天本楼没有要派发的物资。", "Nothing to hand out in this building today."),
    "step_received": ("接收", "Received"),
    "step_disinfected": ("消杀", "Disinfected"),
    "step_handed_out": ("派发", "Handed out"),
    "step_button_received": ("已接收", "Received"),
    "step_button_disinfected": ("已消杀", "Disinfected"),
    "step_button_handed_out": ("已派发", "Handed out"),
    "steps_progress": (
        "进度 {done}/{total}，下一步：{next}",
        "Progress {done}/{total}; next: {next}",
    ),
    "steps_finished": ("已全部派发", "All handed out"),
    "step_out_of_order": (
        "请按顺序记录：接收 → 消杀 → 派发。",
        "Record the steps in order: received → disinfected → handed out. ",
    ),
    # job states
    "job_queued": ("排队中", "queued"),
    "job_running": ("运行中", "running"),
    "job_succeeded": ("完成", "done"),
    "job_failed": ("失败", "failed"),
}
"""Every string the pages show, by key: (Chinese, English)."""


def catalogue(lang: Lang) -> dict[str, str]:
    """All messages in one language, for the page's JavaScript."""
    index = 0 if lang is Lang.zh else 1
    return {key: pair[index] for key, pair in MESSAGES.items()}


def pick_lang(request: Request) -> Lang:
    """``?lang=`` first, then the remembered choice (cookie), else Chinese."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in (Lang.zh.value, Lang.en.value):
            return Lang(value)
    return Lang.zh
