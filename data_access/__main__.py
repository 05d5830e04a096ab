"""Scheduled reports from the command line (cron, 计划任务): the same files the 数据查询导出 page offers.

    python -m data_access export --region 331102000000 --from 2025-01-01 --to 2025-12-31 \\
        [--category 矛盾纠纷 ...] [--source 12345热线 ...] [--status closed|已办结 ...] [--overdue-only] \\
        [--text 关键词] [--warning 红] [--what cases|indicators|report] [--month 2025-12] \\
        --format xlsx|csv|csv-gb18030 -o FILE [--unmask] [--as-of "2026-01-01 00:00"] [--database-url URL]

The database is DATABASE_URL (or --database-url). ``--what report`` writes the 平安报表 of ``--month``
(default: the month of ``--to``) with warning colours from config/warning_rules.toml (or WARNING_RULES).
Personal data is masked; ``--unmask`` needs YIPING_ALLOW_UNMASK=1 in the environment, like the page.
    python -m data_access import FILE [FILE ...] [--coords gcj02|bd09] [--format table|open311] [--user NAME]
    python -m data_access boundaries FILE --level county|township|village|grid [--code-field F]
        [--name-field F] [--parent-field F] [--population-field F] [--crs EPSG:NNNN] [--coords gcj02|bd09]

``import`` loads cases from CSV (UTF-8, BOM or GB18030) or Excel files, like the 数据导入 page: rows that
cannot be imported go to ``<file>.rejected.<time>.csv`` beside the input with the reason; the rest land in
one transaction with the rollups refreshed.
Accounts, wall tokens and the audit log (issue 15; passwords are read from stdin or prompted, never argv):

    python -m data_access users add NAME --region CODE --role viewer|exporter|importer|admin
    python -m data_access users list | users disable NAME | users enable NAME | users password NAME
    python -m data_access tokens add --region CODE [--name 指挥中心大屏]     (the token is the last line)
    python -m data_access tokens list | tokens revoke ID
    python -m data_access audit [--since 2026-11-01] [--until DATE] [--actor NAME] [--action export]

``export`` and ``import`` run as the operator (the whole city) unless ``--user NAME`` names an account, whose
region and role then apply (a county importer's rows of other counties are quarantined). Every export,
import, token and user change is written to the audit log.
Exit codes: 0 written/imported; 2 bad input (unknown region, bad date …), database unreachable or export failed;
every error is one Chinese sentence on stderr, and no partial file is left behind.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from .case_list import BadFilter, CaseQuery
from .codes import is_code
from .engine import DatabaseUnavailable, check, database_url, get_engine, safe_url
from .scope import OutsideScope, Scope, row_filter as scope_filter
from .view import View

STATUSES = ("reported", "dispatched", "closed", "reopened")
EXIT_ERROR = 2


class CliError(Exception):
    """A problem to report in one Chinese sentence (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own messages are English: wrap them
        self.print_usage(sys.stderr)
        print(f"错误：命令行参数有误（{message}）。完整说明见 python -m data_access export --help", file=sys.stderr)
        sys.exit(EXIT_ERROR)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m data_access", description="一屏统管数据工具")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    e = sub.add_parser("export", help="导出事件明细、下级区域指标表或平安报表（xlsx/csv）",
                       description="按筛选条件导出 Excel 或 CSV 文件，供月度报表等定时任务使用。")
    e.add_argument("--region", required=True, help="区划代码（12 位；网格 15 位），如 331102000000")
    e.add_argument("--from", dest="date_from", required=True, help="开始日期 YYYY-MM-DD（含）")
    e.add_argument("--to", dest="date_to", required=True, help="结束日期 YYYY-MM-DD（含）")
    e.add_argument("--category", action="append", default=[], help="事件类别，可重复或用逗号分隔")
    e.add_argument("--source", action="append", default=[], help="事件来源，可重复或用逗号分隔")
    e.add_argument("--status", action="append", default=[],
                   help="事件状态：reported/dispatched/closed/reopened 或 已受理/处置中/已办结/重新打开")
    e.add_argument("--overdue-only", action="store_true", help="只导出逾期未办结的事件")
    e.add_argument("--text", default="", help="事件描述关键词（多个词用空格分隔，须同时出现）")
    e.add_argument("--warning", default=None, help="只导出综合预警为该等级的下级区域中的事件，如 红")
    e.add_argument("--what", choices=("cases", "indicators", "report"), default="cases",
                   help="cases 事件明细（默认）；indicators 下级区域指标表；report 平安报表")
    e.add_argument("--month", default=None, help="平安报表月份 YYYY-MM（默认 --to 所在月份）")
    e.add_argument("--format", dest="fmt", choices=("xlsx", "csv", "csv-gb18030", "open311", "open311-csv"), required=True,
                   help="xlsx；csv（UTF-8 带 BOM）；csv-gb18030；open311（Open311 GeoReport v2 JSON，仅事件明细）；open311-csv")
    e.add_argument("-o", "--output", required=True, help="输出文件路径")
    e.add_argument("--unmask", action="store_true", help="不脱敏个人信息（需环境变量 YIPING_ALLOW_UNMASK=1）")
    e.add_argument("--as-of", default=None, help="逾期判定时间 \"YYYY-MM-DD HH:MM\"（默认当前时间）")
    e.add_argument("--database-url", default=None, help="默认读取环境变量 DATABASE_URL")
    e.add_argument("--user", default=None, help="以该账号的区域与角色导出（默认：服务器操作员，全市）")
    i = sub.add_parser("import", help="导入事件数据（CSV/Excel），有问题的行写入隔离文件",
                       description="导入事件数据文件；无法导入的行连同原因写入同目录的 .rejected.*.csv 隔离文件。")
    i.add_argument("files", nargs="+", help="CSV（UTF-8 或 GB18030）或 Excel 文件")
    i.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), default=None,
                   help="经纬度的坐标类型：gcj02（高德、腾讯）或 bd09（百度），转换为 WGS84 后保存")
    i.add_argument("--format", dest="fmt", choices=("table", "open311"), default="table",
                   help="table 事件表（默认）；open311 Open311 GeoReport v2 请求（JSON 或 CSV）")
    i.add_argument("--database-url", default=None, help="默认读取环境变量 DATABASE_URL")
    i.add_argument("--user", default=None, help="以该账号导入：其区域以外的行进入隔离文件（默认：服务器操作员）")
    b = sub.add_parser("boundaries", help="导入乡镇、村（社区）或网格边界（GeoJSON、Shapefile、GeoPackage）",
                       description="导入边界文件并检查几何、编码与上下级关系；同一层级重新导入即替换该层级。")
    b.add_argument("file", help="GeoJSON、Shapefile（.shp 或 .zip）或 GeoPackage 文件")
    b.add_argument("--level", required=True, choices=("county", "township", "village", "grid"), help="边界层级")
    b.add_argument("--code-field", default=None, help="编码字段名（默认按 编码/代码/code 等常见名称查找）")
    b.add_argument("--name-field", default=None, help="名称字段名")
    b.add_argument("--parent-field", default=None, help="上级编码字段名（网格编码不是 15 位时必需）")
    b.add_argument("--population-field", default=None, help="人口字段名")
    b.add_argument("--crs", default=None, help="文件没有坐标系信息时使用的坐标系，如 EPSG:4490、EPSG:4527")
    b.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), default=None, help="偏移坐标：gcj02 或 bd09")
    b.add_argument("--user", default=None, help="以该账号导入：其区域以外的边界被拒绝（默认：服务器操作员）")
    b.add_argument("--database-url", default=None, help="默认读取环境变量 DATABASE_URL")
    from .accounts_cli import add_parsers
    add_parsers(sub)
    return p


