"""Invariant 5 of deploy: no secret leaves the machine.

The record a deploy writes to the cluster (`pipeline.global-job-parameters`, readable by anyone
with the Web UI in GET /jobs/:jobid/config) and everything flinkctl prints show `******` where a
sensitive `-D` value or program argument was (Flink's own rule, flinkctl.sensitive), yet still
tell a changed secret from an unchanged one; the job itself gets the real values; the catalog
keeps them, private; a URL's `user:password@` is neither stored nor printed.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from flinkctl.catalog import Catalog, Entry, Savepoint
from flinkctl.sensitive import (
    MASK,
    cluster_key,
    is_sensitive,
    mask_args,
    mask_conf,
    scrub,
    secret_values,
)
from flinkctl.workflows.revisions import (
    GLOBAL_PARAMETERS,
    RECORD_KEY,
    Previous,
    Record,
    Spec,
    local_specs,
    record_in,
    resolve_secrets,
    with_record,
)

DEMO = Path(__file__).resolve().parents[1] / "flinkctl" / "local" / "demo" / "flinkctl-demo.jar"
S3_SECRET = "s3-5ecret-0f9a"
PASSWORD = "pa55-5ecret-71c4"
TOKEN = "t0ken-5ecret-be2d"
SECRETS = (S3_SECRET, PASSWORD, TOKEN)


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def spec(**changes) -> Spec:
    base = dict(jar_id="a_job.jar", jar_name="job.jar", sha256="ab" * 32, uploaded=True,
                entry_class="com.x.Main", parallelism=2,
                args=("--in", "s3://b/x", f"--password={PASSWORD}", "--token", TOKEN),
                conf=(("s3.endpoint", "http://minio:9000"), ("s3.secret-key", S3_SECRET)))  # fmt: skip
    return Spec(**{**base, **changes})


def raw(value: str) -> str:
    """The text of an encoded record, as anyone who reads the job's config can decode it."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()


def on_cluster(flink, record: Record) -> dict:
    """The recorded GET /jobs/:jobid/config of the deployed job, carrying RECORD instead."""
    body = flink.body("deploy-config-deployed")
    user = {**body["execution-config"]["user-config"], RECORD_KEY: record.encode()}
    return {**body, "execution-config": {**body["execution-config"], "user-config": user}}


# -- Flink's rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "s3.secret-key",
        "fs.s3a.access.key",  # access.key, access-key, accesskey: the newest Flink's additions
        "s3.access-key",
        "fs.oss.accessKeyId",
        "security.ssl.keystore-password",
        "DB_PASSWORD",  # case-insensitive
        "fs.azure.account.key.acct.blob.core.windows.net",
        "metrics.reporter.dghttp.apikey",
        "properties.sasl.jaas.config",
        "kubernetes.token",
        "http-headers",
        "auth-params",
        "service-key",
        "basic-auth",
    ],
)
def test_flinks_sensitive_keys_are_recognised(key):
    assert is_sensitive(key)


@pytest.mark.parametrize(
    "key", ["parallelism.default", "s3.endpoint", "state.backend.type", "pipeline.name", "user"]
)
def test_ordinary_keys_are_not_sensitive(key):
    assert not is_sensitive(key)


@pytest.mark.parametrize(
    "args, masked",
    [
        (["--password=x", "--in", "a"], ["--password=******", "--in", "a"]),
        (["--password", "x", "--user", "u"], ["--password", "******", "--user", "u"]),
        (["-Dfoo.secret=x", "-Dfoo.name=n"], ["-Dfoo.secret=******", "-Dfoo.name=n"]),
        (["--conf", "s3.secret-key=x"], ["--conf", "s3.secret-key=******"]),
        (["-D", "s3.access.key=x"], ["-D", "s3.access.key=******"]),
        (["--API-TOKEN", "-42"], ["--API-TOKEN", "******"]),  # a number is a value
        (["--token", "--verbose"], ["--token", "--verbose"]),  # a flag is not
        (["--in", "s3://me:pw@bucket/x"], ["--in", "s3://me:******@bucket/x"]),
        (["--password"], ["--password"]),
        (["20", "--name", "deployed"], ["20", "--name", "deployed"]),
    ],
)
def test_program_arguments_are_masked_like_flink_keys(args, masked):
    assert mask_args(args) == masked


