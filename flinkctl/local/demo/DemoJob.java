package flinkctl.demo;

import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.DataStreamSink;
import org.apache.flink.streaming.api.datastream.DataStreamSource;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The `flinkctl local up --demo` job: an endless, checkpointed stream with keyed state.
 *
 * <p>sequence source (timestamps + watermarks) -> throttle -> keyBy -> count per key -> filter
 * (drops everything) -> print. Two vertices, state to snapshot, a checkpoint every 3 s. Built
 * against Flink 1.20 with API that exists from 1.12 to 2.x (keyed state taken lazily from the
 * runtime context, no open() override, no ParameterTool); see scripts/build-demo-jar.
 *
 * <p>Arguments (no arguments: the defaults below):
 *
 * <pre>
 *   MS                       throttle in milliseconds per record (default 10); one that is not
 *                            a number makes main() throw NumberFormatException
 *   --name NAME              job name (default flinkctl-demo)
 *   --fail-after SECONDS     fail every task attempt this long after it starts (0: never)
 *   --state-version V        the counting operator's uid becomes count-V, so a savepoint of
 *                            another version has state no operator of this one can take
 *   --checkpoint-interval MS checkpoint interval (default 3000; 0 disables checkpointing)
 *   --global-parameters      set the program's own global job parameters (demo.source=program),
 *                            as the ParameterTool.fromArgs idiom does
 *   --scenario S             a job with a known problem for `flinkctl doctor` (default healthy):
 *                            backpressure  a fast source held up by a slow vertex ("Slow")
 *                            skew          every record to one key: one subtask of "Hot key"
 *                                          busy, its siblings idle
 *                            checkpoints   "Slow snapshot" outlasts the checkpoint timeout: every
 *                                          checkpoint expires (tolerated: the job runs on)
 *                            restarts      fails every 5 s (--fail-after), restarted after 1 s
 *                            watermarks    two source splits, one of them with a frozen event
 *                                          time: one subtask of "Event time" holds its
 *                                          watermark while its sibling's advances
 * </pre>
 */
public class DemoJob {
    /** --scenario checkpoints: the checkpoint timeout, and the snapshot that outlasts it. */
    static final long CHECKPOINT_TIMEOUT_MS = 1000L;
    static final long SNAPSHOT_MS = 1500L;

    /** Counts records per key in keyed state, so checkpoints and savepoints carry data. */
    public static class CountPerKey extends RichMapFunction<Long, Long> {
        private transient ValueState<Long> count;

        @Override
        public Long map(Long value) throws Exception {
            if (count == null) {
                count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
            }
            Long current = count.value();
            long next = (current == null ? 0L : current) + 1;
            count.update(next);
            return next;
        }
    }

    /** Sleeps per record; with failAfterMs > 0, throws that long after this attempt's first record. */
    public static class Throttle implements MapFunction<Long, Long> {
        private final long sleepMs;
        private final long failAfterMs;
        private transient long startedAt;

        Throttle(long sleepMs, long failAfterMs) {
            this.sleepMs = sleepMs;
            this.failAfterMs = failAfterMs;
        }

        @Override
        public Long map(Long value) throws Exception {
            if (failAfterMs > 0) {
                long now = System.currentTimeMillis();
                if (startedAt == 0) {
                    startedAt = now;
                } else if (now - startedAt >= failAfterMs) {
                    throw new IllegalStateException(
                            "demo failure " + (failAfterMs / 1000) + " s after the start (--fail-after)");
                }
            }
            Thread.sleep(sleepMs);
            return value;
        }
    }

    /** Sleeps per record: a vertex whose capacity is 1000 / sleepMs records a second. */
    public static class Sleep implements MapFunction<Long, Long> {
        private final long sleepMs;

        Sleep(long sleepMs) {
            this.sleepMs = sleepMs;
        }

        @Override
        public Long map(Long value) throws Exception {
            Thread.sleep(sleepMs);
            return value;
        }
    }

    /**
     * Passes records on; its snapshot takes longer than the checkpoint timeout, so every
     * checkpoint expires. (A snapshot that throws would fail the task, not the checkpoint.)
     */
    public static class SlowSnapshot implements MapFunction<Long, Long>, CheckpointedFunction {
        @Override
        public Long map(Long value) {
            return value;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) throws Exception {
            Thread.sleep(SNAPSHOT_MS);
        }

        @Override
        public void initializeState(FunctionInitializationContext context) {}
    }

    /** Global job parameters of the program's own, replacing any set from the configuration. */
    public static class ProgramParameters extends ExecutionConfig.GlobalJobParameters {
        @Override
        public Map<String, String> toMap() {
            return Collections.singletonMap("demo.source", "program");
        }
    }

