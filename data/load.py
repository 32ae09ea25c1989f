"""Readers: files (CSV, XLSX, GeoJSON, YAML, JSON) → lists of the wire models of data/schemas.

Every reader checks the whole file and returns all of it or raises one ``DataError`` listing
every problem (file, row, field, value, how to fix it); a partial result is never returned.
CSV cells are read as text so a bad value is reported as written. Naive datetimes are read
as Asia/Shanghai time; coordinates in GCJ-02 or BD-09 are converted to WGS84 and must lie
in the configured city. The formats are described in data/FORMATS.md.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gc
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from data.errors import DataError, Issue
from data.geo import City, shanghai, to_wgs84
from data.schemas import (
    SHANGHAI,
    Building,
    Category,
    Certificate,
    Compound,
    CrewMember,
    Datum,
    Depot,
    Driver,
    Gate,
    HolderKind,
    HouseholdOrder,
    Identifier,
    LockdownStatus,
    Offer,
    PriorityFlag,
    Supplier,
    Vehicle,
)
from data.validate import (
    FALSE_WORDS,
    LOCKDOWN_LEVEL_NAMES,
    PRIORITY_FLAG_NAMES,
    TRUE_WORDS,
    Reference,
    certificate_holder_issues,
    duplicate_ids,
    expired_certificates,
    gate_hours_issues,
    issues_from_validation_error,
    missing_columns,
    unknown_columns,
)

PathLike = str | os.PathLike[str]
M = TypeVar("M", bound=BaseModel)

__all__ = [
    "SupplyBundle",
    "load_buildings",
    "load_categories",
    "load_compounds",
    "load_gates",
    "load_lockdown",
    "load_orders",
    "load_supply",
    "orders_from_rows",
]


# --- raw tables ---------------------------------------------------------------------------


@dataclass
class _Table:
    """Rows of one input as read: ``(row number, column -> value)``, plus file-level issues."""

    file: str
    columns: list[str]
    rows: list[tuple[int, dict[str, object]]]
    header_row: int | None = 1
    issues: list[Issue] = field(default_factory=list)
    flat: bool = True  # CSV/XLSX/GeoJSON (flattened columns) rather than YAML/JSON records


def _cell_text(value: object) -> str:
    """A spreadsheet or GeoJSON value as the text a person would have typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    return str(value).strip()


