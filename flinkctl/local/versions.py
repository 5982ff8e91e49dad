"""What a local cluster needs beyond its shipped config, by Flink version (1.17 to 2.x).

Flink 1.18 ships `env.java.opts.all` with the `--add-exports`/`--add-opens` flags that let it
run on Java 17; 1.17's scripts read the same key (bin/config.sh, `KEY_ENV_JAVA_OPTS`) but its
config leaves it empty, so on Java 17 it fails at start-up with `IllegalAccessError ...
sun.net.util.IPAddressUtil`. We give 1.17 the 1.18 flags on any Java that understands them (9+),
as 1.18 does on every Java it runs on.
"""

from __future__ import annotations

from flinkctl.client.base import parse_version

# conf/flink-conf.yaml of Flink 1.18.1, `env.java.opts.all`, verbatim
JAVA_MODULE_OPTIONS = (
    "--add-exports=java.base/sun.net.util=ALL-UNNAMED "
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED "
    "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED "
    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED "
    "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED "
    "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED "
    "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED "
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED "
    "--add-opens=java.base/java.lang=ALL-UNNAMED "
    "--add-opens=java.base/java.net=ALL-UNNAMED "
    "--add-opens=java.base/java.io=ALL-UNNAMED "
    "--add-opens=java.base/java.nio=ALL-UNNAMED "
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED "
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED "
    "--add-opens=java.base/java.text=ALL-UNNAMED "
    "--add-opens=java.base/java.time=ALL-UNNAMED "
    "--add-opens=java.base/java.util=ALL-UNNAMED "
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED "
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED "
    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED"
)


def cluster_settings(version: str) -> dict[str, str]:
    """Flink options a local cluster of VERSION needs on this machine's Java, beyond its config."""
    from flinkctl.local import distribution

    if parse_version(version) < (1, 18) and distribution.java_major(distribution.find_java(8)) >= 9:
        return {"env.java.opts.all": JAVA_MODULE_OPTIONS}
    return {}
