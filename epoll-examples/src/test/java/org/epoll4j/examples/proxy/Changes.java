package org.epoll4j.examples.proxy;

import java.util.concurrent.TimeUnit;

/**
 * A count of the events the proxy tests wait for, so that they wait on those events instead of polling: a proxy's
 * connection closed (ProxyStats' change hook, after the fd is closed), a new queue peak, a test upstream's socket
 * closed. A waiter reads the count, checks its condition, and if that does not hold yet waits for the count to move.
 */
final class Changes {
    /** The one instance the proxy tests share (the upstreams and the proxies report to it). */
    static final Changes ALL = new Changes();

    private long count;

    synchronized void bump() {
        count++;
        notifyAll();
    }

    synchronized long count() {
        return count;
    }

    /**
     * Waits until the count differs from {@code seen}, or until {@code deadlineNanos} ({@link System#nanoTime()}).
     *
     * @return false if the deadline came first
     */
    synchronized boolean awaitPast(long seen, long deadlineNanos) throws InterruptedException {
        while (count == seen) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }
}
