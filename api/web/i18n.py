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