def import_files(args) -> list[str]:
    """Import each file in turn; returns one summary line per file. Raises CliError on the first bad file."""
    from .imports import ImportFailed, import_cases
    from .migrate import upgrade
    url = args.database_url or database_url()
    engine = get_engine(url)
    check(engine)
    upgrade(engine)
    who = acting_scope(engine, args.user, "importer")
    lines = []
    for name in args.files:
        t0 = time.perf_counter()
        try:
            if getattr(args, "fmt", "table") == "open311":
                from .imports.open311 import import_open311
                rep = import_open311(engine, Path(name), user=who.user, row_filter=scope_filter(who, "grid_code"))
            else:
                rep = import_cases(engine, Path(name), coords=args.coords, scope=who)
        except ImportFailed as exc:
            raise CliError(f"{exc}（已导入的文件：{len(lines)} 个，此文件未导入任何行）") from None
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise CliError(f"导入 {name} 时数据库出错：{reason}；此文件未导入任何行。") from None
        line = (f"{name}：读取 {rep.read:,} 行，新增 {rep.inserted:,} 条，更新 {rep.updated:,} 条，拒绝 {rep.rejected:,} 条，"
                f"未变 {rep.unchanged:,} 条")
        if rep.quarantine:
            line += f"（原因见 {rep.quarantine}）"
        lines.append(line + f"，用时 {time.perf_counter() - t0:.1f} 秒")
        lines += [f"  说明：{n}" for n in rep.notes]
    return lines