def test_configuration_is_masked_with_the_entries_of_global_job_parameters():
    conf = {"s3.secret-key": "x", "s3.endpoint": "http://minio:9000",
            GLOBAL_PARAMETERS: "env:prod,db.password:x"}  # fmt: skip
    assert mask_conf(conf) == {"s3.secret-key": MASK, "s3.endpoint": "http://minio:9000",
                               GLOBAL_PARAMETERS: f"env:prod,db.password:{MASK}"}  # fmt: skip


def test_the_secret_values_are_what_masking_hides():
    args = ["800", "--password", "pw1", "--token=tk2", "--in", "s3://u:pw3@h/x", "--name", "pw"]
    conf = {"s3.secret-key": "k4", "a": "b", GLOBAL_PARAMETERS: "env:prod,db.password:pw5"}
    secrets = secret_values(args, conf)
    assert secrets == {"pw1", "tk2", "pw3", "k4", "pw5"}
    text = 'For input string: "pw1" (pw) with tk2, s3://u:pw3@h/x'
    assert scrub(text, secrets) == f'For input string: "{MASK}" (pw) with {MASK}, s3://u:{MASK}@h/x'


# -- the record on the cluster --------------------------------------------------------------------


def test_the_record_on_the_cluster_holds_no_secret_yet_notices_a_changed_one(flink):
    record = Record("etl", 2, 2, spec(), previous=Previous(1, spec(args=()), "f" * 32),
                    time_ms=1, by="ci@runner")  # fmt: skip
    value = record.encode()
    assert leaked(raw(value)) == []
    found = record_in(on_cluster(flink, record))
    assert found is not None and found.spec.masked_values and found.previous is not None
    assert dict(found.spec.conf)["s3.secret-key"] == MASK
    assert found.spec.args == ("--in", "s3://b/x", "--password=******", "--token", MASK)
    assert found.spec.same_program(spec())  # what deploy compares: requested vs running
    assert spec().same_program(found.spec)
    assert not found.spec.same_program(spec(conf=(("s3.endpoint", "http://minio:9000"),
                                                  ("s3.secret-key", "rotated"))))  # fmt: skip
    assert not found.spec.same_program(spec(args=("--in", "s3://b/x", "--password=other",
                                                  "--token", TOKEN)))  # fmt: skip
    assert not found.spec.same_program(spec(parallelism=3))
    assert found.previous.spec.same_program(spec(args=()))


def test_a_masked_record_round_trips_and_keeps_its_digest():
    record = Record("etl", 2, 2, spec(), time_ms=1, by="ci@runner")
    decoded = Record.decode(record.encode())
    assert Record.decode(decoded.encode()) == decoded  # masked once, never twice
    assert decoded.spec.digest == Record.decode(record.encode()).spec.digest  # one salt a record
    later = Record("etl", 3, 3, spec(parallelism=4), previous=decoded.as_previous("f" * 32))
    carried = Record.decode(later.encode()).previous
    assert carried is not None and carried.spec == decoded.spec  # still comparable to spec()
    assert carried.spec.same_program(spec())


def test_two_records_of_one_secret_do_not_look_alike():
    one = Record.decode(Record("etl", 1, 1, spec()).encode()).spec
    two = Record.decode(Record("etl", 2, 2, spec()).encode()).spec
    assert one.digest != two.digest  # salted


def test_records_already_on_clusters_still_decode_and_encode_as_before(flink):
    """A RECORD_VERSION 1 record written before masking (no digest, no secrets)."""
    record = record_in(flink.body("deploy-config-deployed"))
    assert record is not None and not record.spec.masked_values
    value = flink.body("deploy-config-deployed")["execution-config"]["user-config"][RECORD_KEY]
    assert json.loads(raw(record.encode()))["spec"] == json.loads(raw(value))["spec"]
    assert record.spec.same_program(record.spec)


