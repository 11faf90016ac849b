from tests.server.conftest import Server


def test_health(dev_server: Server) -> None:
    r = dev_server.request("GET", "sys/health", token=None)
    assert r.status_code == 200 and r.json()["sealed"] is False
