package org.epoll4j;

import java.util.concurrent.atomic.AtomicInteger;

/** A timer entry: deadline, FIFO tie-break, task and its place in the {@link TimerQueue} heap. */
final class ScheduledTask extends AtomicInteger implements Timeout {
    private static final long serialVersionUID = 1L;
    static final int PENDING = 0;
    static final int CANCELLED = 1;
    static final int EXPIRED = 2;

    final Reactor reactor;
    final long deadlineNanos;
    long seq;
    final Runnable task;
    int heapIndex = -1;

    ScheduledTask(Reactor reactor, long deadlineNanos, Runnable task) {
        this.reactor = reactor;
        this.deadlineNanos = deadlineNanos;
        this.task = task;
    }

    boolean before(ScheduledTask o) {
        long d = deadlineNanos - o.deadlineNanos;
        return d < 0 || (d == 0 && seq < o.seq);
    }

    /** Moves PENDING to EXPIRED; false if it was cancelled meanwhile. */
    boolean expire() {
        return compareAndSet(PENDING, EXPIRED);
    }

    @Override
    public boolean cancel() {
        if (!compareAndSet(PENDING, CANCELLED)) {
            return false;
        }
        reactor.timerCancelled(this);
        return true;
    }

    @Override
    public boolean isCancelled() {
        return get() == CANCELLED;
    }

    @Override
    public boolean isExpired() {
        return get() == EXPIRED;
    }

    @Override
    public String toString() {
        return "Timeout[" + (get() == PENDING ? "pending" : get() == CANCELLED ? "cancelled" : "expired") + "]";
    }
}