def import_boundaries(args) -> list[str]:
    """Import one boundary file; the summary, the notes and every rejected feature with its reason."""
    from .imports import ImportFailed
    from .imports.boundaries import import_boundaries as run
    from .migrate import upgrade
    engine = get_engine(args.database_url or database_url())
    check(engine)
    upgrade(engine)
    who = acting_scope(engine, args.user, "importer")
    try:
        rep = run(engine, Path(args.file), args.level, code_field=args.code_field, name_field=args.name_field,
                  parent_field=args.parent_field, population_field=args.population_field, crs=args.crs,
                  coords=args.coords, user=who.user, row_filter=scope_filter(who, "code"))
    except ImportFailed as exc:
        raise CliError(f"{exc}（未导入任何边界）") from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise CliError(f"导入 {args.file} 时数据库出错：{reason}；未导入任何边界。") from None
    lines = [f"{args.file}：读取 {rep.read:,} 个要素，新增 {rep.inserted:,} 个，更新 {rep.updated:,} 个，"
             f"未变 {rep.unchanged:,} 个，拒绝 {rep.rejected:,} 个，移除 {len(rep.removed):,} 个，用时 {rep.seconds:.1f} 秒"]
    lines += [f"  说明：{n}" for n in rep.notes]
    lines += [f"  拒绝：{why}" for _, why in rep.rejects]
    return lines


def acting_scope(engine, user: str | None, role: str) -> Scope:
    """The Scope a command runs with: the account ``user`` (must exist, be enabled and hold ``role``), else the
    operator of the shell, who already holds the database: the whole city as admin."""
    from . import queries, users
    with engine.connect() as conn:
        if user:
            scope = users.scope_of(users.get(conn, user), via="cli")
            if scope is None:
                raise CliError(f"账号 {user} 不存在或已停用。")
            if not scope.may(role):
                raise CliError(f"账号 {user} 的角色 {scope.role} 不能执行此操作（需要 {role}）。")
            return scope
        import getpass
        return Scope(f"cli:{getpass.getuser()}", "admin", queries.root_code(conn), via="cli")