def _read_csv(path: Path) -> _Table:
    """A CSV file (UTF-8, with or without BOM; GB18030 as Chinese Excel writes it)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    records = csv.reader(io.StringIO(text, newline=""))  # keeps line breaks inside quoted cells
    return _table_from_records(str(path), enumerate(records, start=1))


def _read_xlsx(path: Path) -> _Table:
    """The first sheet of an XLSX workbook."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise DataError(
            [Issue(str(path), None, None, f"cannot read the workbook: {error}", "save as .xlsx")]
        ) from error
    try:
        sheet = workbook.worksheets[0]
        records = [
            (number, [_cell_text(v) for v in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()
    return _table_from_records(str(path), records)


def _table_from_records(file: str, records: Iterable[tuple[int, list[str]]]) -> _Table:
    """Header = first non-empty record; later empty records are skipped (not data)."""
    table = _Table(file=file, columns=[], rows=[])
    header: list[str] | None = None
    unnamed: dict[int, int] = {}  # header cell left blank -> first row with a value under it
    for number, cells in records:
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if header is None:
            header = [c.lstrip("\ufeff") for c in cells]
            while header and not header[-1]:
                header.pop()
            table.columns = [name for name in header if name]
            table.header_row = number
            table.issues += _duplicate_columns(file, number, header)
            continue
        extra = [c for c in cells[len(header) :] if c]
        if extra:
            table.issues.append(
                Issue(
                    file,
                    number,
                    None,
                    f"row has {len(header) + len(extra)} cells but the header names "
                    f"{len(header)} columns",
                    "remove the extra cells or add a header for them",
                    value=";".join(extra),
                )
            )
        row: dict[str, object] = {}
        for i, name in enumerate(header):
            cell = cells[i] if i < len(cells) else ""
            if name:
                row[name] = cell
            elif cell:
                unnamed.setdefault(i + 1, number)
        table.rows.append((number, row))
    if header is None:
        table.header_row = None  # nothing to check columns against
        table.issues.append(
            Issue(file, None, None, "the file is empty", "write a header row, then one row each")
        )
    for position, first in unnamed.items():
        table.issues.append(
            Issue(
                file,
                table.header_row,
                None,
                f"header cell {position} is blank but row {first} has a value under it",
                "name the column, or delete it if its values are not needed",
            )
        )
    return table


def _duplicate_columns(file: str, row: int, header: list[str]) -> list[Issue]:
    """A column named twice would silently lose one of its values on every row."""
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name in seen:
            issues.append(
                Issue(
                    file,
                    row,
                    name,
                    f"column '{name}' appears twice (header cells {seen[name]} and {position})",
                    "keep one column of each name",
                )
            )
        elif name:
            seen[name] = position
    return issues


def _read_geojson(path: Path) -> _Table:
    """A FeatureCollection of Points: properties are the columns, the geometry gives lon/lat."""
    file = str(path)
    document = _read_document(path)
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise DataError(
            [
                Issue(
                    file,
                    None,
                    None,
                    "not a GeoJSON FeatureCollection",
                    'write {"type": "FeatureCollection", "features": [...]}',
                )
            ]
        )
    features = document.get("features")
    if not isinstance(features, list):
        raise DataError(
            [Issue(file, None, "features", "'features' is not a list", "write a list of features")]
        )
    table = _Table(file=file, columns=[], rows=[], header_row=None)
    columns: dict[str, None] = {}
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") or {} if isinstance(feature, dict) else {}
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        row: dict[str, object] = {str(k): _cell_text(v) for k, v in properties.items()}
        coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (
            not isinstance(geometry, dict)
            or geometry.get("type") != "Point"
            or not isinstance(coords, list)
            or len(coords) < 2
        ):
            kind = geometry.get("type") if isinstance(geometry, dict) else None
            table.issues.append(
                Issue(
                    file,
                    number,
                    "geometry",
                    "feature geometry is not a Point",
                    "give each feature a Point geometry [lon, lat]",
                    value=str(kind),
                )
            )
            continue
        row["lon"], row["lat"] = _cell_text(coords[0]), _cell_text(coords[1])
        columns.update(dict.fromkeys(row))
        table.rows.append((number, row))
    table.columns = list(columns)
    return table


def _read_document(path: Path) -> Any:
    """A parsed YAML or JSON document, or a DataError saying where the syntax is wrong."""
    file = str(path)
    try:
        text = path.read_text("utf-8-sig")
        if path.suffix.lower() in {".yaml", ".yml"}:
            return yaml.safe_load(text)
        return json.loads(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise DataError(
            [Issue(file, line, None, f"YAML syntax error: {error}", "fix the syntax at that line")]
        ) from error
    except json.JSONDecodeError as error:
        raise DataError(
            [Issue(file, error.lineno, None, f"JSON syntax error: {error.msg}", "fix the syntax")]
        ) from error


def _read_table(path: PathLike, *, geojson: bool = True) -> _Table:
    """A CSV, XLSX or (where allowed) GeoJSON file as a table of text cells."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise DataError([Issue(str(path), None, None, "file not found", "check the path")])
    if suffix in {".csv", ".txt"}:
        return _read_csv(path)
    if suffix in {".xlsx", ".xlsm"}:
        return _read_xlsx(path)
    if geojson and suffix in {".geojson", ".json"}:
        return _read_geojson(path)
    accepted = "CSV, XLSX or GeoJSON" if geojson else "CSV or XLSX"
    raise DataError(
        [
            Issue(
                str(path),
                None,
                None,
                f"unsupported file type '{suffix}'",
                f"save the file as {accepted}",
            )
        ]
    )


# --- per-kind conversion ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """How the flat columns of one kind of record become the model's input."""

    model: type[BaseModel]
    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    id_columns: tuple[str, ...] = ()
    nested: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    locs: Mapping[tuple[str | int, ...], str] = field(default_factory=dict)
    lists: frozenset[str] = frozenset()
    bools: frozenset[str] = frozenset()
    datetimes: frozenset[str] = frozenset()
    levels: frozenset[str] = frozenset()
    coords: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


_RECEIVING = {
    "receiving_opens_at": ("receiving_hours", "opens_at"),
    "receiving_closes_at": ("receiving_hours", "closes_at"),
}
_RECEIVING_LOCS: dict[tuple[str | int, ...], str] = {
    ("receiving_hours", "opens_at"): "receiving_opens_at",
    ("receiving_hours", "closes_at"): "receiving_closes_at",
    ("receiving_hours",): "receiving_closes_at",
}

COMPOUNDS = _Spec(
    Compound,
    "compound",
    required=("compound_id", "name", "district", "lon", "lat", "households"),
    optional=("street", "receiving_opens_at", "receiving_closes_at", "synthetic"),
    id_columns=("compound_id",),
    nested=_RECEIVING,
    locs=_RECEIVING_LOCS,
    bools=frozenset({"synthetic"}),
    coords=True,
)
BUILDINGS = _Spec(
    Building,
    "building",
    required=("building_id", "compound_id", "name", "lon", "lat", "households"),
    optional=("floors", "synthetic"),
    id_columns=("building_id",),
    bools=frozenset({"synthetic"}),
    coords=True,
)
GATES = _Spec(
    Gate,
    "gate",
    required=("gate_id", "compound_id", "name", "lon", "lat"),
    optional=("receiving_opens_at", "receiving_closes_at", "max_trucks", "synthetic"),
    id_columns=("gate_id",),
    nested=_RECEIVING,
    locs=_RECEIVING_LOCS,
    bools=frozenset({"synthetic"}),
    coords=True,
)
LOCKDOWN = _Spec(
    LockdownStatus,
    "lockdown status",
    required=("compound_id", "level", "valid_from"),
    optional=("valid_until",),
    id_columns=("compound_id", "valid_from"),
    locs={(): "valid_until"},
    levels=frozenset({"level"}),
)
CATEGORIES = _Spec(
    Category,
    "category",
    required=("category_id", "name_zh", "name_en", "unit", "unit_weight_g"),
    optional=("cold_chain", "required_certificates", "aliases"),
    id_columns=("category_id",),
    lists=frozenset({"required_certificates", "aliases"}),
    bools=frozenset({"cold_chain"}),
)
SUPPLIERS = _Spec(
    Supplier,
    "supplier",
    required=("supplier_id", "name"),
    optional=("contact_phone", "lockdown_levels_served", "synthetic"),
    id_columns=("supplier_id",),
    lists=frozenset({"lockdown_levels_served"}),
    bools=frozenset({"synthetic"}),
    levels=frozenset({"lockdown_levels_served"}),
)
DEPOTS = _Spec(
    Depot,
    "depot",
    required=("depot_id", "supplier_id", "name", "lon", "lat"),
    optional=("opens_at", "closes_at", "loading_docks", "synthetic"),
    id_columns=("depot_id",),
    nested={"opens_at": ("hours", "opens_at"), "closes_at": ("hours", "closes_at")},
    locs={
        ("hours", "opens_at"): "opens_at",
        ("hours", "closes_at"): "closes_at",
        ("hours",): "closes_at",
    },
    bools=frozenset({"synthetic"}),
    coords=True,
)
VEHICLES = _Spec(
    Vehicle,
    "vehicle",
    required=("vehicle_id", "supplier_id", "depot_id", "plate", "capacity_kg", "capacity_units"),
    optional=("refrigerated", "fixed_cost_cents"),
    id_columns=("vehicle_id",),
    bools=frozenset({"refrigerated"}),
)
DRIVERS = _Spec(
    Driver,
    "driver",
    required=("driver_id", "supplier_id", "name"),
    optional=("phone", "test_taken_at"),
    id_columns=("driver_id",),
    datetimes=frozenset({"test_taken_at"}),
)
CREW = _Spec(
    CrewMember,
    "crew member",
    required=("crew_id", "supplier_id", "name"),
    optional=("phone", "test_taken_at"),
    id_columns=("crew_id",),
    datetimes=frozenset({"test_taken_at"}),
)
CERTIFICATES = _Spec(
    Certificate,
    "certificate",
    required=("certificate_id", "type", "holder_kind", "holder_id", "valid_from", "valid_until"),
    optional=("scope", "verified"),
    id_columns=("certificate_id",),
    locs={(): "valid_until"},
    bools=frozenset({"verified"}),
    datetimes=frozenset({"valid_from", "valid_until"}),
)
OFFERS = _Spec(
    Offer,
    "offer",
    required=(
        "offer_id",
        "supplier_id",
        "category_id",
        "delivery_date",
        "capacity_units",
        "unit_price_cents",
        "depot_ids",
    ),
    optional=(
        "list_price_cents",
        "min_order_units",
        "case_size_units",
        "package_name",
        "service_districts",
        "service_max_distance_m",
    ),
    id_columns=("offer_id",),
    nested={
        "service_districts": ("service_area", "districts"),
        "service_max_distance_m": ("service_area", "max_distance_m"),
    },
    locs={
        ("service_area", "districts"): "service_districts",
        ("service_area", "max_distance_m"): "service_max_distance_m",
        ("service_area",): "service_districts",
    },
    lists=frozenset({"service_districts", "depot_ids"}),
)

_LEVEL_HINT = (
    "use one of: sealed (封控区), controlled (管控区), precaution (防范区), normal (无管控)"
)
_TIME_KEYS = frozenset({"opens_at", "closes_at", "receiving_opens_at", "receiving_closes_at"})


def _split(value: object) -> object:
    """A ';'-separated cell as a list (records' lists pass through)."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace("；", ";").split(";") if part.strip()]
    return value


def _boolean(value: object) -> object:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return value


def _datetime(value: object) -> object:
    """ISO text or a datetime; a naive one is Shanghai local time."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0), tzinfo=SHANGHAI)
    return value


def _level(value: object) -> object:
    if isinstance(value, str):
        return LOCKDOWN_LEVEL_NAMES.get(value.strip().lower(), value)
    return value


def _time(value: object) -> object:
    """YAML 1.1 reads an unquoted 17:30 as the sexagesimal number 1050: read it back."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return dt.time(value // 60, value % 60)
    return value


def _flatten(record: Mapping[str, object], prefix: str = "") -> dict[str, object]:
    """Nested mappings of a YAML/JSON record as dotted keys, to show a bad value."""
    flat: dict[str, object] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        flat[name] = value
    return flat


def _to_input(spec: _Spec, raw: Mapping[str, object], datum: Datum) -> dict[str, Any]:
    """The model's input from one row: empty cells dropped, lists split, nested fields built."""
    data: dict[str, Any] = {}
    for column, value in raw.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, str):
            value = value.strip()
        if column in spec.lists:
            value = _split(value)
        if column in spec.bools:
            value = _boolean(value)
        if column in spec.datetimes:
            value = _datetime(value)
        if column in _TIME_KEYS:
            value = _time(value)
        if column in spec.levels:
            value = [_level(v) for v in value] if isinstance(value, list) else _level(value)
        if isinstance(value, Mapping):
            value = {k: _time(v) if k in _TIME_KEYS else v for k, v in value.items()}
        target = spec.nested.get(column)
        if target is not None:
            parent = data.setdefault(target[0], {})
            if isinstance(parent, dict):
                parent[target[1]] = value
        else:
            data[column] = value
    for parent, child in spec.nested.values():  # half an interval: the other half's default
        given, default = data.get(parent), spec.model.model_fields[parent].default
        if isinstance(given, dict) and isinstance(default, BaseModel) and child not in given:
            given[child] = getattr(default, child)
    if spec.coords and datum is not Datum.wgs84:
        try:
            lon, lat = float(data["lon"]), float(data["lat"])
        except (KeyError, TypeError, ValueError):
            pass  # reported by validation
        else:
            data["lon"], data["lat"] = to_wgs84(lon, lat, datum)
    return data


def _city_issue(
    file: str, row: int | None, model: BaseModel, raw: Mapping[str, object], city: City
) -> Issue | None:
    """An issue when a model's (WGS84) point lies outside ``city``."""
    lon, lat = float(getattr(model, "lon")), float(getattr(model, "lat"))  # noqa: B009
    if city.contains(lon, lat):
        return None
    if not city.min_lon <= lon <= city.max_lon:
        column = "lon"
    elif not city.min_lat <= lat <= city.max_lat:
        column = "lat"
    else:
        column = "lon/lat"
    hint = f"give a point inside {city.describe()}"
    if city.contains(lat, lon):
        hint = "lon and lat look swapped: put longitude in 'lon', latitude in 'lat'"
    else:
        hint += "; check the datum (Amap/Tencent: --datum gcj02, Baidu: --datum bd09)"
    return Issue(
        file=file,
        row=row,
        field=column,
        message=f"point ({lon:.6f}, {lat:.6f}) lies outside {city.describe()}",
        hint=hint,
        value=f"{raw.get('lon')}, {raw.get('lat')}",
    )


def _money_issues(file: str, row: int, raw: Mapping[str, object]) -> list[Issue]:
    """Money is integer cents: '35.00' in a *_cents column would otherwise read as 35 cents."""
    issues: list[Issue] = []
    for column, value in raw.items():
        if column.endswith("_cents") and isinstance(value, str | float) and "." in str(value):
            issues.append(
                Issue(
                    file=file,
                    row=row,
                    field=column,
                    message="money must be a whole number of cents",
                    hint=f"{column} is in cents: write ¥35.00 as 3500",
                    value=str(value),
                )
            )
    return issues


def _swapped_issue(
    file: str, row: int, data: Mapping[str, Any], raw: Mapping[str, object], city: City
) -> Issue | None:
    """An issue when lon and lat only make sense the other way round."""
    try:
        lon, lat = float(data["lon"]), float(data["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    if city.contains(lon, lat) or not city.contains(lat, lon):
        return None
    return Issue(
        file=file,
        row=row,
        field="lon/lat",
        message=f"lon and lat look swapped: ({lat}, {lon}) lies in {city.name}",
        hint="put longitude (e.g. 121.47) in 'lon' and latitude (e.g. 31.23) in 'lat'",
        value=f"{raw.get('lon')}, {raw.get('lat')}",
    )


def _convert(
    spec: _Spec,
    table: _Table,
    *,
    datum: Datum = Datum.wgs84,
    city: City | None = None,
) -> tuple[list[tuple[int, Any]], list[Issue]]:
    """Validate every row of ``table``: (row number, model) pairs and every issue found."""
    issues = list(table.issues)
    skip: frozenset[str] = frozenset()
    if table.flat:
        columns = table.columns
        if table.header_row is not None:  # GeoJSON: properties vary, checked per feature
            missing = missing_columns(
                table.file, columns, spec.required, header_row=table.header_row
            )
            issues += unknown_columns(
                table.file, columns, spec.columns, header_row=table.header_row
            )
            issues += missing
            skip = frozenset(i.field for i in missing if i.field)
    locs = (
        spec.locs if table.flat else {k: ".".join(map(str, k)) or spec.locs[k] for k in spec.locs}
    )
    if spec.coords and city is None:
        city = shanghai()
    models: list[tuple[int, Any]] = []
    for row, raw in table.rows:
        if table.flat and table.header_row is None:
            raw = {k: v for k, v in raw.items() if k in spec.columns}
        data = _to_input(spec, raw, datum)
        if city is not None:
            swapped = _swapped_issue(table.file, row, data, raw, city)
            if swapped is not None:
                issues.append(swapped)
                continue
        money = _money_issues(table.file, row, raw)
        issues += money
        try:
            model = spec.model.model_validate(data)
        except ValidationError as error:
            shown = raw if table.flat else _flatten(raw)
            found = issues_from_validation_error(
                error,
                file=table.file,
                row=row,
                raw=shown,
                columns=locs,
                skip_columns=skip | {i.field for i in money if i.field},
            )
            issues += [_with_hint(i, _LEVEL_HINT) if i.field in spec.levels else i for i in found]
            continue
        if money:
            continue
        if city is not None:
            outside = _city_issue(table.file, row, model, raw, city)
            if outside is not None:
                issues.append(outside)
                continue
        models.append((row, model))
    if spec.id_columns:
        keys = [(row, tuple(getattr(m, c) for c in spec.id_columns)) for row, m in models]
        issues += duplicate_ids(
            table.file,
            [(row, key[0] if len(key) == 1 else key) for row, key in keys],
            field=spec.id_columns[-1],
            what=f"{spec.kind} {'/'.join(spec.id_columns)}",
        )
    return models, issues


def _with_hint(issue: Issue, hint: str) -> Issue:
    return Issue(issue.file, issue.row, issue.field, issue.message, hint, issue.value)


def _finish(models: list[tuple[int, M]], issues: list[Issue]) -> list[M]:
    """All models, or one DataError with every issue (issues sorted by file and row)."""
    if issues:
        issues.sort(key=lambda i: (i.file, i.row if i.row is not None else -1))
        raise DataError(issues)
    return [model for _, model in models]


# --- compounds, buildings, gates, lockdown ----------------------------------------------------


def load_compounds(
    path: PathLike, *, datum: Datum = Datum.wgs84, city: City | None = None
) -> list[Compound]:
    """Compounds from CSV, XLSX or GeoJSON; coordinates converted from ``datum`` to WGS84."""
    models, issues = _convert(COMPOUNDS, _read_table(path), datum=datum, city=city)
    return _finish(models, issues)


def load_buildings(
    path: PathLike,
    *,
    datum: Datum = Datum.wgs84,
    city: City | None = None,
    reference: Reference | None = None,
) -> list[Building]:
    """Buildings from CSV, XLSX or GeoJSON; their compounds are checked against ``reference``."""
    table = _read_table(path)
    models, issues = _convert(BUILDINGS, table, datum=datum, city=city)
    if reference is not None:
        issues += _present(
            reference.compound_issue(table.file, r, b.compound_id) for r, b in models
        )
    return _finish(models, issues)


def load_gates(
    path: PathLike,
    *,
    datum: Datum = Datum.wgs84,
    city: City | None = None,
    reference: Reference | None = None,
) -> list[Gate]:
    """Gates from CSV, XLSX or GeoJSON; with ``reference``, receiving hours must lie within
    their compound's."""
    table = _read_table(path)
    models, issues = _convert(GATES, table, datum=datum, city=city)
    if reference is not None:
        issues += _present(
            reference.compound_issue(table.file, r, g.compound_id) for r, g in models
        )
        issues += gate_hours_issues(models, reference.compound_hours, file=table.file)
    return _finish(models, issues)


def load_lockdown(path: PathLike, *, reference: Reference | None = None) -> list[LockdownStatus]:
    """Lockdown levels per compound from CSV or XLSX (封控区/管控区/防范区 accepted)."""
    table = _read_table(path, geojson=False)
    models, issues = _convert(LOCKDOWN, table)
    if reference is not None:
        issues += _present(
            reference.compound_issue(table.file, r, s.compound_id) for r, s in models
        )
    return _finish(models, issues)


def _present(issues: Iterable[Issue | None]) -> list[Issue]:
    return [issue for issue in issues if issue is not None]


# --- household orders -----------------------------------------------------------------------

ORDER_REQUIRED = (
    "order_id",
    "compound_id",
    "building_id",
    "room",
    "delivery_date",
    "category_id",
    "quantity_units",
)
ORDER_OPTIONAL = ("product", "priority_flags", "proxy", "household_name", "phone")
ORDER_COLUMNS = (*ORDER_REQUIRED, *ORDER_OPTIONAL)
_HOUSEHOLD_FIELDS = ("building_id", "room", "priority_flags", "proxy", "household_name", "phone")
_TEXT_FIELDS = frozenset({"order_id", "room", "phone", "household_name", "product"})


class _OrderRow(BaseModel):
    """One row of the long order format, validated alone so errors name their row."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    order_id: str = Field(min_length=1, max_length=128)
    compound_id: Identifier
    building_id: Identifier
    room: str = Field(min_length=1, max_length=16)
    delivery_date: dt.date
    category_id: Identifier
    quantity_units: int = Field(gt=0)
    product: str = ""
    priority_flags: frozenset[PriorityFlag] = frozenset()
    proxy: bool = False
    household_name: str = ""
    phone: str = ""


def _flag_names(flag: PriorityFlag) -> str:
    return "/".join(k for k, v in PRIORITY_FLAG_NAMES.items() if v is flag and k != flag.value)


_FLAG_HINT = "use ';'-separated flags from: " + ", ".join(
    f"{flag.value} ({_flag_names(flag)})" for flag in PriorityFlag
)


def _flags(value: object) -> tuple[frozenset[PriorityFlag], list[str]]:
    """Priority flags from a ';'-separated cell or a list; unknown names are returned apart."""
    if isinstance(value, str):
        parts: Iterable[object] = value.replace("；", ";").replace("、", ";").split(";")
    elif isinstance(value, Iterable):
        parts = value
    else:
        return frozenset(), [str(value)]
    flags: set[PriorityFlag] = set()
    unknown: list[str] = []
    for part in parts:
        name = str(part).strip()
        if not name:
            continue
        flag = PRIORITY_FLAG_NAMES.get(name.lower()) or PRIORITY_FLAG_NAMES.get(name)
        if flag is None:
            unknown.append(name)
        else:
            flags.add(flag)
    return frozenset(flags), unknown


@dataclass
class _OrderGroup:
    first_row: int
    head: _OrderRow
    items: list[dict[str, object]]


def orders_from_rows(
    rows: Iterable[Mapping[str, object]],
    *,
    source: str,
    first_row: int = 2,
    reference: Reference | None = None,
) -> list[HouseholdOrder]:
    """Household orders from rows of the long format (one row per item), all or nothing.

    Values may be text (a CSV) or already typed (dates, ints, bools from a polars frame).
    Rows with the same (compound_id, delivery_date, order_id) form one order; their
    household fields must agree. Row numbers in issues start at ``first_row``.
    """
    header = first_row - 1 if first_row > 1 else None
    return _orders(enumerate(rows, start=first_row), source, header, reference)


def _orders(
    rows: Iterable[tuple[int, Mapping[str, object]]],
    source: str,
    header: int | None,
    reference: Reference | None,
) -> list[HouseholdOrder]:
    """``orders_from_rows`` over rows that carry their own numbers."""
    with _gc_paused():
        return _orders_unpaused(rows, source, header, reference)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: bulk loads allocate no cycles, and its passes over
    100k fresh models would otherwise take two thirds of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _orders_unpaused(
    rows: Iterable[tuple[int, Mapping[str, object]]],
    source: str,
    header: int | None,
    reference: Reference | None,
) -> list[HouseholdOrder]:
    issues: list[Issue] = []
    groups: dict[tuple[str, dt.date, str], _OrderGroup] = {}
    skip: frozenset[str] = frozenset()
    checked_columns = False
    known = frozenset(ORDER_COLUMNS)
    for row_no, raw in rows:
        if not checked_columns:
            checked_columns = True
            columns = list(raw.keys())
            missing = missing_columns(source, columns, ORDER_REQUIRED, header_row=header)
            issues += missing
            issues += unknown_columns(source, columns, ORDER_COLUMNS, header_row=header)
            skip = frozenset(i.field for i in missing if i.field)
        data: dict[str, object] = {}
        row_issues: list[Issue] = []
        for column, value in raw.items():
            if value is None or column not in known:
                continue
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            if column == "priority_flags":
                flags, unknown = _flags(value)
                if unknown:
                    row_issues.append(
                        Issue(
                            source,
                            row_no,
                            "priority_flags",
                            "unknown priority flag " + ", ".join(repr(u) for u in unknown),
                            _FLAG_HINT,
                            value=str(value),
                        )
                    )
                    continue
                value = flags
            elif column == "proxy":
                value = _boolean(value)
            elif column in _TEXT_FIELDS and isinstance(value, int | float):
                value = _cell_text(value)
            data[column] = value
        try:
            line = _OrderRow.model_validate(data)
        except ValidationError as error:
            shown = {k: v for k, v in raw.items() if k in known}
            reported = skip | {i.field for i in row_issues if i.field}
            row_issues += issues_from_validation_error(
                error, file=source, row=row_no, raw=shown, skip_columns=frozenset(reported)
            )
            issues += row_issues
            continue
        issues += row_issues
        if reference is not None:
            issues += _present(
                (
                    reference.compound_issue(source, row_no, line.compound_id),
                    reference.building_issue(source, row_no, line.compound_id, line.building_id),
                    reference.room_issue(
                        source, row_no, line.compound_id, line.building_id, line.room
                    ),
                    reference.category_issue(source, row_no, line.category_id),
                )
            )
        item = {
            "category_id": line.category_id,
            "quantity_units": line.quantity_units,
            "product": line.product,
        }
        key = (line.compound_id, line.delivery_date, line.order_id)
        group = groups.get(key)
        if group is None:
            groups[key] = _OrderGroup(row_no, line, [item])
            continue
        group.items.append(item)
        for name in _HOUSEHOLD_FIELDS:
            ours, theirs = getattr(line, name), getattr(group.head, name)
            if ours != theirs:
                issues.append(
                    Issue(
                        source,
                        row_no,
                        name,
                        f"order {line.order_id} has {name} {_show(theirs)} on row "
                        f"{group.first_row} but {_show(ours)} on row {row_no}",
                        "give every row of one order the same household fields, or use a "
                        "different order_id for a different household",
                        value=_display_value(ours),
                    )
                )
                break
    if issues:
        raise DataError(_sorted(issues))
    orders: list[HouseholdOrder] = []
    for (compound_id, delivery_date, order_id), group in groups.items():
        head = group.head
        orders.append(
            HouseholdOrder.model_validate(
                {
                    "order_id": order_id,
                    "compound_id": compound_id,
                    "building_id": head.building_id,
                    "room": head.room,
                    "delivery_date": delivery_date,
                    "items": group.items,
                    "priority_flags": head.priority_flags,
                    "proxy": head.proxy,
                    "household_name": head.household_name,
                    "phone": head.phone,
                }
            )
        )
    return orders


def _display_value(value: object) -> str:
    if isinstance(value, frozenset):
        return ";".join(sorted(str(v) for v in value))
    return str(value)


def _show(value: object) -> str:
    if isinstance(value, frozenset):
        return repr(";".join(sorted(str(v) for v in value)))
    return repr(value)


def _sorted(issues: list[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda i: (i.file, i.row if i.row is not None else -1))


def load_orders(path: PathLike, *, reference: Reference | None = None) -> list[HouseholdOrder]:
    """Household orders from a CSV or XLSX file in the long format (one row per item)."""
    table = _read_table(path, geojson=False)
    if not table.rows:
        issues = table.issues or missing_columns(table.file, table.columns, ORDER_REQUIRED)
        if issues:
            raise DataError(issues)
        return []
    try:
        orders = _orders(table.rows, table.file, table.header_row, reference)
    except DataError as error:
        raise DataError(_sorted([*table.issues, *error.issues])) from None
    if table.issues:
        raise DataError(table.issues)
    return orders


# --- categories and supply --------------------------------------------------------------------


def _records(
    path: Path, document: Any, key: str
) -> tuple[str, list[tuple[int, dict[str, object]]]]:
    """The list under ``key`` of a YAML/JSON document (or the document itself if a list)."""
    file = str(path)
    items = document.get(key) if isinstance(document, dict) else document
    if items is None:
        return file, []
    if not isinstance(items, list):
        raise DataError(
            [Issue(file, None, key, f"'{key}' is not a list", f"write '{key}:' as a list")]
        )
    rows: list[tuple[int, dict[str, object]]] = []
    bad: list[Issue] = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            rows.append((number, {str(k): v for k, v in item.items()}))
        else:
            bad.append(
                Issue(f"{file} [{key}]", number, None, "entry is not a mapping", "write key: value")
            )
    if bad:
        raise DataError(bad)
    return file, rows


def load_categories(path: PathLike) -> list[Category]:
    """Categories from a YAML or JSON file with a top-level ``categories`` list."""
    path = Path(path)
    if not path.is_file():
        raise DataError([Issue(str(path), None, None, "file not found", "check the path")])
    file, rows = _records(path, _read_document(path), "categories")
    table = _Table(file=file, columns=[], rows=rows, header_row=None, flat=False)
    models, issues = _convert(CATEGORIES, table)
    issues += _alias_clashes(file, models)
    return _finish(models, issues)


def _alias_clashes(file: str, models: list[tuple[int, Category]]) -> list[Issue]:
    """An alias or name that means two categories would make 接龙 text ambiguous."""
    owner: dict[str, str] = {}
    issues: list[Issue] = []
    for row, category in models:
        names = dict.fromkeys([category.name_zh, *category.aliases])
        for name in names:
            other = owner.setdefault(name, category.category_id)
            if other != category.category_id:
                issues.append(
                    Issue(
                        file,
                        row,
                        "aliases",
                        f"product name {name!r} is already used by category {other}",
                        "give each product name to one category only",
                        value=name,
                    )
                )
    return issues


@dataclass(frozen=True)
class SupplyBundle:
    """Everything suppliers bring, as loaded from one YAML/JSON file or a set of CSVs."""

    suppliers: tuple[Supplier, ...] = ()
    depots: tuple[Depot, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    drivers: tuple[Driver, ...] = ()
    certificates: tuple[Certificate, ...] = ()
    offers: tuple[Offer, ...] = ()
    crew: tuple[CrewMember, ...] = ()


SUPPLY_KINDS: Mapping[str, _Spec] = {
    "suppliers": SUPPLIERS,
    "depots": DEPOTS,
    "vehicles": VEHICLES,
    "drivers": DRIVERS,
    "crew": CREW,
    "certificates": CERTIFICATES,
    "offers": OFFERS,
}
"""Top-level lists of a supply file, and the CSV file stems, in dependency order."""


def load_supply(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    datum: Datum = Datum.wgs84,
    city: City | None = None,
    reference: Reference | None = None,
    as_of: dt.datetime | None = None,
) -> SupplyBundle:
    """Suppliers, depots, vehicles, drivers, crew, certificates and offers, all or nothing.

    From one YAML/JSON file with those top-level lists, or from CSVs named by kind
    (``offers.csv``, ...) given as a list or a directory. With ``as_of``, a certificate
    that expired before it is an error; with ``reference``, offer categories are checked.
    """
    tables = _supply_tables(path_or_paths)
    issues: list[Issue] = []
    loaded: dict[str, list[tuple[int, Any]]] = {}
    files: dict[str, str] = {}
    for kind, table in tables.items():
        models, found = _convert(SUPPLY_KINDS[kind], table, datum=datum, city=city)
        loaded[kind], files[kind] = models, table.file
        issues += found
    base = reference or Reference()
    ref = base.merged(
        suppliers=[s for _, s in loaded.get("suppliers", [])],
        depots=[d for _, d in loaded.get("depots", [])],
    )
    for kind in ("depots", "vehicles", "drivers", "crew", "offers"):
        issues += _present(
            ref.supplier_issue(files[kind], row, model.supplier_id)
            for row, model in loaded.get(kind, [])
        )
    for row, vehicle in loaded.get("vehicles", []):
        issues += _present(
            [
                ref.depot_issue(
                    files["vehicles"], row, vehicle.supplier_id, vehicle.depot_id, field="depot_id"
                )
            ]
        )
    holders = {
        HolderKind.supplier: ref.supplier_ids,
        HolderKind.vehicle: _ids_if_any(loaded.get("vehicles", []), "vehicle_id"),
        HolderKind.driver: _ids_if_any(loaded.get("drivers", []), "driver_id"),
        HolderKind.crew: _ids_if_any(loaded.get("crew", []), "crew_id"),
    }
    issues += certificate_holder_issues(
        loaded.get("certificates", []), holders, file=files.get("certificates", "")
    )
    for row, offer in loaded.get("offers", []):
        file = files["offers"]
        issues += _present([ref.category_issue(file, row, offer.category_id)])
        issues += _present(
            ref.depot_issue(file, row, offer.supplier_id, depot_id, field="depot_ids")
            for depot_id in offer.depot_ids
        )
    if as_of is not None:
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=SHANGHAI)
        issues += expired_certificates(
            loaded.get("certificates", []), file=files.get("certificates", ""), as_of=as_of
        )
    if issues:
        raise DataError(_sorted(issues))
    return SupplyBundle(
        **{kind: tuple(m for _, m in loaded.get(kind, [])) for kind in SUPPLY_KINDS}
    )


def _ids_if_any(models: list[tuple[int, Any]], id_field: str) -> frozenset[str] | None:
    """Ids of the records of one kind in this input; None (not checked) when there are none."""
    return frozenset(getattr(m, id_field) for _, m in models) if models else None


def _supply_tables(path_or_paths: PathLike | Sequence[PathLike]) -> dict[str, _Table]:
    """The tables of a supply input: lists of one YAML/JSON file, or CSVs named by kind."""
    if isinstance(path_or_paths, str | os.PathLike):
        path = Path(path_or_paths)
        if path.is_dir():
            paths = sorted(p for p in path.iterdir() if p.suffix.lower() in {".csv", ".xlsx"})
        elif path.suffix.lower() in {".yaml", ".yml", ".json"}:
            return _supply_document(path)
        else:
            paths = [path]
    else:
        paths = [Path(p) for p in path_or_paths]
    tables: dict[str, _Table] = {}
    issues: list[Issue] = []
    for path in paths:
        stem = path.stem.lower()
        kind = stem if stem in SUPPLY_KINDS else f"{stem}s" if f"{stem}s" in SUPPLY_KINDS else ""
        if not kind:
            issues.append(
                Issue(
                    str(path),
                    None,
                    None,
                    "cannot tell what this file holds from its name",
                    "name it after its kind: " + ", ".join(f"{k}.csv" for k in SUPPLY_KINDS),
                )
            )
            continue
        if kind in tables:
            issues.append(
                Issue(str(path), None, None, f"a second {kind} file", "merge the two files")
            )
            continue
        try:
            tables[kind] = _read_table(path, geojson=False)
        except DataError as error:
            issues += error.issues
    if issues:
        raise DataError(issues)
    return tables


def _supply_document(path: Path) -> dict[str, _Table]:
    document = _read_document(path)
    file = str(path)
    if not isinstance(document, dict):
        raise DataError(
            [
                Issue(
                    file,
                    None,
                    None,
                    "a supply file must be a mapping of lists",
                    "write top-level lists: " + ", ".join(SUPPLY_KINDS),
                )
            ]
        )
    unknown = [k for k in document if k not in SUPPLY_KINDS]
    if unknown:
        raise DataError(
            [
                Issue(
                    file,
                    None,
                    str(k),
                    f"unknown top-level list '{k}'",
                    "use only: " + ", ".join(SUPPLY_KINDS),
                )
                for k in unknown
            ]
        )
    tables: dict[str, _Table] = {}
    for kind in SUPPLY_KINDS:
        _, rows = _records(path, document, kind)
        tables[kind] = _Table(
            file=f"{file} [{kind}]", columns=[], rows=rows, header_row=None, flat=False
        )
    return tables
