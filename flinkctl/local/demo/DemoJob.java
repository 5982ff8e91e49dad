package flinkctl.demo;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The `flinkctl local up --demo` job: an endless, checkpointed stream with keyed state.
 *
 * <p>sequence source (timestamps + watermarks) -> throttle -> keyBy -> count per key -> filter
 * (drops everything) -> print. Two vertices, state to snapshot, a checkpoint every 3 s. The only
 * argument is the throttle in milliseconds per record (default 10). Built against Flink 1.20 with
 * API that exists from 1.12 to 2.x; see scripts/build-demo-jar.
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

    public static void main(String[] args) throws Exception {
        final long sleepMs = args.length > 0 ? Long.parseLong(args[0]) : 10L;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(3000);

        env.fromSequence(0, Long.MAX_VALUE)
                .name("Sequence")
                .uid("sequence")
                .assignTimestampsAndWatermarks(
                        WatermarkStrategy.<Long>forBoundedOutOfOrderness(Duration.ofSeconds(1))
                                .withTimestampAssigner((v, ts) -> System.currentTimeMillis()))
                .name("Timestamps")
                .uid("timestamps")
                .map(v -> {
                    Thread.sleep(sleepMs);
                    return v;
                })
                .name("Throttle")
                .uid("throttle")
                .keyBy(v -> v % 16)
                .map(new CountPerKey())
                .name("Count")
                .uid("count")
                .filter(v -> false)
                .name("Drop")
                .uid("drop")
                .print()
                .name("Print")
                .uid("print");

        env.execute("flinkctl-demo");
    }
}