def _date(value: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise CliError(f"{what} {value!r} 不是有效日期，应写成 YYYY-MM-DD，例如 2025-01-31。") from None


def _listed(values: list[str]) -> tuple[str, ...]:
    out = []
    for v in values:
        out += [x.strip() for x in v.replace("，", ",").split(",") if x.strip()]
    return tuple(dict.fromkeys(out))


def _statuses(values: tuple[str, ...]) -> tuple[str, ...]:
    from ui.strings import t
    by_name = {t(f"status_{s}"): s for s in STATUSES}
    out = []
    for v in values:
        if v in STATUSES:
            out.append(v)
        elif v in by_name:
            out.append(by_name[v])
        else:
            choices = "、".join(f"{s}（{t(f'status_{s}')}）" for s in STATUSES)
            raise CliError(f"未知的事件状态 {v!r}，可选：{choices}。")
    return tuple(out)


def _check_values(conn, column: str, values: tuple[str, ...], what: str) -> None:
    from .queries import distinct_values
    known = distinct_values(conn, column)
    for v in values:
        if v not in known:
            raise CliError(f"{what} {v!r} 在数据库中不存在，可选：{'、'.join(known)}。")


def _month(value: str | None, date_to: dt.date) -> tuple[int, int]:
    if not value:
        return date_to.year, date_to.month
    try:
        d = dt.datetime.strptime(value.strip(), "%Y-%m")
    except ValueError:
        raise CliError(f"报表月份 --month {value!r} 无效，应写成 YYYY-MM，例如 2025-12。") from None
    return d.year, d.month


def _as_of(value: str | None) -> dt.datetime:
    if not value:
        return dt.datetime.now().replace(second=0, microsecond=0)
    try:
        return dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(f"逾期判定时间 --as-of {value!r} 无效，应写成 \"YYYY-MM-DD HH:MM\"。") from None


def export(args) -> str:
    """Run one export; returns the summary line. Raises CliError for anything people must fix."""
    from exports import tables
    from exports.writers import ExportTooLarge
    from analytics.warnings import RulesError
    from . import queries

    region = args.region.strip()
    if not is_code(region):
        raise CliError(f"区划代码 {region!r} 格式不正确，应为 12 位数字（网格为 15 位），例如 331102000000。")
    d0, d1 = _date(args.date_from, "开始日期 --from"), _date(args.date_to, "结束日期 --to")
    if d0 > d1:
        raise CliError(f"开始日期 {d0} 晚于结束日期 {d1}，请检查 --from 与 --to。")
    statuses = _statuses(_listed(args.status))
    at = _as_of(args.as_of)
    if args.unmask and not tables.allow_unmask():
        raise CliError(f"--unmask 需要管理员在环境中设置 {tables.UNMASK_ENV}=1，否则个人信息一律脱敏导出。")
    out = Path(args.output)
    if not out.parent.exists():
        raise CliError(f"输出目录 {out.parent} 不存在，请先创建。")
    url = args.database_url or database_url()
    engine = get_engine(url)
    check(engine)
    who = acting_scope(engine, args.user, "exporter")
    view = View(region, d0, d1, _listed(args.category), _listed(args.source), statuses, scope=who)
    t0 = time.perf_counter()
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        with engine.connect() as conn:
            try:
                name = queries.region(conn, region, who)["name"]
            except queries.UnknownRegion as exc:
                raise CliError(f"{exc}请检查 --region（数据库 {safe_url(url)}）。") from None
            except OutsideScope as exc:
                raise CliError(str(exc)) from None
            _check_values(conn, "category", view.categories, "事件类别")
            _check_values(conn, "source", view.sources, "事件来源")
            rules = tables.load_default_rules() if (args.what in ("report", "indicators") or args.warning) else None
            if args.fmt.startswith("open311") and args.what != "cases":
                raise CliError("Open311 格式只用于事件明细（--what cases）。")
            if args.what == "cases":
                regions = None
                if args.warning:
                    names = tables.level_names(rules)
                    if args.warning not in names:
                        raise CliError(f"未知的预警等级 {args.warning!r}，可选：{'、'.join(names)}。")
                    from .judged import warning_table
                    regions = tables.children_with_level(warning_table(conn, view, at, rules), rules, args.warning)
                q = CaseQuery(view, at, overdue_only=args.overdue_only, text=args.text, regions=regions)
                if args.fmt.startswith("open311"):
                    from exports.open311 import export_open311
                    rows = export_open311(conn, q, tmp, unmask=args.unmask, as_csv=args.fmt == "open311-csv")
                    os.replace(tmp, out)
                    return f"已导出 {rows:,} 条 Open311 请求 → {out}（{time.perf_counter() - t0:.1f} 秒）"
                if args.fmt == "xlsx":
                    from .case_list import count
                    n = count(conn, q)
                    if n > tables.XLSX_ROW_LIMIT:
                        raise CliError(f"共 {n:,} 行，超过 Excel 单个工作表上限（{tables.XLSX_ROW_LIMIT:,} 行）；"
                                       f"请缩小范围，或改用 --format csv。")
                rows = tables.export_cases(conn, q, args.fmt, tmp, region_name=name, unmask=args.unmask,
                                           warning=args.warning)
            elif args.what == "indicators":
                from .judged import warning_table
                rows = tables.export_indicators(warning_table(conn, view, at, rules), view,
                                                args.fmt, tmp, region_name=name, as_of=at, rules=rules)
            else:
                from .judged import warning_table
                month = tables.month_view(view, *_month(args.month, d1))
                evaluated = warning_table(conn, month, at, rules)
                rows = tables.export_report(evaluated, rules, month, args.fmt, tmp, region_name=name, as_of=at)
        from . import audit
        with engine.begin() as conn:
            details = audit.view_details(view, what=args.what, format=args.fmt, rows=rows, file=str(out),
                                         unmask=args.unmask, warning=args.warning, overdue_only=args.overdue_only,
                                         text=args.text)
            audit.record(conn, who.user, "export", region=region, details=details)
            if args.unmask:
                audit.record(conn, who.user, "unmask", region=region, details=details)
        os.replace(tmp, out)
    except BadFilter as exc:
        raise CliError(str(exc)) from None
    except (RulesError, ExportTooLarge) as exc:
        raise CliError(str(exc)) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise CliError(f"数据库查询失败：{reason}。请确认 {safe_url(url)} 已初始化（可运行 python -m sample_data）。") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return f"已导出 {rows:,} 行 → {out}（{time.perf_counter() - t0:.1f} 秒）"


def main(argv: list[str] | None = None) -> int:
    from .accounts_cli import CommandError
    args = _parser().parse_args(argv)
    try:
        if args.command == "import":
            print("\n".join(import_files(args)))
        elif args.command == "boundaries":
            print("\n".join(import_boundaries(args)))
        elif args.command == "export":
            print(export(args))
        else:
            from .accounts_cli import run
            print(run(args))
    except (CliError, DatabaseUnavailable, CommandError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"错误：无法读写文件 {getattr(args, 'output', None) or getattr(args, 'file', None) or ''}：{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
