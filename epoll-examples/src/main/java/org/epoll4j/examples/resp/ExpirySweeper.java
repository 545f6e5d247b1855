package org.epoll4j.examples.resp;

import org.epoll4j.Reactor;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;

/**
 * Deletes expired keys nobody asks for, as Redis's active expire cycle does, whether or not clients are connected:
 * a timer on one reactor fires when the earliest deadline of any database comes (at most every {@link #INTERVAL}),
 * deletes up to {@link #BUDGET} expired keys, and when it used its whole budget comes back at once (after the I/O
 * waiting meanwhile). With no key to expire no timer is pending, so an idle server's reactors stay quiet. Keys
 * created with a deadline wake it ({@link #wake}), under the store's lock.
 */
final class ExpirySweeper {
    static final long INTERVAL = 100;
    static final int BUDGET = 1000;

    private final Store store;
    private Reactor reactor;
    /** When the pending tick fires ({@link Keyspace#now()}'s clock), or 0 if none is pending. */
    private long scheduledAt;
    private long lastTick;
    /** Ticks of an older generation were overtaken by an earlier one and do nothing. */
    private long generation;

    ExpirySweeper(Store store) {
        this.store = store;
        for (Keyspace k : store.dbs) {
            k.onDeadline = this::wake;
        }
    }

    /** The reactor whose timers run the sweep (set once, before the first connection). */
    synchronized void use(Reactor r) {
        if (reactor == null) {
            reactor = r;
        }
    }

    /** A key got the deadline {@code at}: make sure a tick comes by then (or {@link #INTERVAL} after the last). */
    void wake(long at) {
        long target = Math.max(at, lastTick + INTERVAL);
        if (scheduledAt == 0 || target < scheduledAt) {
            schedule(target);
        }
    }

    private void schedule(long at) {
        Reactor r;
        synchronized (this) {
            r = reactor;
        }
        if (r == null) {
            return;
        }
        long gen = ++generation;
        scheduledAt = at;
        try {
            r.schedule(Duration.ofMillis(Math.max(0, at - Keyspace.now())), () -> tick(gen));
        } catch (RejectedExecutionException closed) {
            scheduledAt = 0; // the server is stopping
        }
    }

    private void tick(long gen) {
        store.lock.lock();
        try {
            if (gen != generation) {
                return;
            }
            long now = Keyspace.now();
            lastTick = now;
            scheduledAt = 0;
            int budget = BUDGET;
            boolean more = false;
            long next = Keyspace.NO_TTL;
            for (Keyspace k : store.dbs) {
                more |= k.sweep(now, budget);
                long d = k.nextDeadline();
                if (d != Keyspace.NO_TTL && (next == Keyspace.NO_TTL || d < next)) {
                    next = d;
                }
            }
            if (more) {
                schedule(now);
            } else if (next != Keyspace.NO_TTL) {
                schedule(Math.max(next, now + INTERVAL));
            }
        } finally {
            store.lock.unlock();
        }
    }
}
