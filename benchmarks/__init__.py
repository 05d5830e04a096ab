"""Benchmarks call data_access directly, as the operator of the whole database (like the CLI), and time the
pages without sign-in (YIPING_AUTH=off unless set): sign-in is not what they measure."""
import os

from data_access.scope import EVERYWHERE, NOBODY, Scope, default, trust_process

if default() is NOBODY:  # under pytest, tests/conftest.py has declared the test city already
    trust_process(Scope("benchmark", "admin", EVERYWHERE, via="cli"))
os.environ.setdefault("YIPING_AUTH", "off")
