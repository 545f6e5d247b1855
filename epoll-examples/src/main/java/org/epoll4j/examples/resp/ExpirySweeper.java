package org.epoll4j.examples.resp;

import org.epoll4j.Reactor;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Deletes expired keys nobody asks for: every {@link #INTERVAL} at most {@link #BUDGET} keys, on a timer of the
 * reactor that accepted the first connection; when a tick uses its whole budget the next one comes at once (after
 * the I/O waiting meanwhile). It runs only while clients are connected, so an idle server's reactors go quiet and a
 * graceful shutdown is not held up; keys that expire meanwhile are deleted on the next connection's first tick.
 */
final class ExpirySweeper {
    static final Duration INTERVAL = Duration.ofMillis(100);
    static final int BUDGET = 1000;

    private final Keyspace keyspace;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicBoolean running = new AtomicBoolean();

    ExpirySweeper(Keyspace keyspace) {
        this.keyspace = keyspace;
    }

    /** A connection opened on {@code reactor}'s thread: start sweeping there if nobody is. */
    void opened(Reactor reactor) {
        open.incrementAndGet();
        if (running.compareAndSet(false, true)) {
            schedule(reactor, INTERVAL);
        }
    }

    /** A connection closed. */
    void closed() {
        open.decrementAndGet();
    }

    private void tick(Reactor reactor) {
        boolean more;
        keyspace.lock.lock();
        try {
            more = keyspace.sweep(Keyspace.now(), BUDGET);
        } finally {
            keyspace.lock.unlock();
        }
        if (open.get() == 0) {
            running.set(false);
            // a connection that opened just now saw running == true and left the sweep to us
            if (open.get() == 0 || !running.compareAndSet(false, true)) {
                return;
            }
        }
        schedule(reactor, more ? Duration.ZERO : INTERVAL);
    }

    private void schedule(Reactor reactor, Duration delay) {
        try {
            reactor.schedule(delay, () -> tick(reactor));
        } catch (RejectedExecutionException closed) {
            running.set(false);
        }
    }
}
