"""Job lifecycle: cancel, stop, savepoints, disposal, rescaling, submission, datasets, apps."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from flinkctl.client.base import Base


def _app(app_id: str) -> str:
    return f"/applications/{quote(app_id, safe='')}"


class LifecycleEndpoints(Base):
    """Cancel, stop, savepoints, disposal, rescaling, submission, datasets, applications."""

    # -- jobs --------------------------------------------------------------------------------

    def cancel_job(self, job_id: str) -> None:
        """PATCH /jobs/:jobid?mode=cancel."""
        self.http.request("PATCH", f"/jobs/{job_id}", params={"mode": "cancel"}, retry=False)

    def stop_job(
        self,
        job_id: str,
        trigger_id: str,
        *,
        drain: bool = False,
        target_directory: str | None = None,
        format_type: str | None = None,
    ) -> dict:
        """POST /jobs/:jobid/stop (stop-with-savepoint); poll with savepoint_status."""
        body: dict = {"triggerId": trigger_id, "drain": drain}
        if target_directory:
            body["targetDirectory"] = target_directory
        if format_type:
            body["formatType"] = format_type
        return self.http.request("POST", f"/jobs/{job_id}/stop", json=body, retry=False)

    def submit_job_graph(
        self, job_graph: Path, jars: list[Path], artifacts: list[tuple[str, Path]]
    ) -> dict:
        """POST /jobs: a serialized JobGraph, jars and artifacts, as RestClusterClient sends."""
        request = {
            "jobGraphFileName": job_graph.name,
            "jobJarFileNames": [j.name for j in jars],
            "jobArtifactFileNames": [{"entryName": n, "fileName": p.name} for n, p in artifacts],
        }
        paths = [job_graph, *jars, *(p for _, p in artifacts)]
        handles = [p.open("rb") for p in paths]
        try:
            files = [
                (f"file_{i}", (p.name, h, "application/octet-stream"))
                for i, (p, h) in enumerate(zip(paths, handles, strict=True))
            ]
            return self.http.request(
                "POST", "/jobs", data={"request": json.dumps(request)}, files=files, retry=False
            )
        finally:
            for h in handles:
                h.close()

    # -- savepoints --------------------------------------------------------------------------

    def trigger_savepoint(
        self,
        job_id: str,
        trigger_id: str,
        *,
        target_directory: str | None = None,
        cancel_job: bool = False,
        format_type: str | None = None,
    ) -> dict:
        """POST /jobs/:jobid/savepoints; retried safely because it carries its own triggerId."""
        body: dict = {"triggerId": trigger_id, "cancel-job": cancel_job}
        if target_directory:
            body["target-directory"] = target_directory
        if format_type:
            body["formatType"] = format_type
        return self.http.request("POST", f"/jobs/{job_id}/savepoints", json=body, retry=True)

    def savepoint_status(self, job_id: str, trigger_id: str) -> dict:
        """GET /jobs/:jobid/savepoints/:triggerid (also the status of stop-with-savepoint)."""
        return self.get(f"/jobs/{job_id}/savepoints/{trigger_id}")

    def dispose_savepoint(self, path: str) -> dict:
        """POST /savepoint-disposal."""
        body = {"savepoint-path": path}
        return self.http.request("POST", "/savepoint-disposal", json=body, retry=False)

    def disposal_status(self, trigger_id: str) -> dict:
        """GET /savepoint-disposal/:triggerid."""
        return self.get(f"/savepoint-disposal/{trigger_id}")

    # -- rescaling ---------------------------------------------------------------------------

    def resource_requirements(self, job_id: str) -> dict:
        """GET /jobs/:jobid/resource-requirements (Flink 1.18+)."""
        self.require("1.18", "rescaling through resource requirements")
        return self.get(f"/jobs/{job_id}/resource-requirements")

    def set_resource_requirements(self, job_id: str, body: dict) -> None:
        """PUT /jobs/:jobid/resource-requirements (adaptive scheduler)."""
        path = f"/jobs/{job_id}/resource-requirements"
        self.http.request("PUT", path, json=body, retry=False)

    def rescale_legacy(self, job_id: str, parallelism: int) -> dict:
        """PATCH /jobs/:jobid/rescaling?parallelism=N (disabled in Flink since 1.9)."""
        params = {"parallelism": parallelism}
        return self.http.request("PATCH", f"/jobs/{job_id}/rescaling", params=params, retry=False)

    def rescaling_status(self, job_id: str, trigger_id: str) -> dict:
        """GET /jobs/:jobid/rescaling/:triggerid."""
        return self.get(f"/jobs/{job_id}/rescaling/{trigger_id}")

    # -- datasets ----------------------------------------------------------------------------

    def datasets(self) -> dict:
        """GET /datasets."""
        return self.get("/datasets")

    def delete_dataset(self, dataset_id: str) -> dict:
        """DELETE /datasets/:datasetid."""
        return self.http.request("DELETE", f"/datasets/{dataset_id}", retry=False)

    def dataset_delete_status(self, trigger_id: str) -> dict:
        """GET /datasets/delete/:triggerid."""
        return self.get(f"/datasets/delete/{trigger_id}")

    # -- applications (Flink 2.3+) -----------------------------------------------------------

    def applications(self) -> dict:
        """GET /applications/overview."""
        self.require("2.3", "applications")
        return self.get("/applications/overview")

    def application(self, app_id: str) -> dict:
        """GET /applications/:applicationid."""
        self.require("2.3", "applications")
        return self.get(_app(app_id))

    def cancel_application(self, app_id: str) -> None:
        """POST /applications/:applicationid/cancel."""
        self.require("2.3", "applications")
        self.http.request("POST", f"{_app(app_id)}/cancel", retry=False)

    def application_exceptions(self, app_id: str) -> dict:
        """GET /applications/:applicationid/exceptions."""
        self.require("2.3", "applications")
        return self.get(f"{_app(app_id)}/exceptions")

    def application_config(self, app_id: str) -> list[dict]:
        """GET /applications/:applicationid/jobmanager/config."""
        self.require("2.3", "applications")
        return self.get(f"{_app(app_id)}/jobmanager/config")
