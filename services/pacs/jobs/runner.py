"""Jobs: long work (retrieve, send) run as tasks on the app's loop, recorded in the `jobs` table.

A job's state moves Pending -> Running -> Success or Failure. Its work runs in
a worker thread (pynetdicom blocks) and reports progress through a
`JobControl`; `POST /jobs/{id}/cancel` sets the control's event, which the
work checks between instances (and turns into a C-CANCEL). A job still
running when the process stops is marked failed at the next start.

Several processes share the index database, and any of them may receive the
cancel; a job runs in the process that created it, its event in memory there.
A process that does not run the job only sets `cancel_requested` in the job's
row. Each runner, while it has jobs running (and only then), reads that column
for its own jobs about every half second and sets the events of those asked to
stop. A cancelled job ends as Failure, "cancelled", whichever process got the request.
Each row names the process running it: when a worker process dies, the
primary fails its unfinished jobs (`fail_jobs_of`) instead of leaving them
Running until the next start.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import os
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pacsbox.core.errors import Conflict, NotFound, PacsboxError
from pacsbox.pacs.tables import Job

__all__ = ["JobControl", "JobRunner", "JobState", "get_job", "job_json", "list_jobs"]

log = logging.getLogger(__name__)


class JobState(StrEnum):
    """Orthanc's job states that pacsbox uses."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCESS = "Success"
    FAILURE = "Failure"


@dataclass
class JobControl:
    """What a job's work sees: the cancel event, and a progress report safe to call from any thread."""

    public_id: str
    loop: asyncio.AbstractEventLoop
    cancel: threading.Event = field(default_factory=threading.Event)
    content: dict[str, Any] = field(default_factory=dict)
    _percent: int = -1

    def report(self, done: int, total: int, **content: Any) -> None:
        """Record progress (`done` of `total`) and extra content; written to the table when the percent changes."""
        self.content.update(content)
        percent = int(100 * done / total) if total else 0
        if percent != self._percent:
            self._percent = percent
            snapshot = json.dumps(self.content)
            # only while running: a late report must not overwrite the final state
            still_running = _job(self.public_id) & (Job.state == JobState.RUNNING.value)
            asyncio.run_coroutine_threadsafe(_set(still_running, progress=percent, content=snapshot), self.loop)


async def _set(where: Any, **values: Any) -> None:
    """Write job columns by name on the rows `where` selects."""
    await Job.update({getattr(Job, key): value for key, value in values.items()}).where(where)


