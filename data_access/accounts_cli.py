"""``python -m data_access users|tokens|audit``: accounts, wall tokens and the audit log from the shell.

Passwords are read from standard input (first line, for scripts) or prompted twice without echo; never
from argv (it shows in ``ps`` and the shell history). A token is printed once, on the last line. Every
change is written to the audit log as ``cli:<operating-system user>``.
"""
from __future__ import annotations

import datetime as dt
import getpass
import sys

from .engine import check, database_url, get_engine
from .migrate import upgrade
from .scope import ROLES


class CommandError(Exception):
    """One Chinese sentence for stderr (exit code 2)."""


def add_parsers(sub) -> None:
    u = sub.add_parser("users", help="本地账号：新增、列表、停用、启用、改密码",
                       description="管理本地账号。密码从标准输入读取（第一行）或交互输入，不接受命令行参数。")
    us = u.add_subparsers(dest="verb", required=True)
    a = us.add_parser("add", help="新增账号")
    a.add_argument("name")
    a.add_argument("--region", required=True, help="区划代码（12 位），账号只能看到该区域及其下级")
    a.add_argument("--role", required=True, choices=ROLES, help="viewer 查看；exporter +导出；importer +导入；admin 管理员")
    leaves = [a, us.add_parser("list", help="列出账号（不含密码）")]
    for verb, what in (("disable", "停用账号"), ("enable", "启用账号"), ("password", "修改密码")):
        p = us.add_parser(verb, help=what)
        p.add_argument("name")
        leaves.append(p)
    k = sub.add_parser("tokens", help="大屏令牌：发放、列表、吊销", description="大屏（/wall?token=…）只读令牌。")
    ks = k.add_subparsers(dest="verb", required=True)
    ka = ks.add_parser("add", help="发放令牌（最后一行输出令牌，只显示一次）")
    ka.add_argument("--region", required=True, help="区划代码（12 位）")
    ka.add_argument("--name", default="指挥中心大屏", help="令牌名称，如 指挥中心大屏")
    kr = ks.add_parser("revoke", help="吊销令牌（大屏下次刷新时停止显示）")
    kr.add_argument("id", type=int)
    leaves += [ka, kr, ks.add_parser("list", help="列出令牌（不含令牌本身）")]
    au = sub.add_parser("audit", help="打印审计日志", description="按时间、操作人、操作筛选并打印审计日志（最新在前）。")
    au.add_argument("--since", default=None, help="开始日期 YYYY-MM-DD（含）")
    au.add_argument("--until", default=None, help="结束日期 YYYY-MM-DD（含）")
    au.add_argument("--actor", default=None)
    au.add_argument("--action", default=None)
    au.add_argument("--limit", type=int, default=10_000)
    for p in (*leaves, au):
        p.add_argument("--database-url", default=None, help="默认读取环境变量 DATABASE_URL")


def read_password(prompt: str = "密码：") -> str:
    """The first line of stdin when it is not a terminal; otherwise a hidden prompt, asked twice."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("再次输入密码：") != first:
        raise CommandError("两次输入的密码不一致。")
    return first


def operator() -> str:
    return f"cli:{getpass.getuser()}"


def _date(value: str | None, what: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(f"{what} {value!r} 不是有效日期，应写成 YYYY-MM-DD。") from None


def run(args) -> str:
    """Run one users/tokens/audit command; returns what to print."""
    from . import audit, tokens, users
    engine = get_engine(args.database_url or database_url())
    check(engine)
    upgrade(engine)
    me = operator()
    try:
        if args.command == "audit":
            since, until = _date(args.since, "--since"), _date(args.until, "--until")
            with engine.connect() as conn:
                log = audit.read(conn, since=since, until=until and until + dt.timedelta(days=1), actor=args.actor,
                                 action=args.action, limit=args.limit)
            lines = [f"{r.at:%Y-%m-%d %H:%M:%S}\t{r.actor}\t{r.action}\t{r.region or '-'}\t{r.details}"
                     for r in log.itertuples()]
            return "\n".join(["时间\t操作人\t操作\t区划\t详情", *lines, f"共 {len(log):,} 条"])
        if args.command == "users":
            if args.verb == "list":
                with engine.connect() as conn:
                    df = users.listing(conn)
                return df.to_string(index=False) if len(df) else "（没有账号）"
            password = read_password() if args.verb in ("add", "password") else None
            with engine.begin() as conn:
                if args.verb == "add":
                    users.add(conn, args.name, password, args.role, args.region)
                    audit.record(conn, me, "user_add", region=args.region, details={"user": args.name, "role": args.role})
                    return f"已新增账号 {args.name}（{args.role}，{args.region}）"
                if args.verb == "password":
                    users.set_password(conn, args.name, password)
                    audit.record(conn, me, "user_password", details={"user": args.name})
                    return f"已修改 {args.name} 的密码"
                users.set_disabled(conn, args.name, args.verb == "disable")
                audit.record(conn, me, f"user_{args.verb}", details={"user": args.name})
                return f"已{'停用' if args.verb == 'disable' else '启用'}账号 {args.name}"
        if args.verb == "list":
            with engine.connect() as conn:
                df = tokens.listing(conn)
            return df.to_string(index=False) if len(df) else "（没有令牌）"
        with engine.begin() as conn:
            if args.verb == "add":
                token_id, token = tokens.add(conn, args.region, args.name, me)
                audit.record(conn, me, "token_add", region=args.region, details={"token_id": token_id, "name": args.name})
                return f"已发放令牌 {token_id}（{args.name}，{args.region}）。大屏地址：/wall?token=…（令牌只显示这一次）\n{token}"
            row = tokens.revoke(conn, args.id)
            audit.record(conn, me, "token_revoke", region=row["region"], details={"token_id": args.id})
            return f"已吊销令牌 {args.id}，使用它的大屏将在下次刷新时停止显示。"
    except (users.UserError, tokens.TokenError) as exc:
        raise CommandError(str(exc)) from None
