package org.epoll4j;

import org.epoll4j.internal.EventBuffer;
import org.epoll4j.internal.IoFigures;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A reactor's statistics. The loop thread is the only writer; it writes with opaque stores (plain moves on x86_64
 * and aarch64, no fence on the hot path) and {@link Reactor#stats()} reads with opaque loads, so any thread sees
 * whole (never torn), never-decreasing values that lag the loop by at most a moment. The counters are not read as
 * one atomic cut: one may be a little more recent than another.
 */
final class ReactorCounters {
    private static final VarHandle ITERATIONS;
    private static final VarHandle WAITS;
    private static final VarHandle DISPATCHED;
    private static final VarHandle STALE;
    private static final VarHandle TASKS;
    private static final VarHandle TIMERS;
    private static final VarHandle FAILURES;
    private static final VarHandle STALLS;
    private static final VarHandle REGISTRATIONS;
    private static final VarHandle CAPACITY;
    private static final VarHandle CTLS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            ITERATIONS = l.findVarHandle(ReactorCounters.class, "loopIterations", long.class);
            WAITS = l.findVarHandle(ReactorCounters.class, "epollWaits", long.class);
            DISPATCHED = l.findVarHandle(ReactorCounters.class, "eventsDispatched", long.class);
            STALE = l.findVarHandle(ReactorCounters.class, "staleEventsDropped", long.class);
            TASKS = l.findVarHandle(ReactorCounters.class, "tasksRun", long.class);
            TIMERS = l.findVarHandle(ReactorCounters.class, "timersFired", long.class);
            FAILURES = l.findVarHandle(ReactorCounters.class, "handlerFailures", long.class);
            STALLS = l.findVarHandle(ReactorCounters.class, "edgeStallsReported", long.class);
            REGISTRATIONS = l.findVarHandle(ReactorCounters.class, "registrations", int.class);
            CAPACITY = l.findVarHandle(ReactorCounters.class, "eventCapacity", int.class);
            CTLS = l.findVarHandle(ReactorCounters.class, "epollCtls", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private long loopIterations;
    private long epollWaits;
    private long eventsDispatched;
    private long staleEventsDropped;
    private long tasksRun;
    private long timersFired;
    private long handlerFailures;
    private long edgeStallsReported;
    private int registrations;
    private int eventCapacity;
    private long epollCtls; // the one counter with several writers: registrations change from any thread

    // Writers: loop thread only (the single writer reads its own fields plainly).

    void iteration() {
        ITERATIONS.setOpaque(this, loopIterations + 1);
    }

    void epollWait() {
        WAITS.setOpaque(this, epollWaits + 1);
    }

    void dispatched(int n, int stale) {
        if (n != 0) {
            DISPATCHED.setOpaque(this, eventsDispatched + n);
        }
        if (stale != 0) {
            STALE.setOpaque(this, staleEventsDropped + stale);
        }
    }

    void tasksRun(int n) {
        if (n != 0) {
            TASKS.setOpaque(this, tasksRun + n);
        }
    }

    void timerFired() {
        TIMERS.setOpaque(this, timersFired + 1);
    }

    void handlerFailure() {
        FAILURES.setOpaque(this, handlerFailures + 1);
    }

    void edgeStall() {
        STALLS.setOpaque(this, edgeStallsReported + 1);
    }

    void registrations(int n) {
        REGISTRATIONS.setOpaque(this, n);
    }

    void eventCapacity(int n) {
        CAPACITY.setOpaque(this, n);
    }

    /** One epoll_ctl on a registration; any thread (an atomic add: next to the system call it costs nothing). */
    void epollCtl() {
        CTLS.getAndAdd(this, 1L);
    }

    /**
     * Any thread. {@code io} holds the connection layer's figures; the reactor's own direct memory (its event array,
     * {@link EventBuffer#EVENT_SIZE} bytes an entry, plus {@code ownDirectBytes} of scratch) is added to them here.
     */
    ReactorStats snapshot(long wakeupsWritten, IoFigures io, long ownDirectBytes) {
        int capacity = (int) CAPACITY.getOpaque(this);
        return new ReactorStats((long) ITERATIONS.getOpaque(this), (long) WAITS.getOpaque(this),
                (long) DISPATCHED.getOpaque(this), (long) STALE.getOpaque(this), wakeupsWritten,
                (long) TASKS.getOpaque(this), (long) TIMERS.getOpaque(this), (long) FAILURES.getOpaque(this),
                (long) STALLS.getOpaque(this), (int) REGISTRATIONS.getOpaque(this), capacity,
                (long) CTLS.getOpaque(this), io.connections, io.pausedConnections, io.queuedBytes, io.bytesRead,
                io.bytesWritten, io.directMemoryBytes + (long) capacity * EventBuffer.EVENT_SIZE + ownDirectBytes);
    }
}