def test_the_job_gets_the_real_configuration_and_only_the_record_is_masked():
    record = Record("etl", 1, 1, spec(), time_ms=1, by="me@here")
    conf = with_record(dict(spec().conf), record)
    assert conf["s3.secret-key"] == S3_SECRET  # Flink needs it to reach S3
    entry = conf[GLOBAL_PARAMETERS].removeprefix(f"{RECORD_KEY}:")
    assert leaked(raw(entry)) == []
    assert leaked(json.dumps(record.to_json())) == list(SECRETS)  # the catalog's copy: real


def test_describe_shows_secrets_as_flink_does():
    text = spec().describe()
    assert leaked(text) == []
    assert f"-D s3.secret-key={MASK}" in text and f"--arg --password={MASK}" in text
    assert f"--arg --token --arg {MASK}" in text and "-D s3.endpoint=http://minio:9000" in text


# -- rollback from a masked record ----------------------------------------------------------------


def masked_spec(**changes) -> Spec:
    return Record.decode(Record("etl", 1, 1, spec(**changes)).encode()).spec


def test_a_masked_target_is_resolved_from_the_catalogs_copy():
    target = masked_spec()
    resolved = resolve_secrets(target, [spec(args=("other",)), spec()])
    assert resolved.spec == spec() and resolved.missing == () and not resolved.differs


def test_without_the_values_the_missing_keys_are_listed():
    resolved = resolve_secrets(masked_spec(), [spec(conf=(("s3.secret-key", "old"),))])
    assert resolved.spec is None
    assert resolved.missing == ("-D s3.secret-key", "--arg --password", "--arg --token")


def test_values_given_on_the_command_line_fill_the_masked_places():
    target = masked_spec()
    resolved = resolve_secrets(target, conf={"s3.secret-key": S3_SECRET}, args=list(spec().args))
    assert resolved.spec == spec() and not resolved.differs
    rotated = resolve_secrets(target, conf={"s3.secret-key": "rotated"}, args=list(spec().args))
    assert rotated.spec is not None and rotated.differs
    assert dict(rotated.spec.conf)["s3.secret-key"] == "rotated"
    partly = resolve_secrets(target, conf={"s3.secret-key": S3_SECRET}, args=["--in", "x"])
    assert partly.missing == ("--arg --password", "--arg --token")  # not this revision's args


def test_a_target_without_secrets_needs_nothing(flink):
    record = record_in(flink.body("deploy-config-deployed"))
    assert record is not None
    assert resolve_secrets(record.spec).spec == record.spec


def test_the_catalogs_specs_skip_masked_copies(tmp_path):
    real = Record("etl", 2, 2, spec(), previous=Previous(1, masked_spec(args=()), None))
    entries = [Entry("http://f", "etl", "a" * 32, 2, 2, real.to_json(), None, 1)]
    assert local_specs(entries) == [spec()]


# -- deploy and history over recorded responses --------------------------------------------------


