package flinkctl.demo;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import org.apache.flink.api.common.ExecutionConfig;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
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
 * </pre>
 */
public class DemoJob {

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
                default:
                    sleepMs = Long.parseLong(args[i]);
            }
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        if (checkpointMs > 0) {
            env.enableCheckpointing(checkpointMs);
        }
        if (globalParameters) {
            env.getConfig().setGlobalJobParameters(new ProgramParameters());
        }

        env.fromSequence(0, Long.MAX_VALUE)
                .name("Sequence")
                .uid("sequence")
                .assignTimestampsAndWatermarks(
                        WatermarkStrategy.<Long>forBoundedOutOfOrderness(Duration.ofSeconds(1))
                                .withTimestampAssigner((v, ts) -> System.currentTimeMillis()))
                .name("Timestamps")
                .uid("timestamps")
                .map(new Throttle(sleepMs, failAfterMs))
                .name("Throttle")
                .uid("throttle")
                .keyBy(v -> v % 16)
                .map(new CountPerKey())
                .name("Count")
                .uid(countUid)
                .filter(v -> false)
                .name("Drop")
                .uid("drop")
                .print()
                .name("Print")
                .uid("print");

        env.execute(name);
    }
}
