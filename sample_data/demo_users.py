"""Demo accounts shipped with the sample city: one each at city, county and township level (README lists them).

They exist so that sign-in can be tried on the sample data (YIPING_AUTH=local). The passwords are public:
never keep these accounts on a server with real data (``python -m data_access users disable demo-city`` …).
"""
from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from data_access import users
from data_access.schema import users as users_t

PASSWORD = "yiping-demo-2026"


def demo_accounts(city: str, county: str, township: str) -> list[tuple[str, str, str]]:
    """(name, role, region) of the demo users."""
    return [("demo-city", "admin", city), ("demo-county", "importer", county), ("demo-town", "viewer", township)]


def create(conn: Connection, city: str, county: str, township: str) -> list[tuple[str, str, str]]:
    """(Re)create the demo users for this city (same names, fresh regions) inside the caller's transaction."""
    accounts = demo_accounts(city, county, township)
    conn.execute(delete(users_t).where(users_t.c.name.in_([a[0] for a in accounts])))
    for name, role, region in accounts:
        users.add(conn, name, PASSWORD, role, region)
    return accounts