    public static void main(String[] args) throws Exception {
        long sleepMs = 10L;
        long failAfterMs = 0L;
        long checkpointMs = 3000L;
        String name = "flinkctl-demo";
        String countUid = "count";
        boolean globalParameters = false;
        String scenario = "healthy";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--name":
                    name = args[++i];
                    break;
                case "--fail-after":
                    failAfterMs = Long.parseLong(args[++i]) * 1000;
                    break;
                case "--state-version":
                    countUid = "count-" + args[++i];
                    break;
                case "--checkpoint-interval":
                    checkpointMs = Long.parseLong(args[++i]);
                    break;
                case "--global-parameters":
                    globalParameters = true;
                    break;
                case "--scenario":
                    scenario = args[++i];
                    break;
                default:
                    sleepMs = Long.parseLong(args[i]);
            }
        }
        Map<String, String> conf = new HashMap<>();
        if (scenario.equals("restarts")) {
            failAfterMs = 5000L;
            conf.put("restart-strategy.type", "fixed-delay");
            conf.put("restart-strategy.fixed-delay.attempts", String.valueOf(Integer.MAX_VALUE));
            conf.put("restart-strategy.fixed-delay.delay", "1 s");
        } else if (scenario.equals("checkpoints")) {
            conf.put("execution.checkpointing.timeout", CHECKPOINT_TIMEOUT_MS + " ms");
            conf.put("execution.checkpointing.tolerable-failed-checkpoints", String.valueOf(Integer.MAX_VALUE));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.configure(Configuration.fromMap(conf));
        if (checkpointMs > 0) {
            env.enableCheckpointing(checkpointMs);
        }
        if (globalParameters) {
            env.getConfig().setGlobalJobParameters(new ProgramParameters());
        }

        boolean frozenSplit = scenario.equals("watermarks");
        DataStreamSource<Long> sequence = env.fromSequence(0, Long.MAX_VALUE);
        if (frozenSplit) {
            sequence.setParallelism(2);
        }
        SingleOutputStreamOperator<Long> events = sequence
                .name("Sequence")
                .uid("sequence")
                .assignTimestampsAndWatermarks(
                        WatermarkStrategy.<Long>forBoundedOutOfOrderness(Duration.ofSeconds(1))
                                // the upper half of the sequence is the second split
                                .withTimestampAssigner((v, ts) -> frozenSplit && v > Long.MAX_VALUE / 2
                                        ? 0L : System.currentTimeMillis()))
                .name("Timestamps")
                .uid("timestamps");
        if (frozenSplit) {
            events.setParallelism(2);
        }
        SingleOutputStreamOperator<Long> counted;
        switch (scenario) {
            case "healthy":
            case "restarts":
                counted = events.map(new Throttle(sleepMs, failAfterMs))
                        .name("Throttle")
                        .uid("throttle")
                        .keyBy(v -> v % 16)
                        .map(new CountPerKey())
                        .name("Count")
                        .uid(countUid);
                break;
            case "backpressure":
                counted = events.map(new Throttle(1, 0))
                        .name("Throttle")
                        .uid("throttle")
                        .rebalance()
                        .map(new Sleep(5))
                        .name("Slow")
                        .uid("slow");
                break;
            case "skew":
                counted = events.map(new Throttle(10, 0))
                        .name("Throttle")
                        .uid("throttle")
                        .keyBy(v -> 0L)
                        .map(new Sleep(7))
                        .name("Hot key")
                        .uid("hot-key")
                        .setParallelism(3);
                break;
            case "checkpoints":
                counted = events.map(new Throttle(sleepMs, 0))
                        .name("Throttle")
                        .uid("throttle")
                        .map(new SlowSnapshot())
                        .name("Slow snapshot")
                        .uid("slow-snapshot");
                break;
            case "watermarks":
                counted = events.map(new Throttle(sleepMs, 0))
                        .name("Throttle")
                        .uid("throttle")
                        .setParallelism(2)
                        .map(v -> v)
                        .name("Event time")
                        .uid("event-time")
                        .setParallelism(2)
                        .startNewChain();
                break;
            default:
                throw new IllegalArgumentException("unknown --scenario " + scenario
                        + " (healthy, backpressure, skew, checkpoints, restarts, watermarks)");
        }
        // a scenario's own parallelism carries on to the end of the chain
        boolean own = scenario.equals("skew") || frozenSplit;
        SingleOutputStreamOperator<Long> dropped = counted.filter(v -> false).name("Drop").uid("drop");
        if (own) {
            dropped.setParallelism(counted.getParallelism());
        }
        DataStreamSink<Long> printed = dropped.print().name("Print").uid("print");
        if (own) {
            printed.setParallelism(counted.getParallelism());
        }

        env.execute(name);
    }
}
