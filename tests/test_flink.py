"""flinkctl.flink: Flink's vocabulary (states, ids, trace summaries, upload answers)."""

from __future__ import annotations

import pytest

from flinkctl import flink as vocab

NESTED = """\
org.apache.vocab.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy
\tat org.apache.vocab.runtime.executiongraph.failover.ExecutionFailureHandler.handleFailure(ExecutionFailureHandler.java:219)
\tat java.base/java.lang.Thread.run(Thread.java:840)
Caused by: java.lang.RuntimeException: java.io.IOException: connection lost
\tat flinkctl.demo.DemoJob.map(DemoJob.java:42)
\t... 12 more
Caused by: java.io.IOException: connection lost
\tat flinkctl.demo.Source.read(Source.java:7)
Caused by:   java.net.SocketException: Connection reset by peer
\tat java.base/sun.nio.ch.SocketDispatcher.read0(Native Method)
"""


def test_trace_summary_is_the_first_line_and_the_deepest_cause():
    assert vocab.trace_summary(NESTED) == (
        "JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy; "
        "caused by: SocketException: Connection reset by peer"
    )


def test_trace_summary_drops_wrapper_exceptions_and_a_cause_equal_to_the_first_line():
    trace = "java.lang.RuntimeException: java.io.IOException: boom\nCaused by: java.io.IOException: boom"
    assert vocab.trace_summary(trace) == "IOException: boom"
    assert vocab.trace_summary("  \nplain message\n") == "plain message"
    assert vocab.trace_summary("") == ""


def test_first_line_drops_the_package_of_the_first_class_only():
    assert vocab.first_line(NESTED) == (
        "JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy"
    )
    assert vocab.first_line("java.lang.RuntimeException: java.io.IOException: boom") == (
        "RuntimeException: java.io.IOException: boom"
    )
    assert vocab.first_line("org.apache.vocab.util.FlinkException") == "FlinkException"
    assert vocab.first_line("Job 1.2: failed") == "Job 1.2: failed"
    assert vocab.first_line(None) == ""


def test_error_summary_skips_rest_noise_and_the_java_class():
    message = (
        "Internal server error.\n<Exception on server side:\n"
        "org.apache.vocab.runtime.rest.NotFoundException: Job abc not found\n\tat x.y(Z.java:1)"
    )
    assert vocab.error_summary(message) == "Job abc not found"
    assert vocab.error_summary("Bad request: no such field") == "Bad request: no such field"
    assert vocab.error_summary("Internal server error.") == ""


def test_error_summary_adds_the_deepest_cause():
    message = (
        "org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application."
        "\n\tat x.y(Z.java:1)\nCaused by: java.util.concurrent.CompletionException: "
        "org.apache.flink.util.FlinkRuntimeException: Could not execute application.\n"
        "Caused by: org.apache.flink.client.program.ProgramInvocationException: The main method "
        'caused an error: For input string: "x"\nCaused by: java.lang.NumberFormatException: '
        'For input string: "x"\n\tat java.lang.Long.parseLong(Long.java:711)'
    )
    assert vocab.error_summary(message) == (
        'Could not execute application.; caused by: NumberFormatException: For input string: "x"'
    )
    same = "x.FooException: boom\nCaused by: y.BarException: boom"
    assert vocab.error_summary(same) == "boom"


def test_failures_and_the_last_one_of_an_exception_history():
    history = {"exceptionHistory": {"entries": [{"stacktrace": NESTED}, {"stacktrace": "old"}]}}
    assert len(vocab.failures(history)) == 2
    assert vocab.last_failure(history) == vocab.trace_summary(NESTED)
    assert vocab.last_failure({"root-exception": "x.AException: a"}) == "AException: a"
    assert vocab.failures({}) == [] and vocab.last_failure({}) is None


def test_failure_trace_of_both_spellings_and_of_success():
    assert vocab.failure_trace({"failure-cause": {"stack-trace": "x.AException: a\n"}}) == (
        "x.AException: a"
    )
    assert vocab.failure_trace({"failureCause": {"class": "x.BException"}}) == "x.BException"
    assert vocab.failure_trace({"failure-cause": {}}) is None
    assert vocab.failure_trace({"location": "file:/sp"}) is None
    assert vocab.failure_trace(None) is None


@pytest.mark.parametrize(
    "value, valid",
    [
        ("0123456789abcdef0123456789abcdef", True),
        ("0123456789ABCDEF0123456789ABCDEF", False),
        ("0123456789abcdef0123456789abcde", False),
        ("0123456789abcdef0123456789abcdef0", False),
        ("0123456789abcdef0123456789abcdeg", False),
        ("0123456789abcdef0123456789abcdef\n", False),
        ("", False),
    ],
)
def test_is_hex_id(value, valid):
    assert vocab.is_hex_id(value) is valid


def test_jar_id_is_the_stored_file_name(flink):
    upload = flink.body("jar-upload")
    assert vocab.jar_id(upload) == upload["filename"].rsplit("/", 1)[-1]
    assert vocab.jar_id({"filename": "/tmp/flink-web/upload/abc_job.jar", "status": "success"}) == (
        "abc_job.jar"
    )
    assert vocab.jar_id({}) == ""


def test_job_states_partition():
    states = set(vocab.JOB_STATES)
    assert len(states) == len(vocab.JOB_STATES) == 11
    ending = states - vocab.ACTIVE_STATES - vocab.ENDED_STATES
    assert ending == {"FAILING", "CANCELLING"}
    assert vocab.TERMINAL_STATES < vocab.ENDED_STATES <= states
    unsuccessful = vocab.ENDED_STATES - {"FINISHED"} | ending
    assert unsuccessful == vocab.UNSUCCESSFUL_STATES
    assert not vocab.ACTIVE_STATES & vocab.UNSUCCESSFUL_STATES


def test_newest_checkpoint_id():
    history = [{"id": 7}, {"id": 9, "status": "FAILED"}, {"id": "x"}]
    assert vocab.newest_checkpoint_id({"history": history}) == 9
    assert vocab.newest_checkpoint_id({"latest": {"completed": {"id": 12}}}) == 12
    assert vocab.newest_checkpoint_id({"history": [], "latest": {"completed": None}}) is None


def test_local_time_of_unset_timestamps():
    assert vocab.local_time(0) == vocab.local_time(-1) == vocab.local_time(None) == "-"
    assert len(vocab.local_time(1_700_000_000_000)) == len("2023-11-14 22:13:20")


def test_dotted_keys_of_nested_config_maps():
    nested = {"jobmanager": {"rpc": {"port": 6123}, "scheduler": "default"}, "a.b": 1, "c": {}}
    assert vocab.dotted_keys(nested) == {
        "jobmanager.rpc.port": 6123,
        "jobmanager.scheduler": "default",
        "a.b": 1,
        "c": {},
    }