def _job(public_id: str) -> Any:
    return Job.public_id == public_id


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _time(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value.strftime("%Y%m%dT%H%M%S")


def job_json(row: dict[str, Any]) -> dict[str, Any]:
    """Orthanc's job JSON (`GET /jobs/{id}`)."""
    return {
        "ID": row["public_id"],
        "Type": row["job_type"],
        "State": row["state"],
        "Progress": row["progress"],
        "CreationTime": _time(row["created"]),
        "CompletionTime": _time(row["completed"]),
        "ErrorDescription": row["error"],
        "CancelRequested": bool(row["cancel_requested"]),
        "Content": json.loads(row["content"] or "{}"),
    }


async def get_job(public_id: str) -> dict[str, Any]:
    """Orthanc's JSON of one job. Raises: NotFound."""
    row = await Job.select().where(Job.public_id == public_id).first()
    if row is None:
        raise NotFound(f"no job {public_id}")
    return job_json(row)


async def list_jobs() -> list[dict[str, Any]]:
    """Every job, oldest first."""
    return [job_json(row) for row in await Job.select().order_by(Job.id)]


Work = Callable[[JobControl], Awaitable[dict[str, Any]]]


_UNFINISHED = [JobState.PENDING.value, JobState.RUNNING.value]


async def _fail_unfinished(error: str, among: Any = None) -> None:
    """The Pending or Running jobs (of the rows `among` selects, when given) failed, with `error`."""
    unfinished = Job.state.is_in(_UNFINISHED)
    await _set(unfinished if among is None else unfinished & among, state=JobState.FAILURE.value, error=error,
               completed=_now())


class JobRunner:
    """Submits, tracks and cancels the jobs of this process; asks other processes' jobs to stop through their rows.

    Args:
        cancel_poll: seconds between two reads of the cancel requests for the jobs running here.
    """

    def __init__(self, cancel_poll: float = 0.5) -> None:
        self._running: dict[str, tuple[asyncio.Task[None], JobControl]] = {}
        self._cancel_poll = cancel_poll
        self._watch: asyncio.Task[None] | None = None

    async def recover(self) -> None:
        """At start: jobs left Pending or Running by a previous process failed."""
        await _fail_unfinished("interrupted: pacsbox stopped")

    async def fail_jobs_of(self, process: int) -> None:
        """The unfinished jobs of a pacs process that died failed."""
        await _fail_unfinished("interrupted: its pacs process ended", among=Job.process == process)

    async def submit(self, job_type: str, content: dict[str, Any], work: Work) -> str:
        """Record a job and start it; returns its ID."""
        public_id = str(uuid.uuid4())
        job = Job(
            public_id=public_id, job_type=job_type, state=JobState.PENDING.value, content=json.dumps(content),
            process=os.getpid(),
        )
        await Job.insert(job)
        control = JobControl(public_id, asyncio.get_running_loop(), content=dict(content))
        task = asyncio.create_task(self._run(control, work), name=f"job {public_id}")
        self._running[public_id] = (task, control)
        if self._watch is None or self._watch.done():
            self._watch = asyncio.create_task(self._watch_cancels(), name="job cancels")
        return public_id

    async def _watch_cancels(self) -> None:
        """While jobs run here: set the events of those whose row asks to cancel (a request another process got)."""
        failing = False
        while self._running:
            await asyncio.sleep(self._cancel_poll)
            waiting = [public_id for public_id, (_, control) in self._running.items() if not control.cancel.is_set()]
            if not waiting:
                continue
            try:
                rows = await Job.select(Job.public_id).where(
                    Job.public_id.is_in(waiting) & Job.cancel_requested.eq(True)
                )
            except Exception as error:  # noqa: BLE001 - the database unreachable for a moment: the next tick retries
                if not failing:
                    log.warning("job cancels not read (will retry): %s", error)
                failing = True
                continue
            failing = False
            for row in rows:
                running = self._running.get(row["public_id"])
                if running is not None:
                    running[1].cancel.set()

    async def _run(self, control: JobControl, work: Work) -> None:
        await _set(_job(control.public_id), state=JobState.RUNNING.value)
        state, error, result = JobState.SUCCESS, "", control.content
        try:
            result = await work(control)
        except PacsboxError as failure:
            state, error = JobState.FAILURE, failure.message
        except Exception as failure:  # a job never takes the process down; its row says what happened
            log.exception("job %s failed", control.public_id)
            state, error = JobState.FAILURE, f"internal error: {failure}"
        finally:
            self._running.pop(control.public_id, None)
        if control.cancel.is_set():
            state, error = JobState.FAILURE, "cancelled"
        await _set(
            _job(control.public_id), state=state.value, error=error, content=json.dumps(result),
            completed=_now(), **({"progress": 100} if state is JobState.SUCCESS else {}),
        )

    async def wait(self, public_id: str) -> None:
        """Until the job ends (the `Synchronous` option of Orthanc's job routes)."""
        running = self._running.get(public_id)
        if running is not None:
            await asyncio.shield(running[0])

    async def cancel(self, public_id: str) -> None:
        """Ask a job to stop: its event when it runs here, else its row, which the process running it reads.

        Raises:
            NotFound: no such job.
            Conflict: the job already ended.
        """
        row = await Job.select(Job.state).where(Job.public_id == public_id).first()
        if row is None:
            raise NotFound(f"no job {public_id}")
        running = self._running.get(public_id)
        if running is not None:
            running[1].cancel.set()
        elif row["state"] not in _UNFINISHED:
            raise Conflict(f"job {public_id} already ended ({row['state']})")
        await _set(_job(public_id) & Job.state.is_in(_UNFINISHED), cancel_requested=True)

    async def stop(self) -> None:
        """At shutdown: cancel every job and wait for it to record its end."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        tasks = []
        for task, control in list(self._running.values()):
            control.cancel.set()
            tasks.append(task)
        if tasks:
            await asyncio.wait(tasks, timeout=30)
