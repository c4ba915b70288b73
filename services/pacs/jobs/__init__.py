"""Long work with progress: retrieving from and sending to remote DICOM servers."""

from pacsbox.pacs.jobs.runner import JobControl, JobRunner, JobState, get_job, job_json, list_jobs

__all__ = ["JobControl", "JobRunner", "JobState", "get_job", "job_json", "list_jobs"]
