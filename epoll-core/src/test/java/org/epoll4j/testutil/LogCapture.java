package org.epoll4j.testutil;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Captures what one logger (System.Logger maps to java.util.logging by default) logs at or above a level, and puts the
 * logger's level back on close.
 */
public final class LogCapture implements AutoCloseable {
    private final Logger logger; // held strongly: JUL forgets the level of a logger nobody references
    private final Level previous;
    private final Handler handler;
    private final LinkedBlockingQueue<LogRecord> records = new LinkedBlockingQueue<>();

    /**
     * @param name  the logger's name, e.g. {@code org.epoll4j.Reactor}
     * @param level JUL level: FINER is System.Logger's TRACE, FINE its DEBUG
     */
    public LogCapture(String name, Level level) {
        logger = Logger.getLogger(name);
        previous = logger.getLevel();
        handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        handler.setLevel(level);
        logger.setLevel(level);
        logger.addHandler(handler);
    }

    /** The first record (from now on, in order) matching {@code p} within {@code timeout}, else an AssertionError. */
    public LogRecord await(Predicate<LogRecord> p, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<LogRecord> skipped = new ArrayList<>();
        while (true) {
            LogRecord r = records.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (r == null) {
                throw new AssertionError("no matching record on " + logger.getName() + " within " + timeout
                        + "; saw " + skipped.stream().map(LogCapture::text).toList());
            }
            if (p.test(r)) {
                return r;
            }
            skipped.add(r);
        }
    }

    /** Everything captured and not yet taken. */
    public List<LogRecord> drain() {
        List<LogRecord> out = new ArrayList<>();
        records.drainTo(out);
        return out;
    }

    /** The record's message, formatted as JUL's SimpleFormatter would (with its parameters, if any). */
    public static String text(LogRecord r) {
        String m = r.getMessage();
        if (r.getParameters() != null && r.getParameters().length > 0) {
            m = java.text.MessageFormat.format(m, r.getParameters());
        }
        return m;
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setLevel(previous);
    }
}
