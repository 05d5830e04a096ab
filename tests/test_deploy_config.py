"""deploy/run's nginx config: sticky routes per replica with the others as backups, and nginx accepts it."""
import importlib.machinery
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT


def runner():
    loader = importlib.machinery.SourceFileLoader("deploy_run", str(ROOT / "deploy" / "run"))
    spec = importlib.util.spec_from_loader("deploy_run", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_routes_backups_and_websocket():
    conf = runner().render_http("8080", [9001, 9002, 9003])
    assert "listen 8080;" in conf
    # a cookie names its replica; no cookie: round-robin over all three
    assert "r1 yp_r1;" in conf and "r3 yp_r3;" in conf and "default yp_all;" in conf
    # each replica's group falls back to the two others
    block = conf[conf.index("upstream yp_r2 {"):]
    block = block[:block.index("}")]
    assert "server 127.0.0.1:9002 max_fails=1" in block
    assert "server 127.0.0.1:9001 backup;" in block and "server 127.0.0.1:9003 backup;" in block
    # the answering replica (last address tried) re-pins the cookie
    assert '"~127\\.0\\.0\\.1:9003$" r3;' in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf and "location = /_stcore/stream" in conf
    assert "client_max_body_size 200m;" in conf
    assert "@" not in conf.replace("@@", "")  # every placeholder filled


@pytest.mark.skipif(not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists(), reason="apt-get install nginx")
def test_nginx_accepts_the_standalone_config(tmp_path):
    run = runner()
    conf = tmp_path / "nginx.conf"
    conf.write_text(run.render_standalone(run.render_http("127.0.0.1:18080", [9001, 9002]), tmp_path))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    out = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert "syntax is ok" in out.stderr
