"""What every read command owes, checked the one way for each test module's READS: -o json and
-o yaml print the recorded REST body as Flink sent it, and the tables render (piped: no colour).
"""

import json

import yaml

FORMATS = ["json", "yaml", "table", "wide"]


def argv(flink, args):
    """ARGS with their {placeholders} (jobid, vertexid, ...) filled in from the recording."""
    return [a.format(**flink.ids) for a in args]


def check_read(flink, httpserver, cli, args, name, fmt, *also):
    """Run ARGS with -o FMT against the recording NAME (and ALSO) served."""
    flink.serve(httpserver, name, *also)
    r = cli(*argv(flink, args), "-o", fmt)
    assert r.code == 0, r.err
    if fmt in ("json", "yaml"):
        assert r.err == ""
        parsed = json.loads(r.out) if fmt == "json" else yaml.safe_load(r.out)
        assert parsed == flink.body(name)
    else:
        assert r.out.strip()
        assert "\x1b[" not in r.out  # piped: no colour codes
