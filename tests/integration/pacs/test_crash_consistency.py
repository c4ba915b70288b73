"""A short kill loop: acknowledged instances survive `kill -9`, index and files stay in step."""

from pathlib import Path

from tests.crash.kill_loop import run_kill_loop


def test_acknowledged_instances_survive_kill_9(tmp_path: Path) -> None:
    report = run_kill_loop(tmp_path / "pacs", kills=3, clients=3)
    assert report.kills == 3
    assert len(report.acknowledged) > 10
    assert report.problems == []
