package org.epoll4j;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * POSIX signals delivered on a reactor's thread (libuv's {@code uv_signal}): a {@link Listener} hears how many of
 * each watched signal arrived since it last heard, so a burst of signals is one call, and a signal is never handled
 * on the thread it interrupted.
 *
 * <p><b>Why not signalfd alone.</b> {@code signalfd(2)} only sees a signal that is blocked in every thread that could
 * receive it: the kernel hands a process-directed signal to any thread that does not block it. A JVM has threads
 * that epoll4j did not start and whose masks it cannot change (GC, compiler, the JVM's signal dispatcher, the
 * launcher's primordial thread), so a {@code kill -USR1 <pid>} would reach one of them and run the signal's default
 * action (for {@code SIGUSR1}: end the process) before any signalfd saw it. The watcher therefore installs the JVM's
 * own handler for the signal (the one {@code sun.misc.Signal} uses: it is async-signal-safe and runs in any thread),
 * which wakes the JVM's signal dispatcher thread; that thread only counts the signal and, on the first since the
 * last delivery, hands one task to the reactor. Everything the listener does runs on the reactor's thread.
 *
 * <p>A process started with {@code SIGHUP}, {@code SIGINT} or {@code SIGTERM} ignored ({@code nohup}, a shell's
 * background job) keeps it ignored: the JVM refuses to install a handler for it, so the watcher leaves that signal
 * out of {@link #signals()} and logs a WARNING (and {@code open} fails if no signal is left).
 *
 * <p>One watcher per signal per process: the JVM keeps one handler per signal. {@link #close()} puts back the
 * handler that was there before (for {@code HUP}/{@code INT}/{@code TERM}, the JVM's shutdown trigger). The signals
 * the JVM uses itself cannot be watched: see {@link UnixSignal}.
 */
public final class SignalWatcher implements AutoCloseable {
    /** Receives signals on the reactor's thread. */
    @FunctionalInterface
    public interface Listener {
        /**
         * {@code count} more of {@code signal} arrived since the last call for it (at least 1).
         *
         * @param signal which
         * @param count  how many arrived (the kernel may already have merged a burst into fewer)
         * @throws Exception any failure: the watcher closes and {@link #onClosed} gets it
         */
        void onSignal(UnixSignal signal, int count) throws Exception;

        /**
         * The watcher ended: its signals have their previous handlers back.
         *
         * @param cause {@code null} after {@link SignalWatcher#close()}; the listener's exception; a
         *              {@link ClosedReactorException} if the reactor closed first
         */
        default void onClosed(Throwable cause) {
        }
    }

    private static final System.Logger LOG = System.getLogger(SignalWatcher.class.getName());
    /** Which watcher owns each signal now (one per process). */
    private static final Map<UnixSignal, SignalWatcher> OWNERS = new ConcurrentHashMap<>();

    private final Reactor reactor;
    private final Listener listener;
    private final EnumMap<UnixSignal, AtomicInteger> pending = new EnumMap<>(UnixSignal.class);
    private final EnumMap<UnixSignal, SignalHandler> previous = new EnumMap<>(UnixSignal.class);
    /** Set by the dispatcher thread when it hands the reactor a task; cleared by that task. */
    private final AtomicInteger scheduled = new AtomicInteger();
    private volatile boolean closed;

    private SignalWatcher(Reactor reactor, Set<UnixSignal> signals, Listener listener) {
        this.reactor = reactor;
        this.listener = listener;
        for (UnixSignal s : signals) {
            pending.put(s, new AtomicInteger());
        }
    }

    /**
     * Starts watching {@code signals}; from any thread.
     *
     * @param reactor  where the listener runs
     * @param signals  one or more signals
     * @param listener receives them
     * @return the watcher
     * @throws IllegalStateException    if another open watcher has one of the signals
     * @throws IllegalArgumentException if {@code signals} is empty, or the JVM refuses a signal
     * @throws ClosedReactorException   if the reactor is closed
     */
    public static SignalWatcher open(Reactor reactor, Set<UnixSignal> signals, Listener listener) {
        Objects.requireNonNull(reactor, "reactor");
        Objects.requireNonNull(listener, "listener");
        if (signals.isEmpty()) {
            throw new IllegalArgumentException("SignalWatcher.open: no signals given");
        }
        if (reactor.isClosed()) {
            throw new ClosedReactorException("SignalWatcher.open: the reactor is closed");
        }
        SignalWatcher w = new SignalWatcher(reactor, EnumSet.copyOf(signals), listener);
        for (UnixSignal s : EnumSet.copyOf(w.pending.keySet())) {
            SignalWatcher owner = OWNERS.putIfAbsent(s, w);
            if (owner != null) {
                w.release();
                throw new IllegalStateException(s.signalName() + " is already watched by " + owner);
            }
            try {
                SignalHandler before = Signal.handle(new Signal(s.name()), sig -> w.arrived(s));
                if (before == SignalHandler.SIG_IGN && (s == UnixSignal.HUP || s == UnixSignal.INT
                        || s == UnixSignal.TERM)) {
                    // HotSpot leaves a shutdown signal that the process ignores alone (nohup's SIGHUP, a background
                    // job's SIGINT) and answers SIG_IGN without installing anything: this watcher will not hear it.
                    OWNERS.remove(s, w);
                    w.pending.remove(s);
                    LOG.log(System.Logger.Level.WARNING, "{0} is ignored by this process (started under nohup, or in "
                            + "the background?) and the JVM keeps it ignored: the watcher on {1} will not hear it",
                            s.signalName(), reactor.name());
                    continue;
                }
                w.previous.put(s, before);
            } catch (IllegalArgumentException e) {
                OWNERS.remove(s, w);
                w.release();
                throw new IllegalArgumentException(s.signalName() + ": the JVM refuses to let it be handled ("
                        + e.getMessage() + ")", e);
            }
        }
        if (w.pending.isEmpty()) {
            throw new IllegalStateException("SignalWatcher.open: every signal of " + signals + " is ignored by this "
                    + "process, and the JVM keeps such shutdown signals ignored (started under nohup?)");
        }
        return w;
    }

    /** On the JVM's signal dispatcher thread: count, and wake the reactor once per batch. */
    private void arrived(UnixSignal s) {
        pending.get(s).incrementAndGet();
        if (scheduled.getAndSet(1) == 0) {
            try {
                reactor.execute(this::deliver);
            } catch (ClosedReactorException e) {
                closeOnce(e);
            }
        }
    }

    private void deliver() {
        scheduled.set(0); // before reading the counts: a signal arriving from now on schedules another delivery
        for (Map.Entry<UnixSignal, AtomicInteger> e : pending.entrySet()) {
            int n = e.getValue().getAndSet(0);
            if (n > 0 && !closed) {
                try {
                    listener.onSignal(e.getKey(), n);
                } catch (Throwable t) {
                    closeOnce(t);
                    return;
                }
            }
        }
    }

    /** @return the signals this watcher holds */
    public Set<UnixSignal> signals() {
        return EnumSet.copyOf(pending.keySet());
    }

    /** @return whether the watcher is still open */
    public boolean isOpen() {
        return !closed;
    }

    /**
     * Gives the signals their previous handlers back; the listener's {@code onClosed(null)} follows on the reactor's
     * thread (or at once if the reactor has closed). Idempotent; from any thread.
     */
    @Override
    public void close() {
        closeOnce(null);
    }

    private void closeOnce(Throwable cause) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        release();
        try {
            reactor.execute(() -> listener.onClosed(cause));
        } catch (ClosedReactorException e) {
            listener.onClosed(cause != null ? cause : e);
        }
    }

    private void release() {
        for (Map.Entry<UnixSignal, SignalHandler> e : previous.entrySet()) {
            Signal.handle(new Signal(e.getKey().name()), e.getValue());
        }
        previous.clear();
        OWNERS.values().removeIf(owner -> owner == this);
    }

    @Override
    public String toString() {
        return "SignalWatcher" + pending.keySet() + (closed ? " closed" : "") + " on " + reactor.name();
    }
}
