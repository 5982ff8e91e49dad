"""Job lifecycle: cancel, stop, savepoints, disposal, rescaling, submission, datasets, apps."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from urllib.parse import quote

from flinkctl.client.base import Base
from flinkctl.errors import RescaleUnsupported, ServerError
from flinkctl.flink import (
    ConfigEntry,
    Json,
    OperationStatus,
    ParallelismBounds,
    ResourceRequirements,
    Triggered,
    VertexRequirements,
)


def _given(body: Json, optional: dict[str, str | None]) -> Json:
    """BODY with the OPTIONAL fields that have a value."""
    return {**body, **{key: value for key, value in optional.items() if value}}


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
    ) -> Triggered:
        """POST /jobs/:jobid/stop (stop-with-savepoint); poll with savepoint_status. Retried
        safely: it carries its own triggerId (every version from 1.15 on takes one)."""
        body = _given(
            {"triggerId": trigger_id, "drain": drain},
            {"targetDirectory": target_directory, "formatType": format_type},
        )
        status = partial(self.savepoint_status, job_id)
        return self._trigger(f"/jobs/{job_id}/stop", body, status)

    def submit_job_graph(
        self, job_graph: Path, jars: list[Path], artifacts: list[tuple[str, Path]]
    ) -> Json:
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
            data = {"request": json.dumps(request)}
            return self._send(Json, "POST", "/jobs", data=data, files=files)
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
    ) -> Triggered:
        """POST /jobs/:jobid/savepoints; retried safely because it carries its own triggerId."""
        body = _given(
            {"triggerId": trigger_id, "cancel-job": cancel_job},
            # this endpoint spells it target-directory; /stop, targetDirectory
            {"target-directory": target_directory, "formatType": format_type},
        )
        status = partial(self.savepoint_status, job_id)
        return self._trigger(f"/jobs/{job_id}/savepoints", body, status)

    def savepoint_status(self, job_id: str, trigger_id: str) -> OperationStatus:
        """GET /jobs/:jobid/savepoints/:triggerid (also the status of stop-with-savepoint)."""
        return self._get(OperationStatus, f"/jobs/{job_id}/savepoints/{trigger_id}")

    def dispose_savepoint(self, path: str) -> Triggered:
        """POST /savepoint-disposal."""
        body = {"savepoint-path": path}
        return self._send(Triggered, "POST", "/savepoint-disposal", json=body)

    def disposal_status(self, trigger_id: str) -> OperationStatus:
        """GET /savepoint-disposal/:triggerid."""
        return self._get(OperationStatus, f"/savepoint-disposal/{trigger_id}")

    # -- rescaling ---------------------------------------------------------------------------

    def resource_requirements(self, job_id: str) -> ResourceRequirements:
        """GET /jobs/:jobid/resource-requirements (Flink 1.18+).

        A job on the default scheduler, which refuses it, is RescaleUnsupported.
        """
        self.require("1.18", "rescaling through resource requirements")
        try:
            return self._get(ResourceRequirements, f"/jobs/{job_id}/resource-requirements")
        except ServerError as exc:
            if "AdaptiveScheduler" not in " ".join(exc.flink):
                raise
            raise RescaleUnsupported(
                f"job {job_id} does not run on the adaptive scheduler, "
                "which rescaling without a restart needs",
                hint="set 'jobmanager.scheduler: adaptive' in the cluster's configuration",
            ) from exc

    def set_resource_requirements(self, job_id: str, body: ResourceRequirements) -> None:
        """PUT /jobs/:jobid/resource-requirements (adaptive scheduler)."""
        path = f"/jobs/{job_id}/resource-requirements"
        self.http.request("PUT", path, json=body, retry=False)

    def set_parallelism(
        self, job_id: str, wanted: Mapping[str, int | None]
    ) -> tuple[ResourceRequirements, ResourceRequirements]:
        """Give each vertex in WANTED (vertex id -> N, None: as it is) the upper bound N.

        GET, then PUT /jobs/:jobid/resource-requirements; a lower bound above N comes down to
        N. Returns the requirements before and after.
        """
        before = self.resource_requirements(job_id)
        after = {vid: _bounded(req, wanted.get(vid)) for vid, req in before.items()}
        self.set_resource_requirements(job_id, after)
        return before, after

    # -- datasets ----------------------------------------------------------------------------

    def datasets(self) -> Json:
        """GET /datasets."""
        return self._get(Json, "/datasets")

    def delete_dataset(self, dataset_id: str) -> Triggered:
        """DELETE /datasets/:datasetid."""
        return self._send(Triggered, "DELETE", f"/datasets/{dataset_id}")

    def dataset_delete_status(self, trigger_id: str) -> OperationStatus:
        """GET /datasets/delete/:triggerid."""
        return self._get(OperationStatus, f"/datasets/delete/{trigger_id}")

    # -- applications (Flink 2.3+) -----------------------------------------------------------

    def applications(self) -> Json:
        """GET /applications/overview."""
        self.require("2.3", "applications")
        return self._get(Json, "/applications/overview")

    def application(self, app_id: str) -> Json:
        """GET /applications/:applicationid."""
        self.require("2.3", "applications")
        return self._get(Json, _app(app_id))

    def cancel_application(self, app_id: str) -> None:
        """POST /applications/:applicationid/cancel."""
        self.require("2.3", "applications")
        self.http.request("POST", f"{_app(app_id)}/cancel", retry=False)

    def application_exceptions(self, app_id: str) -> Json:
        """GET /applications/:applicationid/exceptions."""
        self.require("2.3", "applications")
        return self._get(Json, f"{_app(app_id)}/exceptions")

    def application_config(self, app_id: str) -> list[ConfigEntry]:
        """GET /applications/:applicationid/jobmanager/config."""
        self.require("2.3", "applications")
        return self._get(list[ConfigEntry], f"{_app(app_id)}/jobmanager/config")


def _bounded(req: VertexRequirements, upper: int | None) -> VertexRequirements:
    """REQ with the parallelism upper bound UPPER (and a lower bound no higher); None: as it is."""
    bounds: ParallelismBounds = {**req["parallelism"]}
    if upper is not None:
        bounds["upperBound"] = upper
        bounds["lowerBound"] = min(req["parallelism"].get("lowerBound", 1), upper)
    return {"parallelism": bounds}
