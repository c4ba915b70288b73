"""`pacsbox serve viewer`: health and metrics, as `pacsbox up` and the compose healthcheck see them."""

from __future__ import annotations

import httpx


def test_viewer_answers_health_and_metrics(viewer_http: httpx.Client) -> None:
    health = viewer_http.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "service": "viewer"}
    assert viewer_http.get("/api/server-config").status_code == 200
    metrics = viewer_http.get("/metrics")
    assert metrics.status_code == 200
    assert 'app_name="pacsbox_viewer",method="GET",path="/api/server-config"' in metrics.text
