package org.epoll4j.examples.loadgen;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the load connections share across reactor threads: the latency recorder (HdrHistogram's {@link Recorder},
 * safe for concurrent writers and read as interval histograms), the error count and the stop flag.
 */
final class LoadStats {
    /** Error messages printed in full; later ones are only counted. */
    private static final int PRINTED_ERRORS = 10;

    private final Recorder recorder = new Recorder(3);
    private final AtomicLong errors = new AtomicLong();
    private final PrintWriter err;
    private volatile boolean stopping;
    /** HdrHistogram's coordinated-omission correction: the expected interval between samples, or 0 for none. */
    private final long expectedInterval;

    LoadStats(PrintWriter err) {
        this(err, 0);
    }

    /**
     * @param expectedIntervalNanos when above 0, each sample longer than this also records the samples a
     *                              closed loop did not take while it waited ({@code recordValueWithExpectedInterval})
     */
    LoadStats(PrintWriter err, long expectedIntervalNanos) {
        this.err = err;
        this.expectedInterval = expectedIntervalNanos;
    }

    /** Records one message's latency. */
    void record(long nanos) {
        if (expectedInterval > 0) {
            recorder.recordValueWithExpectedInterval(nanos, expectedInterval);
        } else {
            recorder.recordValue(nanos);
        }
    }

    /** Counts a failed connection and says why (the first few). */
    void failed(String why) {
        if (errors.incrementAndGet() <= PRINTED_ERRORS) {
            synchronized (err) {
                err.println("loadgen: " + why);
                err.flush();
            }
        }
    }

    /** Errors so far. */
    long errors() {
        return errors.get();
    }

    /** The round trips recorded since the last call (the first call: since the start). */
    Histogram interval(Histogram recycle) {
        return recorder.getIntervalHistogram(recycle);
    }

    /** From now on closing connections are not errors and no new messages are sent. */
    void stop() {
        stopping = true;
    }

    boolean stopping() {
        return stopping;
    }
}