def test_a_deploy_sends_real_values_to_the_job_and_masks_its_record(cli, flink, httpserver,
                                                                      tmp_path):  # fmt: skip
    """The run request of a deploy (Flink refuses it as a duplicate here, which ends the run
    before any health gate): the job's -D and arguments are the user's, the record is not."""
    flink.serve_refused_start(httpserver)
    catalog = tmp_path / "private" / "c.db"
    r = cli("deploy", "flinkctl-demo", "--jar", str(DEMO), "-D", f"s3.secret-key={S3_SECRET}",
            "--arg", f"--password={PASSWORD}", "--arg", "--token", "--arg", TOKEN,
            "--catalog", str(catalog), "-o", "json")  # fmt: skip
    assert r.json()["result"] == "refused", r.err
    assert leaked(r.out) == [] and leaked(r.err) == []
    run = next(req for req, _ in httpserver.log if req.path.endswith("/run")).json
    assert run["flinkConfiguration"]["s3.secret-key"] == S3_SECRET
    assert run["programArgsList"] == [f"--password={PASSWORD}", "--token", TOKEN]
    sent = run["flinkConfiguration"][GLOBAL_PARAMETERS].removeprefix(f"{RECORD_KEY}:")
    assert leaked(raw(sent)) == []
    assert MASK in raw(sent)
    with Catalog(catalog) as local:
        [entry] = local.entries(httpserver.url_for("").rstrip("/"), "flinkctl-demo")
    assert leaked(json.dumps(entry.record)) == list(SECRETS)  # kept here, for a rollback
    assert stat.S_IMODE(catalog.stat().st_mode) == 0o600
    assert stat.S_IMODE(catalog.parent.stat().st_mode) == 0o700


def test_history_shows_secrets_masked_from_the_cluster_and_the_catalog(cli, flink, httpserver,
                                                                        tmp_path):  # fmt: skip
    from flinkctl.client import FlinkClient
    from flinkctl.config import Context
    from flinkctl.workflows.revisions import history

    url = httpserver.url_for("").rstrip("/")
    running = flink.body("deploy-config-deployed")["jid"]
    record = Record("deployed", 2, 2, spec(), time_ms=2, by="ci@runner")
    forgotten = Record("deployed", 1, 1, spec(parallelism=1), time_ms=1, by="ci@runner")
    with Catalog(tmp_path / "c.db") as catalog:
        catalog.add(Entry(url, "deployed", running, 2, 2, record.to_json(), "healthy", 2))
        catalog.add(Entry(url, "deployed", "0" * 32, 1, 1, forgotten.to_json(), "healthy", 1))
    httpserver.expect_request("/jobs/overview").respond_with_json(
        flink.body("deploy-jobs-overview")
    )
    httpserver.expect_request(f"/jobs/{running}/config").respond_with_json(
        on_cluster(flink, record)
    )
    r = cli("jobs", "history", "deployed", "--catalog", str(tmp_path / "c.db"), "-o", "json")
    assert r.code == 0, r.err
    assert leaked(r.out) == [] and leaked(r.err) == []
    rows = r.json()
    assert [(row["job-id"], row["record"]) for row in rows] == [
        ("0" * 32, "catalog"),
        (running, "cluster"),
    ]
    for row in rows:
        assert row["conf"]["s3.secret-key"] == MASK and f"--password={MASK}" in row["args"]
    for fmt in ("table", "wide", "yaml"):
        r = cli("jobs", "history", "deployed", "--catalog", str(tmp_path / "c.db"), "-o", fmt)
        assert r.code == 0 and leaked(r.out) == [], fmt
    # in memory, the cluster's masked record gets the catalog's real values (its digest matches)
    with Catalog(tmp_path / "c.db") as catalog, FlinkClient(Context("t", url=url)) as client:
        known = history(client, catalog, "deployed")
    assert known.jobs[-1].record is not None and known.jobs[-1].record.spec == spec()


# -- the catalog's file and URLs ----------------------------------------------------------------


