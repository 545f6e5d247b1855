package org.epoll4j;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The blocked-loop watchdog: one daemon thread ({@value #THREAD_NAME}) for every reactor in the process built with
 * {@link Reactor.Builder#blockedLoopThreshold}. A loop stamps the time its iteration started (and clears the stamp
 * while it sleeps in epoll_wait or is not running); the watchdog, every quarter of the smallest threshold, reports a
 * stamp older than its reactor's threshold with the loop thread's stack, once per stamp, so once per stall. The
 * thread starts with the first watched reactor and ends when no reactor is watched.
 */
final class LoopWatchdog {
    static final String THREAD_NAME = "epoll4j-watchdog";
    private static final long MIN_PERIOD = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_PERIOD = TimeUnit.SECONDS.toNanos(1);
    private static final Object LOCK = new Object();
    private static final List<Entry> WATCHED = new ArrayList<>();
    private static Thread thread;
    private static volatile long checks;

    private LoopWatchdog() {
    }

    private static final class Entry {
        final WeakReference<Reactor> reactor;
        final long threshold;
        long reported; // the stamp last reported: one warning per stall

        Entry(Reactor r, long threshold) {
            this.reactor = new WeakReference<>(r);
            this.threshold = threshold;
        }
    }

    static void watch(Reactor r, long thresholdNanos) {
        synchronized (LOCK) {
            WATCHED.add(new Entry(r, thresholdNanos));
            if (thread == null) {
                thread = new Thread(LoopWatchdog::run, THREAD_NAME);
                thread.setDaemon(true);
                thread.start();
            }
            LOCK.notifyAll(); // a smaller threshold may need a shorter period
        }
    }

    static void unwatch(Reactor r) {
        synchronized (LOCK) {
            WATCHED.removeIf(e -> {
                Reactor x = e.reactor.get();
                return x == null || x == r;
            });
            LOCK.notifyAll();
        }
    }

    /** Completed rounds of checks (tests use it to know the watchdog has looked). */
    static long checks() {
        return checks;
    }

    private static void run() {
        List<Entry> round = new ArrayList<>();
        while (true) {
            long period = MAX_PERIOD;
            synchronized (LOCK) {
                for (Iterator<Entry> it = WATCHED.iterator(); it.hasNext(); ) {
                    Entry e = it.next();
                    if (e.reactor.get() == null) {
                        it.remove();
                    }
                }
                if (WATCHED.isEmpty()) {
                    thread = null;
                    return;
                }
                round.clear();
                round.addAll(WATCHED);
                for (Entry e : round) {
                    period = Math.min(period, Math.max(MIN_PERIOD, e.threshold / 4));
                }
            }
            for (Entry e : round) {
                try {
                    check(e);
                } catch (Throwable t) {
                    // a failing log handler must not stop the watchdog for every other reactor
                }
            }
            checks++;
            synchronized (LOCK) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(LOCK, period);
                } catch (InterruptedException ie) {
                    // only the JVM interrupts a daemon thread it does not own: go on
                }
            }
        }
    }

    private static void check(Entry e) {
        Reactor r = e.reactor.get();
        if (r == null) {
            return;
        }
        long since = r.busySince();
        if (since == 0 || since == e.reported) {
            return;
        }
        long blocked = System.nanoTime() - since;
        Thread loop = r.loopThread();
        if (blocked < e.threshold || loop == null) {
            return;
        }
        StackTraceElement[] stack = loop.getStackTrace();
        if (r.busySince() != since) {
            return; // it came back while we looked: that stack belongs to a later, healthy iteration
        }
        e.reported = since;
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement f : stack) {
            sb.append("\n\tat ").append(f);
        }
        String trace = sb.toString();
        long ms = TimeUnit.NANOSECONDS.toMillis(blocked);
        long limit = TimeUnit.NANOSECONDS.toMillis(e.threshold);
        Reactor.LOG.log(System.Logger.Level.WARNING, () -> r.name() + ": loop thread \"" + loop.getName()
                + "\" has not returned to epoll_wait for " + ms + " ms (blockedLoopThreshold " + limit
                + " ms); a handler, task or timer is blocking it. Loop thread stack:" + trace);
        ReactorEvents.blockedLoop(r.name(), loop, blocked, e.threshold, trace);
    }
}
