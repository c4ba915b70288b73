"""Orthanc's job routes: `GET /jobs`, `GET /jobs/{id}`, `POST /jobs/{id}/cancel`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from pacsbox.core.app import editor_only
from pacsbox.pacs.jobs import JobRunner, get_job, list_jobs

__all__ = ["JOB_ROUTES"]


@get("/jobs", operation_id="ListJobs")
async def list_all_jobs(request: Request) -> Any:
    """Job IDs, oldest first; `?expand` gives each job's JSON instead."""
    jobs = await list_jobs()
    return jobs if "expand" in request.query_params else [job["ID"] for job in jobs]


@get("/jobs/{job_id:str}", operation_id="GetJob")
async def get_one_job(job_id: FromPath[str]) -> dict[str, Any]:
    """State, progress (percent), times, error and content of one job."""
    return await get_job(job_id)


@post("/jobs/{job_id:str}/cancel", operation_id="CancelJob", guards=[editor_only], status_code=HTTP_200_OK)
async def cancel_job(job_id: FromPath[str], jobs: NamedDependency[JobRunner]) -> dict[str, Any]:
    """Ask a running job to stop: 404 unknown job, 409 when it already ended."""
    await jobs.cancel(job_id)
    return {}


JOB_ROUTES = [list_all_jobs, get_one_job, cancel_job]