def test_a_new_catalog_is_private_and_an_existing_one_is_tightened(tmp_path):
    previous = os.umask(0o022)  # the usual one, which would make 0644 files
    try:
        path = tmp_path / "new" / "dir" / "c.db"
        with Catalog(path) as catalog:
            catalog.add(Entry("http://f", "etl", "a", 1, 1, {}, None, 1))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        path.chmod(0o644)
        for extra in ("-wal", "-shm"):
            Path(f"{path}{extra}").touch(mode=0o644)
        with Catalog(path) as catalog:
            assert [e.job_id for e in catalog.entries("http://f", "etl")] == ["a"]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for extra in ("-wal", "-shm"):
            if Path(f"{path}{extra}").exists():
                assert stat.S_IMODE(Path(f"{path}{extra}").stat().st_mode) == 0o600
        # flinkctl's own directory is tightened; a directory the user named is left alone
        own = tmp_path / "state" / "flinkctl"
        own.mkdir(parents=True, mode=0o755)
        own.chmod(0o755)
        Catalog().entries("http://f", "etl")
        assert stat.S_IMODE(own.stat().st_mode) == 0o700
        shared = tmp_path / "shared"
        shared.mkdir(mode=0o755)
        shared.chmod(0o755)
        Catalog(shared / "c.db").entries("http://f", "etl")
        assert stat.S_IMODE(shared.stat().st_mode) == 0o755
        assert stat.S_IMODE((shared / "c.db").stat().st_mode) == 0o600
    finally:
        os.umask(previous)


@pytest.mark.parametrize(
    "url, key",
    [
        ("https://admin:pw@flink.example:8443/flink", "https://flink.example:8443/flink"),
        ("https://admin@flink.example/", "https://flink.example/"),
        ("http://u:p@ss@host:8081", "http://host:8081"),  # the last @ ends the user part
        ("http://localhost:8081", "http://localhost:8081"),
        ("http://host/path?q=a@b", "http://host/path?q=a@b"),
    ],
)
def test_the_cluster_key_has_no_user_part(url, key):
    assert cluster_key(url) == key


def test_the_catalog_stores_no_url_password_and_finds_rows_by_either_form(tmp_path):
    secret_url = f"https://admin:{PASSWORD}@flink.example"
    path = tmp_path / "c.db"
    with Catalog(path) as catalog:
        catalog.add(Entry(secret_url, "etl", "a", 1, 1, {}, None, 1))
        catalog.set_outcome("https://flink.example", "a", "healthy")
        catalog.begin_savepoint(Savepoint("prod", secret_url, "a", "etl", "savepoint", 1,
                                          trigger_id="t"))  # fmt: skip
        assert [e.outcome for e in catalog.entries(secret_url, "etl")] == ["healthy"]
        assert catalog.entry("https://flink.example", "a") is not None
        assert [s.cluster for s in catalog.savepoints([secret_url])] == ["https://flink.example"]
    assert PASSWORD.encode() not in path.read_bytes()


def test_rows_written_with_a_url_password_before_are_rekeyed(tmp_path):
    """A schema version 2 catalog whose rows carry `user:password@` URLs."""
    import sqlite3

    from flinkctl.catalog import MIGRATIONS

    secret_url = f"https://admin:{PASSWORD}@flink.example"
    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    for statements in MIGRATIONS[:2]:
        for statement in statements:
            db.execute(statement)
    db.execute("INSERT INTO revisions VALUES (?, 'etl', 'a', 1, 1, '{}', 'healthy', 1000)",
               (secret_url,))  # fmt: skip
    db.execute("INSERT INTO savepoints (context, cluster, job_id, job_name, kind, started_ms, "
               "status, path) VALUES ('p', ?, 'a', 'etl', 'savepoint', 1, 'COMPLETED', '/sp/1')",
               (secret_url,))  # fmt: skip
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with Catalog(path) as catalog:
        assert [e.job_id for e in catalog.entries("https://flink.example", "etl")] == ["a"]
        assert [s.path for s in catalog.savepoints(["https://flink.example"])] == ["/sp/1"]
    assert PASSWORD.encode() not in path.read_bytes()


def test_savepoint_list_prints_no_url_password(cli, flink, httpserver):
    flink.serve(httpserver, "jobs-overview", "checkpoints")
    base = httpserver.url_for("").rstrip("/")
    secret_url = base.replace("http://", f"http://admin:{PASSWORD}@")
    r = cli("savepoint", "list", "flinkctl-demo", "-o", "json", url=secret_url)
    assert r.code == 0, r.err
    assert r.json() and {row["cluster"] for row in r.json()} == {base}
    assert PASSWORD not in r.out and PASSWORD not in r.err
