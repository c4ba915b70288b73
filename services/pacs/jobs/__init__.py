"""Long work with progress: retrieving from and sending to remote DICOM servers."""

from pacsbox.pacs.jobs.runner import JobControl, JobRunner, JobState, job_json

__all__ = ["JobControl", "JobRunner", "JobState", "job_json"]
