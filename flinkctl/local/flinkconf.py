"""A local cluster's Flink configuration: `-D KEY=VALUE` options and the config file written
into its `conf/` (the shipped config < flinkctl's settings < the user's options)."""

from __future__ import annotations

import shlex

from flinkctl.client.base import parse_version
from flinkctl.errors import UsageError
from flinkctl.flink import dotted_keys
from flinkctl.local import tls, versions
from flinkctl.local.state import LocalCluster

# keys flinkctl itself needs to find and reach the cluster -> the `up` option that sets them
RESERVED_KEYS = {
    "rest.port": "--port",
    "rest.bind-port": "--port",
    "rest.address": None,
    "rest.bind-address": None,
    "taskmanager.numberOfTaskSlots": "--slots",
}


def parse_config(pairs: list[str]) -> dict[str, str]:
    """`KEY=VALUE` strings (the first `=` splits; a later KEY wins) as a dict, checked."""
    config: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key or any(c.isspace() for c in key):
            raise UsageError(
                f"-D {pair!r}: expected KEY=VALUE, e.g. -D jobmanager.scheduler=adaptive"
            )
        if "\n" in value or "\r" in value:
            raise UsageError(f"-D {key}: the value must be a single line")
        if key in RESERVED_KEYS:
            option = RESERVED_KEYS[key]
            raise UsageError(
                f"-D {key}: flinkctl sets this key itself"
                + (f"; use {option}" if option else ", so it can reach the cluster")
            )
        config[key] = value
    return config


def config_args(config: dict[str, str]) -> str:
    """CONFIG as the `-D KEY=VALUE` arguments that give it, quoted for a shell."""
    return " ".join(f"-D {shlex.quote(f'{k}={v}')}" for k, v in config.items())


def write_conf(cluster: LocalCluster) -> None:
    """Copy the shipped conf/ and write the cluster's settings into it, in the shipped format.

    Precedence: the shipped config < flinkctl's settings < the user's `-D` options.
    """
    import shutil

    shipped, conf = cluster.flink_home / "conf", cluster.dir / "conf"
    configs = ("config.yaml", "flink-conf.yaml")
    for f in shipped.iterdir():
        if f.is_file() and f.name not in (*configs, "masters", "workers"):
            shutil.copy2(f, conf / f.name)
    (conf / "masters").write_text(f"localhost:{cluster.port}\n")
    (conf / "workers").write_text("localhost\n" * cluster.taskmanagers)  # one TaskManager each
    for name in configs:
        (conf / name).unlink(missing_ok=True)

    new_keys = parse_version(cluster.version) >= (2,)
    settings = {
        "rest.port": cluster.port,
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "jobmanager.rpc.port": cluster.rpc_port,
        # 0: any free port, so several clusters run side by side
        "taskmanager.rpc.port": "0",
        "taskmanager.data.port": 0,
        "blob.server.port": "0",
        "metrics.internal.query-service.port": "0",
        "taskmanager.numberOfTaskSlots": cluster.slots,
        "jobmanager.memory.process.size": "1g",
        "taskmanager.memory.process.size": "1536m",
        "rest.flamegraph.enabled": True,
        ("execution.checkpointing.dir" if new_keys else "state.checkpoints.dir"): (
            (cluster.dir / "checkpoints").as_uri()
        ),
        ("execution.checkpointing.savepoint-dir" if new_keys else "state.savepoints.dir"): (
            (cluster.dir / "savepoints").as_uri()
        ),
        **versions.cluster_settings(cluster.version),  # e.g. 1.17's JVM flags for Java 17
        **(
            tls.flink_settings(cluster.tls_dir, tls.is_mutual(cluster.flink_config))
            if cluster.tls
            else {}
        ),
        **cluster.flink_config,
    }
    header = (
        f"# Written by `flinkctl local up` for cluster {cluster.name!r}; rewritten on each up.\n"
    )
    if (shipped / "config.yaml").is_file():  # Flink 1.19+: standard YAML, nested or flat
        import yaml

        flat = dotted_keys(yaml.safe_load((shipped / "config.yaml").read_text()) or {})
        flat.update(settings)
        text = yaml.safe_dump(flat, sort_keys=False, default_flow_style=False, width=1 << 16)
        (conf / "config.yaml").write_text(header + text)
    else:  # flink-conf.yaml: one `key: value` per line
        flat = {}
        for line in (shipped / "flink-conf.yaml").read_text().splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.lstrip().startswith("#"):
                flat[key.strip()] = value.strip()
        flat.update(settings)
        lines = [f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in flat.items()]
        (conf / "flink-conf.yaml").write_text(header + "\n".join(lines) + "\n")
