package org.epoll4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** A timer entry: deadline, FIFO tie-break, task, its place in the {@link TimerQueue} heap and its state. */
final class ScheduledTask implements Timeout {
    private static final int PENDING = 0;
    private static final int CANCELLED = 1;
    private static final int EXPIRED = 2;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(ScheduledTask.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final Reactor reactor;
    final long deadlineNanos;
    final Runnable task;
    long seq;
    int heapIndex = -1;
    private volatile int state = PENDING;

    ScheduledTask(Reactor reactor, long deadlineNanos, Runnable task) {
        this.reactor = reactor;
        this.deadlineNanos = deadlineNanos;
        this.task = task;
    }

    boolean before(ScheduledTask o) {
        long d = deadlineNanos - o.deadlineNanos;
        return d < 0 || (d == 0 && seq < o.seq);
    }

    boolean isPending() {
        return state == PENDING;
    }

    /** Moves PENDING to EXPIRED; false if it was cancelled meanwhile. */
    boolean expire() {
        return STATE.compareAndSet(this, PENDING, EXPIRED);
    }

    /** Ends a pending timer because its reactor closed; no reactor call-back. */
    void cancelOnClose() {
        STATE.compareAndSet(this, PENDING, CANCELLED);
    }

    @Override
    public boolean cancel() {
        if (!STATE.compareAndSet(this, PENDING, CANCELLED)) {
            return false;
        }
        reactor.timerCancelled(this);
        return true;
    }

    @Override
    public boolean isCancelled() {
        return state == CANCELLED;
    }

    @Override
    public boolean isExpired() {
        return state == EXPIRED;
    }

    @Override
    public String toString() {
        int s = state;
        return "Timeout[" + (s == PENDING ? "pending" : s == CANCELLED ? "cancelled" : "expired") + "]";
    }
}
